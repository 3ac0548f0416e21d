"""Bulk actions: one change to many leads, each through the flow or service that makes it for one.

    bulk_job_run       a small selection is worked here and now; a large one goes to django-q2
    bulk_job_work      what a worker does: chunks until the job ends or the time budget runs out
                       (then a fresh task goes on from the cursor)
    bulk_job_resume    a job that stopped (an error, a lost worker) goes on from its cursor

    reassign     realtycrm.flows.contacts.lead_reassign → leads.ownership.lead_set_owner (the
                 previous owner's alerts close; the new owner is not texted once per lead), then
                 the chunk's future appointments go to the new owner at once
                 (sequences.services.appointments.appointments_follow_owner)
    stage        realtycrm.flows.contacts.stage_change (a person's stage stops automation); lost:
                 the chunk's future appointments are cancelled at once, the leads not told
    tag_add,     leads.services.leads_tag_add / leads_tag_remove, a chunk at a time
    tag_remove
    pause,       sequences.services.automation.automation_pause / automation_resume (a lead at a
    resume       stage that stops automation is not resumed, as on its page)
    track        sequences.services.enrollment.enrollment_route: the old enrolment stops, the
                 new track starts (no second acknowledgment), "Nurture track changed"

Each chunk is one transaction holding the job's row lock: the leads' changes, their timeline
events (one bulk insert, "Bulk: …", data["bulk"] = the job) and the job's cursor and counts
commit together. A worker that dies mid-chunk leaves nothing of it, and the next one (a
redelivered task, or Resume) starts after the cursor, so no lead is changed twice; two workers
given the same job take turns. One lead's failure undoes that lead only (the chunk is worked
again lead by lead, each in a savepoint), is counted and kept with why, and the rest go on.
"""

import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from leads import bulk
from leads.models import BulkJob, Lead, LeadEvent, Stage, Tag
from leads.selectors import assignable_users
from leads.services import (
    EventBatch,
    lead_event_record,
    lead_events_batched,
    leads_tag_add,
    leads_tag_remove,
)
from sequences.models import Track
from sequences.services.appointments import (
    appointments_cancel_for_lost,
    appointments_follow_owner,
)
from sequences.services.automation import automation_pause, automation_resume
from sequences.services.enrollment import STOP_STAGES, enrollment_route

from .contacts import lead_reassign, stage_change

logger = logging.getLogger(__name__)
Action = BulkJob.Action
Status = BulkJob.Status
MAX_ERRORS_KEPT = 20


class JobTargetGone(Exception):
    """What the job was to apply is gone (the new owner can no longer take leads, the tag or
    the track was deleted): the job stops and says so."""


@dataclass
class ChunkResult:
    changed: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)


# --- Running a job -------------------------------------------------------------------------------


def bulk_job_run(job: BulkJob) -> BulkJob:
    """Up to BULK_SYNC_LIMIT leads: worked now, in this request. More: queued for a worker once
    the job is committed; the page polls its progress."""
    if job.total <= settings.BULK_SYNC_LIMIT:
        bulk_job_work(job.pk, budget_seconds=float("inf"))
        job.refresh_from_db()
    else:
        pk = job.pk
        transaction.on_commit(lambda: bulk_job_queue(pk))
    return job


def bulk_job_queue(job_pk: int) -> None:
    async_task("leads.tasks.bulk_job_work", job_pk, task_name=f"bulk-{job_pk}")


def bulk_job_resume(job: BulkJob) -> bool:
    """Go on from the cursor: a job an error stopped, or one whose worker was lost. False when
    it has finished."""
    updated = BulkJob.objects.filter(
        pk=job.pk, status__in=[Status.FAILED, Status.QUEUED, Status.RUNNING]
    ).update(status=Status.QUEUED, error="", updated_at=timezone.now())
    if updated:
        pk = job.pk
        transaction.on_commit(lambda: bulk_job_queue(pk))
    return bool(updated)


def bulk_job_work(job_pk: int, *, budget_seconds: float | None = None) -> bool:
    """The job's chunks, one transaction each, until it ends (False) or the time budget runs
    out (True: more to do). An error that is not one lead's stops the job and is kept on it,
    never raised to the queue (Resume goes on from the cursor)."""
    budget = settings.BULK_TASK_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    try:
        while True:
            if not _step(job_pk):
                return False
            if time.monotonic() >= deadline:
                return True
    except JobTargetGone as gone:
        _fail(job_pk, str(gone))
    except Exception as error:
        logger.exception("Bulk job %s failed", job_pk)
        _fail(job_pk, f"{type(error).__name__}: {error}")
    return False


def _step(job_pk: int) -> bool:
    """One chunk of the job, in one transaction; False when there is nothing more to do."""
    with transaction.atomic():
        job = (
            BulkJob.objects.select_for_update(of=("self",))
            .select_related("created_by__agent")
            .filter(pk=job_pk)
            .first()
        )
        if job is None or not job.is_working:
            return False
        actor = job.created_by
        refused = "The person who asked for it is gone." if actor is None else ""
        refused = refused or bulk.bulk_refused(actor, job.action)
        if refused:
            raise JobTargetGone(refused)
        leads, cursor, passed_over = bulk.job_next_chunk(job, settings.BULK_CHUNK_SIZE)
        if cursor == job.cursor:
            _finish(job)
            return False

        def reload() -> list[Lead]:
            return bulk.job_next_chunk(job, settings.BULK_CHUNK_SIZE)[0]

        with lead_events_batched(data={"bulk": job.pk}) as batch:
            result = ACTIONS[job.action](leads, actor, _target(job), batch, reload)
        _record(job, leads, cursor, passed_over, result)
    return True


def _record(job: BulkJob, leads, cursor: int, passed_over: int, result: ChunkResult) -> None:
    job.cursor = cursor
    job.status = Status.RUNNING
    job.done += len(leads) - len(result.failures)
    job.changed += result.changed
    job.failed += len(result.failures) + passed_over
    room = MAX_ERRORS_KEPT - len(job.errors)
    job.errors = [*job.errors, *[[pk, why] for pk, why in result.failures][: max(room, 0)]]
    if passed_over and len(job.errors) < MAX_ERRORS_KEPT:
        job.errors.append([None, f"{passed_over} ticked leads are no longer yours to change"])
    job.save(
        update_fields=["cursor", "status", "done", "changed", "failed", "errors", "updated_at"]
    )


def _finish(job: BulkJob) -> None:
    job.status = Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at", "updated_at"])


def _fail(job_pk: int, why: str) -> None:
    BulkJob.objects.filter(pk=job_pk).update(
        status=Status.FAILED, error=why[:2000], updated_at=timezone.now()
    )


# --- What each action does ------------------------------------------------------------------------


def _target(job: BulkJob):
    """The owner, stage, tag or track the job applies, loaded once per chunk."""
    params = job.params
    if job.action == Action.REASSIGN:
        owner = assignable_users().filter(pk=params.get("owner")).first()
        if owner is None:
            raise JobTargetGone("The new owner can no longer take leads.")
        return owner
    if job.action == Action.STAGE:
        if params.get("stage") not in Stage.values:
            raise JobTargetGone("That stage does not exist.")
        return params
    if job.action in (Action.TAG_ADD, Action.TAG_REMOVE):
        tag = Tag.objects.filter(pk=params.get("tag")).first()
        if tag is None:
            raise JobTargetGone("The tag was deleted.")
        return tag
    if job.action == Action.TRACK:
        track = Track.objects.filter(pk=params.get("track")).first()
        if track is None:
            raise JobTargetGone("The track was deleted.")
        return track
    return params


def _each_lead(change, then=None):
    """An action applied lead by lead; a lead changed when its change put an event on its
    timeline. `then(changed_leads, actor, target)`: what is done for the chunk's changed leads
    together (their appointments: one query for the chunk, not one per lead). The whole chunk
    is tried in one savepoint (the usual case: nothing fails, and a lead costs no savepoint of
    its own); if a lead fails, that attempt is undone, the chunk's leads are read again and
    each gets a savepoint, so the failure undoes that lead's change and events only, and is
    kept with why."""

    def run(leads, actor, target, batch: EventBatch, reload) -> ChunkResult:
        start = batch.mark()
        try:
            with transaction.atomic():
                return _apply(change, then, leads, actor, target, batch, isolate=False)
        except Exception:
            logger.info("A lead of a bulk chunk failed: working the chunk lead by lead")
        batch.discard_from(start)
        # The failed attempt changed these objects in memory (an owner, a stage): read them again.
        return _apply(change, then, reload(), actor, target, batch, isolate=True)

    return run


def _apply(change, then, leads, actor, target, batch: EventBatch, *, isolate: bool) -> ChunkResult:
    result = ChunkResult()
    changed = []
    for lead in leads:
        mark = batch.mark()
        if not isolate:
            change(lead, actor, target)
        else:
            try:
                with transaction.atomic():
                    change(lead, actor, target)
                    if then is not None and batch.mark() > mark:
                        then([lead], actor, target)
            except Exception as error:  # one lead's problem must not stop the other thousands
                batch.discard_from(mark)
                result.failures.append((lead.pk, f"{type(error).__name__}: {error}"[:300]))
                continue
        if batch.mark() > mark:
            result.changed += 1
            changed.append(lead)
    if then is not None and not isolate and changed:
        then(changed, actor, target)
    return result


def _reassign(lead: Lead, actor, owner) -> None:
    lead_reassign(lead, owner, actor=actor, interrupt=False, appointments=False)


def _reassign_appointments(leads: list[Lead], actor, owner) -> None:
    appointments_follow_owner(leads, owner, actor=actor)


def _stage(lead: Lead, actor, params: dict) -> None:
    stage_change(
        lead, params["stage"], actor=actor, note=params.get("note", ""), appointments=False
    )


def _stage_appointments(leads: list[Lead], actor, params: dict) -> None:
    if params["stage"] == Stage.LOST:
        appointments_cancel_for_lost(leads, actor=actor)


def _pause(lead: Lead, actor, params: dict) -> None:
    automation_pause(lead, actor=actor, reason=params.get("reason", ""))


def _resume(lead: Lead, actor, params: dict) -> None:
    if lead.stage not in STOP_STAGES:  # as on the lead's page: automation stays off
        automation_resume(lead, actor=actor)


def _track(lead: Lead, actor, track: Track) -> None:
    """The lead follows `track` from its start (lead_route's format on the timeline)."""
    previous = lead.nurture_track
    if previous is not None and previous.pk == track.pk:
        return
    enrollment_route(lead, track, is_new=False, changed=True, actor=actor)
    lead_event_record(
        lead,
        LeadEvent.Kind.TRACK_CHANGED,
        actor=actor,
        summary=f"{previous or 'No track'} → {track}",
        data={"from": previous.key if previous else None, "to": track.key},
    )


def _tags(change):
    """Tags change a chunk at a time: a few queries for the whole chunk."""

    def run(leads, actor, tag: Tag, batch: EventBatch, reload) -> ChunkResult:
        return ChunkResult(changed=len(change(leads, tag, actor=actor)))

    return run


ACTIONS = {
    Action.REASSIGN: _each_lead(_reassign, then=_reassign_appointments),
    Action.STAGE: _each_lead(_stage, then=_stage_appointments),
    Action.TAG_ADD: _tags(leads_tag_add),
    Action.TAG_REMOVE: _tags(leads_tag_remove),
    Action.PAUSE: _each_lead(_pause),
    Action.RESUME: _each_lead(_resume),
    Action.TRACK: _each_lead(_track),
}

"""Enrolment: the track a lead follows, and the scheduler that moves it along.

    enrollment_route          from realtycrm.flows.routing.lead_route: enrol a new lead, or move a
                              lead whose intent or track changed (old enrolment stops, new one
                              starts without a second acknowledgment)
    enrollment_start          start a track; its due steps (the acknowledgment) are written now
    enrollment_advance        materialise what is due: messages, agents' tasks, a move
    enrollment_stop           end a lead's automation for good
    enrollments_advance_due   the scheduler's pass; scheduler_tick runs it every minute

The lead's `nurture_track` is a cache of its current track, written here only (leads.services.
lead_set_track).
"""

import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from leads.models import Intent, Lead, LeadEvent, Stage
from leads.services import lead_event_record, lead_set_track

from .. import outbox, schedule
from ..models import Enrollment, Message, Step, Task, Track
from ..selectors import track_steps
from .steps import acknowledgment_for_new_lead, step_outgoing, step_task

# A lead at one of these stages is in a person's hands: automation stops.
STOP_STAGES = (Stage.APPOINTMENT, Stage.CLIENT, Stage.CLOSED, Stage.LOST)


def _facts(enrollment: Enrollment) -> schedule.Facts:
    return schedule.Facts(
        intent=enrollment.intent,
        has_conversation=enrollment.lead.engaged_at is not None,
        acknowledge=enrollment.acknowledge,
    )


def open_enrollment(lead: Lead) -> Enrollment | None:
    """The lead's open (active or paused) enrolment, locked for this transaction."""
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .filter(lead=lead, status__in=Enrollment.OPEN)
        .select_related("track")
        .first()
    )


def enrollment_route(
    lead: Lead,
    track: Track | None,
    *,
    is_new: bool,
    changed: bool,
    actor=None,
    source: str | None = None,
    unenrolled: bool = False,
) -> Enrollment | None:
    """Routing decided the lead's track (realtycrm.flows.routing, in its transaction).

    The lead's track becomes `track`. A new lead is enrolled in it and its acknowledgment written
    to the outbox now (sent after commit): the track's, else its source's standard one. A lead whose intent or track changed leaves its
    enrolment and starts the new track from the beginning, without a second acknowledgment.
    `source`: the form it came through when that is not the lead's own source (a dormant
    contact re-engaging through the valuation form is acknowledged as a valuation request).
    `unenrolled`: the lead was created in this transaction, so it has no enrolment to look for
    (and when it was inserted with this track, there is nothing to write on it)."""
    if not (unenrolled and lead.nurture_track_id == (track.pk if track else None)):
        lead_set_track(lead, track)
    if lead.stage in STOP_STAGES:
        return None
    current = None if unenrolled else open_enrollment(lead)
    if is_new:
        if current is not None:
            return current
        enrollment = enrollment_start(lead, track, source=source) if track is not None else None
        # Whatever track it entered (one without a first-day step, or none), it is acknowledged.
        acknowledgment_for_new_lead(lead, enrollment, source=source)
        return enrollment
    if not changed:
        return current
    paused = current is not None and current.status == Enrollment.Status.PAUSED
    if current is not None:
        why = f"Moved to {track}" if track else "No track for the new intent"
        enrollment_end(current, Enrollment.Status.STOPPED, why, cancel_tasks=True)
    if track is None:
        return None
    enrollment = enrollment_start(lead, track, acknowledge=False)
    if paused:  # they are talking to an agent: the new track waits for a resume too
        enrollment_pause(enrollment, current.status_reason)
    return enrollment


def enrollment_start(
    lead: Lead,
    track: Track,
    *,
    intent: str | None = None,
    acknowledge: bool = True,
    now=None,
    source: str | None = None,
) -> Enrollment:
    """Enrol the lead and materialise the steps due at once (the acknowledgment, the first
    task). `acknowledge=False` when the lead arrives by a move: it was acknowledged already."""
    now = now or timezone.now()
    intent = intent or lead.intent
    enrollment = Enrollment(
        lead=lead,
        track=track,
        # A lead never segmented (an import) follows the gentlest column.
        intent=Intent.LONG_TERM if intent == Intent.UNKNOWN else intent,
        acknowledge=acknowledge,
        started_at=now,
        clock_start=now,
        next_due_at=now,
    )
    start = _progress(enrollment)
    planned = _progress_planned(enrollment, now)
    enrollment.save(force_insert=True)
    # The row says where it will stand; the steps are materialised from where it starts.
    (
        enrollment.done_through_minutes,
        enrollment.next_due_at,
        enrollment.status,
        enrollment.status_reason,
        enrollment.ended_at,
    ) = start
    enrollment_advance(enrollment, now=now, source=source, fresh=True, planned=planned)
    return enrollment


def _progress_planned(enrollment: Enrollment, now) -> tuple | None:
    """Where a new enrolment's progress stands once the steps due at once are materialised
    (what enrollment_advance would write after them), set on it before its INSERT so the row is
    written with it. None when that is not known beforehand (a move step is due, or the lead's
    stage stops automation): enrollment_advance writes it then."""
    if enrollment.lead.stage in STOP_STAGES:
        return None
    specs, _ = track_steps(enrollment.track_id, None)
    due = schedule.due_steps(
        specs,
        clock_start=enrollment.clock_start,
        done_through_minutes=enrollment.done_through_minutes,
        now=now,
    )
    if any(spec.kind == Step.Kind.MOVE for spec in due):
        return None
    if due:
        enrollment.done_through_minutes = due[-1].offset_minutes
    enrollment.next_due_at = schedule.next_due_at(
        specs,
        clock_start=enrollment.clock_start,
        done_through_minutes=enrollment.done_through_minutes,
    )
    if enrollment.next_due_at is None:
        enrollment.status = Enrollment.Status.COMPLETED
        enrollment.status_reason = "Reached the end of the track"
        enrollment.ended_at = now
    return _progress(enrollment)


def _progress(enrollment: Enrollment) -> tuple:
    return (
        enrollment.done_through_minutes,
        enrollment.next_due_at,
        enrollment.status,
        enrollment.status_reason,
        enrollment.ended_at,
    )


def enrollment_advance(
    enrollment: Enrollment,
    *,
    now=None,
    cache: dict | None = None,
    source: str | None = None,
    fresh: bool = False,
    planned: tuple | None = None,
) -> None:
    """Materialise every step of the enrolment that is due and not done, in order (its
    acknowledgment matched to `source` when the enrolment starts with one: enrollment_route).

    Messages and tasks carry keys made of the enrolment and the step, so running this twice,
    or from two schedulers at once, never makes a second one. The due messages are written
    together (outbox.messages_queue); `fresh`: the enrolment was created in this transaction,
    so no key of its can exist yet; `planned`: it was inserted with the progress these steps
    leave (_progress_planned), so there is nothing left to write on it."""
    now = now or timezone.now()
    if enrollment.status != Enrollment.Status.ACTIVE:
        return
    lead = enrollment.lead
    if lead.stage in STOP_STAGES:
        enrollment_stop(lead, reason=f"Stage is {Stage(lead.stage).label}")
        return
    specs, steps = track_steps(enrollment.track_id, cache)
    due = schedule.due_steps(
        specs,
        clock_start=enrollment.clock_start,
        done_through_minutes=enrollment.done_through_minutes,
        now=now,
    )
    facts = _facts(enrollment)
    skipped = schedule.superseded([spec for spec in due if schedule.applies(spec, facts)])
    outgoing = []
    for spec in due:
        enrollment.done_through_minutes = spec.offset_minutes
        if not schedule.applies(spec, facts) or spec.id in skipped:
            continue
        step = steps[spec.id]
        if spec.sends_message:
            message = step_outgoing(
                lead,
                step,
                idempotency_key=f"enrollment:{enrollment.pk}:step:{step.pk}:{step.kind}",
                enrollment=enrollment,
                now=now,
                source=source if step.is_acknowledgment else None,
            )
            if message is not None:
                outgoing.append(message)
        elif spec.kind == Step.Kind.TASK:
            step_task(enrollment, step, now, key_is_new=fresh)
        elif spec.kind == Step.Kind.MOVE:
            outbox.messages_queue(outgoing, keys_are_new=fresh)
            enrollment.save(update_fields=["done_through_minutes"])
            _enrollment_move(enrollment, step, now)
            return
    outbox.messages_queue(outgoing, keys_are_new=fresh)
    enrollment.next_due_at = schedule.next_due_at(
        specs,
        clock_start=enrollment.clock_start,
        done_through_minutes=enrollment.done_through_minutes,
    )
    fields = ["done_through_minutes", "next_due_at"]
    if enrollment.next_due_at is None:
        enrollment.status = Enrollment.Status.COMPLETED
        enrollment.status_reason = "Reached the end of the track"
        enrollment.ended_at = now
        fields += ["status", "status_reason", "ended_at"]
    if planned is not None and _progress(enrollment) == planned:
        return
    enrollment.save(update_fields=fields)


def _enrollment_move(enrollment: Enrollment, step: Step, now) -> Enrollment:
    """A move step: this enrolment completes and the lead starts the other track (no second
    acknowledgment). The lead's nurture track follows, on the timeline."""
    lead = enrollment.lead
    target = step.move_to
    enrollment_end(enrollment, Enrollment.Status.COMPLETED, f"Moved on to {target}")
    previous = lead.nurture_track
    lead_set_track(lead, target)
    lead_event_record(
        lead,
        LeadEvent.Kind.TRACK_CHANGED,
        summary=f"{previous or 'No track'} → {target} ({enrollment.track}, {step.offset_label})",
        data={"from": previous.key if previous else None, "to": target.key, "step": step.pk},
        occurred_at=now,
    )
    return enrollment_start(
        lead, target, intent=step.move_intent or enrollment.intent, acknowledge=False, now=now
    )


def enrollment_end(
    enrollment: Enrollment, status: str, reason: str, *, cancel_tasks: bool = False
) -> None:
    """Close an enrolment: nothing it queued is sent any more; optionally its open tasks go."""
    now = timezone.now()
    enrollment.status = status
    enrollment.status_reason = reason[:200]
    enrollment.ended_at = now
    enrollment.next_due_at = None
    enrollment.save(update_fields=["status", "status_reason", "ended_at", "next_due_at"])
    _unsend_queued(enrollment, reason)
    if cancel_tasks:
        Task.objects.filter(enrollment=enrollment, status=Task.Status.OPEN).update(
            status=Task.Status.CANCELLED, done_at=now, outcome=reason[:200]
        )


def enrollment_pause(enrollment: Enrollment, why: str) -> None:
    enrollment.status = Enrollment.Status.PAUSED
    enrollment.status_reason = why[:200]
    enrollment.paused_at = timezone.now()
    enrollment.save(update_fields=["status", "status_reason", "paused_at"])
    _unsend_queued(enrollment, why)


def _unsend_queued(enrollment: Enrollment, reason: str) -> None:
    Message.objects.filter(enrollment=enrollment, status=Message.Status.QUEUED).update(
        status=Message.Status.SUPPRESSED, status_reason=f"Automation stopped: {reason}"[:255]
    )


def enrollment_stop(lead: Lead, *, reason: str, actor=None) -> Enrollment | None:
    """End the lead's automation for good: nothing queued goes, the track's open tasks close."""
    with transaction.atomic():
        enrollment = open_enrollment(lead)
        if enrollment is None:
            return None
        enrollment_end(enrollment, Enrollment.Status.STOPPED, reason, cancel_tasks=True)
        lead_event_record(
            lead,
            LeadEvent.Kind.AUTOMATION_STOPPED,
            actor=actor,
            summary=f"{enrollment.track} stopped: {reason}",
            data={"enrollment": enrollment.pk},
        )
        return enrollment


def enrollments_advance_due(*, now=None, limit: int = 1000) -> int:
    """Materialise due steps for every active enrolment whose next step is due. What is due
    comes from the database (the enrolment's clock and progress), so after hours without a
    scheduler each step still happens exactly once. Returns how many enrolments moved."""
    now = now or timezone.now()
    due = list(
        Enrollment.objects.filter(status=Enrollment.Status.ACTIVE, next_due_at__lte=now)
        .order_by("next_due_at")
        .values_list("pk", flat=True)[:limit]
    )
    cache: dict = {}
    for pk in due:
        with transaction.atomic():
            enrollment = (
                Enrollment.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=pk, status=Enrollment.Status.ACTIVE, next_due_at__lte=now)
                .select_related("lead", "lead__owner", "lead__nurture_track", "track")
                .first()
            )
            if enrollment is not None:
                enrollment_advance(enrollment, now=now, cache=cache)
    return len(due)


def scheduler_tick() -> dict:
    """Every minute (sequences.tasks.sequences_tick, registered by setup_schedules): due steps
    become messages and tasks, stuck sends are recovered, and workers drain due messages."""
    advanced = enrollments_advance_due()
    recovered = outbox.messages_recover()
    due = outbox.messages_due_count()
    drains = min(settings.Q_CLUSTER.get("workers", 1), math.ceil(due / 100)) if due else 0
    for _ in range(drains):
        async_task("sequences.tasks.messages_dispatch_due", task_name="messages-drain")
    return {"advanced": advanced, "recovered": recovered, "due": due, "drains": drains}

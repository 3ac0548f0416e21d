"""Writes for sequences. Every state change is one named function here.

Enrolment (the track a lead follows)
    enrollment_route          from leads.routing.lead_route: enrol a new lead, or move a lead
                              whose intent or track changed (old enrolment stops, new one starts
                              without a second acknowledgment)
    enrollment_start          start a track; its due steps (the acknowledgment) are written now
    enrollment_advance        materialise what is due: messages, agents' tasks, a move
    enrollments_advance_due   the scheduler's pass; scheduler_tick runs it every minute
    acknowledgment_for_reinquiry   a re-inquiry after the window gets a fresh acknowledgment
Automation
    automation_pause / automation_resume / automation_stop / automation_on_stage_change
Messages and tasks an agent acts on
    message_send_one_off (raises MessageBlocked), task_complete, task_snooze
Inbound and opt-outs
    reply_receive             every inbound text lands here: STOP, START, HELP, or a reply
    address_suppress, sms_opt_in, email_unsubscribe
"""

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from leads.models import Intent, Lead, LeadEvent, Stage
from leads.services import lead_change_stage, lead_event_record

from . import outbox, replies, schedule
from .models import Enrollment, Message, Step, Suppression, Task, Track
from .policy import lead_blocked_reason, on_date
from .rendering import brokerage_values, lead_values, render, render_for_lead, template_for
from .selectors import track_steps

logger = logging.getLogger(__name__)

# A lead at one of these stages is in a person's hands: automation stops.
STOP_STAGES = (Stage.APPOINTMENT, Stage.CLIENT, Stage.CLOSED, Stage.LOST)
REPLY_TASK_DUE = timedelta(minutes=15)


# --- Enrolment -----------------------------------------------------------------------------------


def _facts(enrollment: Enrollment) -> schedule.Facts:
    return schedule.Facts(
        intent=enrollment.intent,
        has_conversation=enrollment.lead.engaged_at is not None,
        acknowledge=enrollment.acknowledge,
    )


def _open_enrollment(lead: Lead) -> Enrollment | None:
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .filter(lead=lead, status__in=Enrollment.OPEN)
        .select_related("track")
        .first()
    )


def enrollment_route(lead: Lead, *, is_new: bool, changed: bool, actor=None) -> Enrollment | None:
    """Called by leads.routing.lead_route, in its transaction, after it set the lead's track.

    A new lead is enrolled in its track and its acknowledgment written to the outbox now (sent
    after commit). A lead whose intent or track changed leaves its enrolment and starts the new
    track from the beginning, without a second acknowledgment."""
    if lead.stage in STOP_STAGES:
        return None
    current = _open_enrollment(lead)
    if is_new:
        if current is None and lead.nurture_track_id:
            return enrollment_start(lead, lead.nurture_track)
        return current
    if not changed:
        return current
    track = lead.nurture_track
    paused = current is not None and current.status == Enrollment.Status.PAUSED
    if current is not None:
        why = f"Moved to {track}" if track else "No track for the new intent"
        _enrollment_end(current, Enrollment.Status.STOPPED, why, cancel_tasks=True)
    if track is None:
        return None
    enrollment = enrollment_start(lead, track, acknowledge=False)
    if paused:  # they are talking to an agent: the new track waits for a resume too
        _enrollment_pause(enrollment, current.status_reason)
    return enrollment


def enrollment_start(
    lead: Lead, track: Track, *, intent: str | None = None, acknowledge: bool = True, now=None
) -> Enrollment:
    """Enrol the lead and materialise the steps due at once (the acknowledgment, the first
    task). `acknowledge=False` when the lead arrives by a move: it was acknowledged already."""
    now = now or timezone.now()
    intent = intent or lead.intent
    enrollment = Enrollment.objects.create(
        lead=lead,
        track=track,
        # A lead never segmented (an import) follows the gentlest column.
        intent=Intent.LONG_TERM if intent == Intent.UNKNOWN else intent,
        acknowledge=acknowledge,
        started_at=now,
        clock_start=now,
        next_due_at=now,
    )
    enrollment_advance(enrollment, now=now)
    return enrollment


def enrollment_advance(enrollment: Enrollment, *, now=None, cache: dict | None = None) -> None:
    """Materialise every step of the enrolment that is due and not done, in order.

    Messages and tasks carry keys made of the enrolment and the step, so running this twice,
    or from two schedulers at once, never makes a second one."""
    now = now or timezone.now()
    if enrollment.status != Enrollment.Status.ACTIVE:
        return
    lead = enrollment.lead
    if lead.stage in STOP_STAGES:
        automation_stop(lead, reason=f"Stage is {Stage(lead.stage).label}")
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
    for spec in due:
        enrollment.done_through_minutes = spec.offset_minutes
        if not schedule.applies(spec, facts) or spec.id in skipped:
            continue
        step = steps[spec.id]
        if spec.sends_message:
            _message_for_step(enrollment, step, now)
        elif spec.kind == Step.Kind.TASK:
            _task_for_step(enrollment, step, now)
        elif spec.kind == Step.Kind.MOVE:
            enrollment.save(update_fields=["done_through_minutes"])
            _enrollment_move(enrollment, step, now)
            return
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
    enrollment.save(update_fields=fields)


def _message_for_step(enrollment: Enrollment, step: Step, now) -> Message | None:
    lead = enrollment.lead
    to, usable = _address(lead, step.kind)
    if not usable:
        return None
    rendered = render_for_lead(step.template_key, lead)
    if rendered is None:
        logger.warning(
            "Step %s names template %r, which does not exist", step.pk, step.template_key
        )
        return None
    return outbox.message_queue(
        channel=step.kind,
        to=to,
        subject=rendered.subject,
        body=rendered.body,
        idempotency_key=f"enrollment:{enrollment.pk}:step:{step.pk}:{step.kind}",
        purpose=Message.Purpose.ACKNOWLEDGMENT
        if step.is_acknowledgment
        else Message.Purpose.NURTURE,
        audience=Message.Audience.LEAD,
        lead=lead,
        enrollment=enrollment,
        step=step,
        scheduled_for=now,
    )


def _address(lead: Lead, channel: str) -> tuple[str, bool]:
    """Where a step's message goes, and whether to write it at all. A number that opted out
    or an address that unsubscribed gets nothing; consent is checked when the message is sent
    (intake records a new lead's consent right after routing it, in the same transaction), so
    a text without consent shows in the outbox as suppressed, with why."""
    if channel == Step.Kind.SMS:
        return lead.phone, bool(lead.phone and not lead.sms_opted_out_at)
    return lead.email, lead.can_email


def _task_for_step(enrollment: Enrollment, step: Step, now) -> Task | None:
    lead = enrollment.lead
    rendered = render_for_lead(step.template_key, lead)
    if rendered is None:
        logger.warning(
            "Step %s names template %r, which does not exist", step.pk, step.template_key
        )
        return None
    # Due relative to the enrolment's clock, not to when the scheduler got here.
    due_at = enrollment.clock_start + step.offset + timedelta(minutes=step.task_due_minutes)
    task, _ = Task.objects.get_or_create(
        idempotency_key=f"enrollment:{enrollment.pk}:step:{step.pk}",
        defaults={
            "lead": lead,
            "agent": lead.owner,
            "kind": step.task_kind,
            "title": rendered.subject[:200],
            "notes": rendered.body,
            "due_at": max(due_at, now),
            "created_at": now,
            "enrollment": enrollment,
            "step": step,
        },
    )
    return task


def _enrollment_move(enrollment: Enrollment, step: Step, now) -> Enrollment:
    """A move step: this enrolment completes and the lead starts the other track (no second
    acknowledgment). The lead's nurture track follows, on the timeline."""
    lead = enrollment.lead
    target = step.move_to
    _enrollment_end(enrollment, Enrollment.Status.COMPLETED, f"Moved on to {target}")
    previous = lead.nurture_track
    Lead.objects.filter(pk=lead.pk).update(nurture_track=target)
    lead.nurture_track = target
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


def _enrollment_end(
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


def _unsend_queued(enrollment: Enrollment, reason: str) -> None:
    Message.objects.filter(enrollment=enrollment, status=Message.Status.QUEUED).update(
        status=Message.Status.SUPPRESSED, status_reason=f"Automation stopped: {reason}"[:255]
    )


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


# Used when the lead's current track has no acknowledgment of its own (the nurture cycle).
DEFAULT_ACKNOWLEDGMENT = ((Step.Kind.SMS, "ack_sms"), (Step.Kind.EMAIL, "ack_email"))
IN_A_PERSONS_HANDS = (Stage.APPOINTMENT, Stage.CLIENT, Stage.CLOSED)


def acknowledgment_for_reinquiry(lead: Lead, *, source: str, submission_id=None) -> list[Message]:
    """A re-inquiry is acknowledged like a first inquiry, matched to the form just used
    (`source`), unless the lead got an acknowledgment within SEQUENCES_REACK_WINDOW_HOURS, its
    automation is paused (they are talking to an agent), or it is an appointment, a client or
    closed. A lead in the nurture cycle, or lost, that writes again is answered too."""
    window = timedelta(hours=settings.SEQUENCES_REACK_WINDOW_HOURS)
    recent = Message.objects.filter(
        lead=lead,
        purpose=Message.Purpose.ACKNOWLEDGMENT,
        created_at__gte=timezone.now() - window,
        status__in=[Message.Status.QUEUED, Message.Status.SENDING, Message.Status.SENT],
    )
    if lead.stage in IN_A_PERSONS_HANDS or recent.exists():
        return []
    enrollment = (
        Enrollment.objects.filter(lead=lead, status__in=Enrollment.OPEN)
        .select_related("track")
        .first()
    )
    if enrollment is not None and enrollment.status == Enrollment.Status.PAUSED:
        return []
    plan = []
    if enrollment is not None:
        specs, steps = track_steps(enrollment.track_id)
        facts = schedule.Facts(intent=enrollment.intent, acknowledge=True)
        plan = [
            (spec.kind, spec.template_key, steps[spec.id])
            for spec in schedule.ordered(specs)
            if spec.is_acknowledgment and schedule.applies(spec, facts)
        ]
    plan = plan or [(channel, key, None) for channel, key in DEFAULT_ACKNOWLEDGMENT]
    key = submission_id if submission_id is not None else uuid.uuid4().hex
    queued = []
    for channel, template_key, step in plan:
        to, usable = _address(lead, channel)
        rendered = render_for_lead(template_key, lead, source=source)
        if not usable or rendered is None:
            continue
        queued.append(
            outbox.message_queue(
                channel=channel,
                to=to,
                subject=rendered.subject,
                body=rendered.body,
                idempotency_key=f"reinquiry:{lead.pk}:{key}:{channel}",
                purpose=Message.Purpose.ACKNOWLEDGMENT,
                audience=Message.Audience.LEAD,
                lead=lead,
                enrollment=enrollment,
                step=step,
            )
        )
    return queued


# --- Automation ----------------------------------------------------------------------------------


def _who(actor) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "the system"


@transaction.atomic
def automation_pause(lead: Lead, *, actor, reason: str = "") -> Enrollment | None:
    """Stop sending the lead automated messages for now (a reply, or an agent's call). What
    was queued is not sent; the track's clock stops until automation_resume."""
    enrollment = _open_enrollment(lead)
    if enrollment is None or enrollment.status != Enrollment.Status.ACTIVE:
        return enrollment
    why = reason or f"Paused by {_who(actor)}"
    _enrollment_pause(enrollment, why)
    lead_event_record(
        lead,
        LeadEvent.Kind.AUTOMATION_PAUSED,
        actor=actor,
        summary=f"{enrollment.track} paused: {why}",
        data={"enrollment": enrollment.pk},
    )
    return enrollment


@transaction.atomic
def automation_resume(lead: Lead, *, actor) -> Enrollment | None:
    """Pick the track up where it stopped (its offsets move by the time spent paused); a lead
    with no open enrolment restarts its track, without a second acknowledgment."""
    now = timezone.now()
    enrollment = _open_enrollment(lead)
    if enrollment is not None and enrollment.status == Enrollment.Status.PAUSED:
        enrollment.clock_start += now - (enrollment.paused_at or now)
        specs, _ = track_steps(enrollment.track_id)
        enrollment.next_due_at = schedule.next_due_at(
            specs,
            clock_start=enrollment.clock_start,
            done_through_minutes=enrollment.done_through_minutes,
        )
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.status_reason = ""
        enrollment.paused_at = None
        enrollment.save()
        summary = f"{enrollment.track} resumed by {_who(actor)}"
    elif enrollment is None and lead.nurture_track_id and lead.stage not in STOP_STAGES:
        enrollment = enrollment_start(lead, lead.nurture_track, acknowledge=False, now=now)
        summary = f"{enrollment.track} restarted by {_who(actor)}"
    else:
        return enrollment
    lead_event_record(
        lead,
        LeadEvent.Kind.AUTOMATION_RESUMED,
        actor=actor,
        summary=summary,
        data={"enrollment": enrollment.pk},
    )
    return enrollment


def _enrollment_pause(enrollment: Enrollment, why: str) -> None:
    enrollment.status = Enrollment.Status.PAUSED
    enrollment.status_reason = why[:200]
    enrollment.paused_at = timezone.now()
    enrollment.save(update_fields=["status", "status_reason", "paused_at"])
    _unsend_queued(enrollment, why)


def automation_stop(lead: Lead, *, reason: str, actor=None) -> Enrollment | None:
    """End the lead's automation for good: nothing queued goes, the track's open tasks close."""
    with transaction.atomic():
        enrollment = _open_enrollment(lead)
        if enrollment is None:
            return None
        _enrollment_end(enrollment, Enrollment.Status.STOPPED, reason, cancel_tasks=True)
        lead_event_record(
            lead,
            LeadEvent.Kind.AUTOMATION_STOPPED,
            actor=actor,
            summary=f"{enrollment.track} stopped: {reason}",
            data={"enrollment": enrollment.pk},
        )
        return enrollment


def automation_on_stage_change(lead: Lead, stage: str, *, actor=None) -> None:
    """Called by leads.services.lead_change_stage: an appointment, a client, a closed or a lost
    lead is in a person's hands, so automation stops."""
    if stage in STOP_STAGES:
        automation_stop(lead, reason=f"stage changed to {Stage(stage).label}", actor=actor)


# --- One-off messages ----------------------------------------------------------------------------


class MessageBlocked(Exception):
    """A message that cannot be sent. `.reason` is a sentence to show the agent as it is."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


MAX_SMS_LENGTH = 1600


def message_send_one_off(
    lead: Lead, *, channel: str, body: str, subject: str = "", actor, idempotency_key=None
) -> Message:
    """An agent's own text or email to a lead, through the outbox.

    Raises MessageBlocked with a sentence the agent understands ("Sam opted out of texts on
    3 May", "No SMS consent on record", "No email address") when it cannot be sent. A text in
    the lead's quiet hours waits for the morning (the returned message's scheduled_for says
    when). Once sent it is a personal contact on the timeline: it counts as speed to lead and
    completes the agent's open task, which automated messages never do. Pass an
    idempotency_key (e.g. the form's token) to make a double submit send once."""
    body = (body or "").strip()
    if not body:
        raise MessageBlocked("Write a message first")
    if channel == Message.Channel.SMS and len(body) > MAX_SMS_LENGTH:
        raise MessageBlocked(f"A text can be at most {MAX_SMS_LENGTH:,} characters")
    blocked = lead_blocked_reason(outbox.lead_facts(lead), channel)
    if blocked:
        raise MessageBlocked(blocked)
    to = lead.phone if channel == Message.Channel.SMS else lead.email
    suppression = Suppression.objects.filter(channel=channel, address=to.lower()).first()
    if suppression is not None:
        raise MessageBlocked(suppression_sentence(suppression))
    now = timezone.now()
    scheduled_for = outbox.sms_allowed_from(to, now) if channel == Message.Channel.SMS else now
    if channel == Message.Channel.EMAIL:
        subject = subject.strip() or f"A note from {_who(actor)}"
    return outbox.message_queue(
        channel=channel,
        to=to,
        body=body,
        subject=subject,
        idempotency_key=idempotency_key or f"one-off:{uuid.uuid4().hex}",
        purpose=Message.Purpose.ONE_OFF,
        audience=Message.Audience.LEAD,
        lead=lead,
        created_by=actor,
        scheduled_for=scheduled_for,
    )


def suppression_sentence(suppression: Suppression) -> str:
    """Why nothing more goes to this address, in words an agent reads next to the send form."""
    on = on_date(suppression.created_at)
    return {
        Suppression.Reason.SMS_STOP: f"{suppression.address} replied STOP on {on}",
        Suppression.Reason.CARRIER_OPT_OUT: f"{suppression.address} opted out of texts on {on}",
        Suppression.Reason.BOUNCE: f"Email to {suppression.address} bounced on {on}",
        Suppression.Reason.SPAM_REPORT: f"{suppression.address} marked our email as spam on {on}",
        Suppression.Reason.UNSUBSCRIBE: f"{suppression.address} unsubscribed on {on}",
    }[suppression.reason]


# --- Tasks ---------------------------------------------------------------------------------------


@transaction.atomic
def task_complete(task: Task, *, actor, outcome: str = "") -> Task:
    """Mark an open task done (doing it twice changes nothing)."""
    if task.status != Task.Status.OPEN:
        return task
    task.status = Task.Status.DONE
    task.done_at = timezone.now()
    task.done_by = actor
    task.outcome = outcome[:200]
    task.save(update_fields=["status", "done_at", "done_by", "outcome"])
    return task


@transaction.atomic
def task_snooze(task: Task, *, until, actor) -> Task:
    """Push an open task's due time later. Raises ValidationError for a time not in the future
    or a task that is no longer open."""
    if task.status != Task.Status.OPEN:
        raise ValidationError("This task is already closed.")
    if until <= timezone.now():
        raise ValidationError("Choose a time in the future.")
    task.due_at = until
    task.snooze_count += 1
    task.save(update_fields=["due_at", "snooze_count"])
    return task


def tasks_complete_for_contact(lead: Lead, *, actor, at=None) -> int:
    """A personal contact does what the lead's open tasks asked for (call, text, check in,
    answer a reply): each task created before the contact is done. Returns how many."""
    at = at or timezone.now()
    return Task.objects.filter(lead=lead, status=Task.Status.OPEN, created_at__lte=at).update(
        status=Task.Status.DONE,
        done_at=at,
        done_by=actor,
        outcome="Personal contact logged",
    )


# --- Inbound texts and opt-outs ------------------------------------------------------------------


@dataclass(frozen=True)
class InboundResult:
    """What reply_receive did: kind is stop, start, help, reply or unknown_sender."""

    kind: str
    lead: Lead | None = None
    task: Task | None = None
    message: Message | None = None


@transaction.atomic
def reply_receive(
    *, from_number: str, body: str, to_number: str = "", provider_id: str = "", received_at=None
) -> InboundResult:
    """Every inbound text is handled here, once (the webhook deduplicates on Twilio's id).

    STOP (and its synonyms, and plain-language requests) opts the number out at once, for
    every sender, before the next message is sent; START opts back in; HELP answers with the
    brokerage's contact; anything else is a reply: on the lead's timeline, the lead's automation
    paused, the lead engaged, a task for the owner to answer, and the owner alerted."""
    received_at = received_at or timezone.now()
    kind = replies.classify(body)
    lead = Lead.objects.filter(phone=from_number).select_related("owner").first()
    if kind == replies.STOP:
        address_suppress(
            Message.Channel.SMS, from_number, reason=Suppression.Reason.SMS_STOP, detail=body
        )
        return InboundResult(kind, lead)
    if kind == replies.START:
        opted_out = Suppression.objects.filter(
            channel=Message.Channel.SMS, address=from_number
        ).exists() or (lead is not None and lead.sms_opted_out_at is not None)
        if opted_out:
            sms_opt_in(from_number, detail=body)
            return InboundResult(kind, lead)
        kind = replies.REPLY  # "Yes" from someone who never opted out is an answer
    if kind == replies.HELP:
        return InboundResult(kind, lead, message=_help_reply(from_number, lead, provider_id))
    if lead is None:
        logger.info("Text from %s, who is not a lead", from_number)
        return InboundResult("unknown_sender")
    lead_event_record(
        lead,
        LeadEvent.Kind.REPLY,
        channel=LeadEvent.Channel.SMS,
        summary=f"“{' '.join(body.split())[:200]}”",
        data={"body": body[:1600], "provider_id": provider_id, "to": to_number},
        occurred_at=received_at,
    )
    automation_pause(lead, actor=None, reason="They replied by text")
    if lead.stage in (Stage.NEW, Stage.CONTACTED):
        lead_change_stage(lead, Stage.ENGAGED, note="Replied by text", occurred_at=received_at)
    task = Task.objects.create(
        lead=lead,
        agent=lead.owner,
        kind=Task.Kind.REPLY,
        title=f"Answer {lead.full_name or lead.phone}'s text",
        notes=body[:1600],
        due_at=received_at + REPLY_TASK_DUE,
        created_at=received_at,
    )
    from alerts.services import alert_on_reply  # alerts build on sequences

    alert_on_reply(lead, body=body)
    return InboundResult(replies.REPLY, lead, task)


def _help_reply(number: str, lead: Lead | None, provider_id: str) -> Message | None:
    template = template_for("help_sms", source=lead.source if lead else "")
    if template is None:
        return None
    rendered = render(template, lead_values(lead) if lead else brokerage_values())
    return outbox.message_queue(
        channel=Message.Channel.SMS,
        to=number,
        body=rendered.body,
        idempotency_key=f"help:{provider_id or uuid.uuid4().hex}",
        purpose=Message.Purpose.SERVICE,
        audience=Message.Audience.LEAD,
        lead=lead,
    )


@transaction.atomic
def address_suppress(channel: str, address: str, *, reason: str, detail: str = "") -> Suppression:
    """Nothing more goes to this number or address, from any sender, starting with what is
    already queued. Opt-outs (STOP, spam report, unsubscribe) also mark the lead."""
    address = address.lower() if channel == Message.Channel.EMAIL else address
    now = timezone.now()
    suppression, _ = Suppression.objects.get_or_create(
        channel=channel,
        address=address,
        defaults={"reason": reason, "detail": detail[:255], "created_at": now},
    )
    Message.objects.filter(
        channel=channel, to__iexact=address, status=Message.Status.QUEUED
    ).update(status=Message.Status.SUPPRESSED, status_reason=Suppression.Reason(reason).label)
    if reason == Suppression.Reason.BOUNCE:
        return suppression
    if channel == Message.Channel.SMS:
        leads = Lead.objects.filter(phone=address, sms_opted_out_at__isnull=True)
        field, label = "sms_opted_out_at", "texts"
    else:
        leads = Lead.objects.filter(email=address, email_opted_out_at__isnull=True)
        field, label = "email_opted_out_at", "email"
    for lead in leads:
        setattr(lead, field, now)
        lead.save(update_fields=[field])
        lead_event_record(
            lead,
            LeadEvent.Kind.OPTED_OUT,
            channel=channel,
            summary=f"Opted out of {label}: {Suppression.Reason(reason).label}",
            data={"reason": reason, "detail": detail[:200]},
            occurred_at=now,
        )
    return suppression


@transaction.atomic
def sms_opt_in(number: str, *, detail: str = "") -> None:
    """START: the number may get texts again (the lead's earlier consent stands)."""
    Suppression.objects.filter(channel=Message.Channel.SMS, address=number).delete()
    for lead in Lead.objects.filter(phone=number, sms_opted_out_at__isnull=False):
        lead.sms_opted_out_at = None
        lead.save(update_fields=["sms_opted_out_at"])
        lead_event_record(
            lead,
            LeadEvent.Kind.OPTED_IN,
            channel=LeadEvent.Channel.SMS,
            summary="Texted START: texts may resume",
            data={"detail": detail[:200]},
        )


def email_unsubscribe(address: str) -> Suppression:
    """The one-click unsubscribe link (or the List-Unsubscribe POST) was used."""
    return address_suppress(Message.Channel.EMAIL, address, reason=Suppression.Reason.UNSUBSCRIBE)

"""Steps into messages and tasks: the one way a track's step reaches the outbox or an agent.

step_message                 a text or email step → one outbox message (idempotent on its key)
step_task                    a task step → one task for the lead's owner
acknowledgment_steps         the acknowledgment steps for this lead: its track's, else the
                             source's standard acknowledgment (ack_sms + ack_email)
acknowledgment_for_new_lead  a new lead whose track has no acknowledgment (or no track) still
                             gets its source's
acknowledgment_for_reinquiry a re-inquiry after the window re-runs the acknowledgment steps
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.models import Lead, Stage

from .. import outbox, schedule
from ..models import Enrollment, Message, Step, Task
from ..rendering import render_for_lead
from ..selectors import track_steps

logger = logging.getLogger(__name__)

IN_A_PERSONS_HANDS = (Stage.APPOINTMENT, Stage.CLIENT, Stage.CLOSED)


def _address(lead: Lead, channel: str) -> tuple[str, bool]:
    """Where a step's message goes, and whether to write it at all. A number that opted out
    or an address that unsubscribed gets nothing; consent is checked when the message is sent,
    so a text without consent shows in the outbox as suppressed, with why."""
    if channel == Step.Kind.SMS:
        return lead.phone, bool(lead.phone and not lead.sms_opted_out_at)
    return lead.email, lead.can_email


def step_message(
    lead: Lead,
    step: Step,
    *,
    idempotency_key: str,
    enrollment: Enrollment | None,
    source: str | None = None,
    asked: dict | None = None,
    now=None,
) -> Message | None:
    """Render the step's template for the lead (matched to `source`, by default the lead's own,
    and to what a re-inquiry `asked` about) and queue it. None when the address may not be used
    or the template is missing."""
    outgoing = step_outgoing(
        lead,
        step,
        idempotency_key=idempotency_key,
        enrollment=enrollment,
        source=source,
        asked=asked,
        now=now,
    )
    return outbox.message_queue(**outgoing) if outgoing is not None else None


def step_outgoing(
    lead: Lead,
    step: Step,
    *,
    idempotency_key: str,
    enrollment: Enrollment | None,
    source: str | None = None,
    asked: dict | None = None,
    now=None,
) -> dict | None:
    """step_message's message, not yet queued: outbox.message_queue's arguments (for
    outbox.messages_queue, several at once), or None as step_message."""
    to, usable = _address(lead, step.kind)
    if not usable:
        return None
    rendered = render_for_lead(step.template_key, lead, source=source, asked=asked)
    if rendered is None:
        logger.warning(
            "Step %s names template %r, which does not exist", step.pk, step.template_key
        )
        return None
    return dict(
        channel=step.kind,
        to=to,
        subject=rendered.subject,
        body=rendered.body,
        idempotency_key=idempotency_key,
        purpose=Message.Purpose.ACKNOWLEDGMENT
        if step.is_acknowledgment
        else Message.Purpose.NURTURE,
        audience=Message.Audience.LEAD,
        lead=lead,
        enrollment=enrollment,
        step=step if step.pk else None,  # the standard acknowledgment is no track's step
        scheduled_for=now,
    )


def step_task(enrollment: Enrollment, step: Step, now, *, key_is_new: bool = False) -> Task | None:
    lead = enrollment.lead
    rendered = render_for_lead(step.template_key, lead)
    if rendered is None:
        logger.warning(
            "Step %s names template %r, which does not exist", step.pk, step.template_key
        )
        return None
    # Due relative to the enrolment's clock, not to when the scheduler got here.
    due_at = enrollment.clock_start + step.offset + timedelta(minutes=step.task_due_minutes)
    key = f"enrollment:{enrollment.pk}:step:{step.pk}"
    task = Task(
        idempotency_key=key,
        lead=lead,
        agent=lead.owner,
        kind=step.task_kind,
        title=rendered.subject[:200],
        notes=rendered.body,
        due_at=max(due_at, now),
        created_at=now,
        enrollment=enrollment,
        step=step,
    )
    if key_is_new:  # the enrolment was created in this transaction: no task can have its key
        task.save(force_insert=True)
        return task
    # Insert first (the key is unique): a step materialised before fails the insert, and the
    # task it made is the one. One statement for the usual case, a new step.
    try:
        with transaction.atomic():
            task.save(force_insert=True)
            return task
    except IntegrityError:
        return Task.objects.get(idempotency_key=key)


# Every default track starts with these; a lead whose track has none still gets them, matched
# to its source by the templates' variants (ack_sms · giveaway, ack_email · valuation, ...).
STANDARD_ACKNOWLEDGMENT = ((Step.Kind.SMS, "ack_sms"), (Step.Kind.EMAIL, "ack_email"))


def _track_acknowledgment_steps(track_id: int, intent: str) -> list[Step]:
    specs, steps = track_steps(track_id)
    facts = schedule.Facts(intent=intent, acknowledge=True)
    return [
        steps[spec.id]
        for spec in schedule.ordered(specs)
        if spec.is_acknowledgment and schedule.applies(spec, facts)
    ]


def acknowledgment_steps(track_ids, intent: str) -> list[Step]:
    """The acknowledgment steps for this lead: those of the first of `track_ids` (its track,
    then e.g. its routing rule's) that has any at this intent; else the source's standard
    acknowledgment (unsaved steps naming ack_sms and ack_email). Never empty: whatever track a
    lead enters, a track without a first-day step (the nurture cycle) or none at all, it is
    acknowledged."""
    for track_id in track_ids:
        if track_id is not None:
            steps = _track_acknowledgment_steps(track_id, intent)
            if steps:
                return steps
    return [
        Step(kind=kind, template_key=template_key, is_acknowledgment=True)
        for kind, template_key in STANDARD_ACKNOWLEDGMENT
    ]


def acknowledgment_for_new_lead(
    lead: Lead, enrollment: Enrollment | None, *, source: str | None = None
) -> list[Message]:
    """A new lead was enrolled (or has no track). When its track acknowledges it, the enrolment
    has written those steps already; otherwise the source's standard acknowledgment goes now."""
    track_id = enrollment.track_id if enrollment is not None else None
    intent = enrollment.intent if enrollment is not None else lead.intent
    steps = acknowledgment_steps([track_id], intent)
    if track_id is not None and steps[0].track_id == track_id:
        return []
    outgoing = [
        step_outgoing(
            lead,
            step,
            idempotency_key=f"acknowledgment:{lead.pk}:{step.kind}",
            enrollment=enrollment,
            source=source,
        )
        for step in steps
    ]
    return outbox.messages_queue([message for message in outgoing if message is not None])


def acknowledgment_for_reinquiry(
    lead: Lead, *, source: str, submission_id=None, asked: dict | None = None
) -> list[Message]:
    """A re-inquiry is acknowledged like a first inquiry, matched to the form just used
    (`source`) and to what it asked about (`asked`: the submission's property, open house or
    question, which the lead may not have recorded), unless the lead got an acknowledgment within SEQUENCES_REACK_WINDOW_HOURS, its
    automation is paused (they are talking to an agent), or it is an appointment, a client or
    closed. A lead in the nurture cycle, or lost, that writes again is answered too: its current
    track's acknowledgment steps, else those of the track its routing rule names, else the
    source's standard acknowledgment (acknowledgment_steps)."""
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
    intent = enrollment.intent if enrollment is not None else lead.intent
    steps = acknowledgment_steps(
        [
            enrollment.track_id if enrollment is not None else None,
            lead.routing_rule.track_id if lead.routing_rule_id else None,
        ],
        intent,
    )
    key = submission_id if submission_id is not None else uuid.uuid4().hex
    outgoing = [
        step_outgoing(
            lead,
            step,
            idempotency_key=f"reinquiry:{lead.pk}:{key}:{step.kind}",
            enrollment=enrollment,
            source=source,
            asked=asked,
        )
        for step in steps
    ]
    return outbox.messages_queue([message for message in outgoing if message is not None])

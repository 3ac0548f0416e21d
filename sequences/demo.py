"""Demo history for sequences: enrolments, already-sent messages and agents' tasks; and the
appointments of the leads at the appointment stage (seed_demo_appointments).

`seed_demo` creates its leads without routing them (they are history), then calls
seed_demo_data once. Each lead's track is replayed from the day it arrived, through the same
pure scheduling rules the live scheduler uses, up to now (or until the lead's stage stopped
automation): messages are written as already sent, tasks as done when the agent has since
been in touch, or left open (some overdue) when not. Nothing is queued or dispatched, and each
enrolment's progress points past its history, so the live scheduler carries on from here
without resending anything.
"""

import random
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leads.models import Lead, LeadEvent
from leads.services import lead_mark_first_automated_contact, lead_set_track

from . import schedule
from .appointments import appointment_span
from .models import Appointment, Enrollment, Message, Step, Task, Template, Track
from .outbox import OPT_OUT_LINE
from .placeholders import fill
from .rendering import lead_values, variants_for
from .selectors import track_steps
from .services.enrollment import STOP_STAGES
from .unsubscribe import email_footer

# Tasks the agent never got to are closed as tried after this long, so the demo shows a
# morning's few overdue tasks, not weeks of them.
TASKS_KEPT_OPEN = timedelta(days=2)
# The follow-ups an agent sets themselves for the leads they are working (beside the tracks'
# tasks), by the lead's stage: today's share of a believable task list.
FOLLOW_UPS = {
    "engaged": (
        (Task.Kind.CALL, "Call {first} back about financing"),
        (Task.Kind.TEXT, "Send {first} three new listings in {area}"),
        (Task.Kind.CHECK_IN, "Send {first} the comps for {home}"),
    ),
    "appointment": (
        (Task.Kind.CALL, "Confirm the listing presentation with {name}"),
        (Task.Kind.TEXT, "Confirm Saturday's showing with {name}"),
        (Task.Kind.REVIEW, "Prepare the market analysis for {home}"),
    ),
    "client": (
        (Task.Kind.CHECK_IN, "Check in with {first} on the inspection"),
        (Task.Kind.REVIEW, "Book the photographer for {home}"),
        (Task.Kind.CALL, "Walk {first} through the offer"),
    ),
}
FOLLOW_UPS_PER_AGENT = 4


@transaction.atomic
def seed_demo_data(*, rng: random.Random, now=None, leads=None) -> dict[str, int]:
    now = now or timezone.now()
    leads = leads if leads is not None else Lead.objects.filter(nurture_track__isnull=False)
    leads = leads.select_related("owner", "owner__agent", "nurture_track")
    history = _History(now, rng)
    for lead in leads:
        history.replay(lead)
    history.tasks += _follow_ups(leads, now, rng)
    Message.objects.bulk_create(history.messages, batch_size=500)
    Task.objects.bulk_create(history.tasks, batch_size=500)
    LeadEvent.objects.bulk_create(history.events, batch_size=500)
    return {
        "enrollments": history.enrollment_count,
        "messages": len(history.messages),
        "tasks": len(history.tasks),
    }


class _History:
    def __init__(self, now, rng):
        self.now, self.rng = now, rng
        self.templates = {(t.key, t.variant): t for t in Template.objects.all()}
        self.tracks = {track.key: track for track in Track.objects.all()}
        self.steps_cache: dict = {}
        self.messages: list[Message] = []
        self.tasks: list[Task] = []
        self.events: list[LeadEvent] = []
        self.enrollment_count = 0
        self.texted: set[str] = set()

    def replay(self, lead: Lead) -> None:
        stopped = lead.stage in STOP_STAGES
        end = min(lead.stage_changed_at or self.now, self.now) if stopped else self.now
        track, intent, acknowledge, start = lead.nurture_track, lead.intent, True, lead.created_at
        values = lead_values(lead)
        first_sent = None
        while True:
            enrollment = Enrollment.objects.create(
                lead=lead,
                track=track,
                intent=intent,
                acknowledge=acknowledge,
                started_at=start,
                clock_start=start,
            )
            self.enrollment_count += 1
            specs, steps = track_steps(track.pk, self.steps_cache)
            done_through, move = -1, None
            for spec in schedule.ordered(specs):
                at = start + spec.offset
                if at > end:
                    break
                done_through = spec.offset_minutes
                talked = lead.engaged_at is not None and lead.engaged_at <= at
                facts = schedule.Facts(intent, has_conversation=talked, acknowledge=acknowledge)
                if not schedule.applies(spec, facts):
                    continue
                step = steps[spec.id]
                if spec.sends_message:
                    sent = self._message(lead, enrollment, step, values, at)
                    if sent and (first_sent is None or sent < first_sent):
                        first_sent = sent
                elif spec.kind == Step.Kind.TASK:
                    self._task(lead, enrollment, step, values, at, end, stopped)
                else:
                    move = (step, at)
                    break
            enrollment.done_through_minutes = done_through
            if move is not None:
                step, at = move
                self._end(
                    enrollment, Enrollment.Status.COMPLETED, f"Moved on to {step.move_to}", at
                )
                self.events.append(
                    LeadEvent(
                        lead=lead,
                        kind=LeadEvent.Kind.TRACK_CHANGED,
                        summary=f"{track} → {step.move_to} ({step.offset_label})",
                        data={"from": track.key, "to": step.move_to.key},
                        occurred_at=at,
                    )
                )
                track, start, acknowledge = step.move_to, at, False
                intent = step.move_intent or intent
                continue
            next_due = schedule.next_due_at(
                specs, clock_start=start, done_through_minutes=done_through
            )
            if stopped:
                reason = f"stage changed to {lead.get_stage_display()}"
                self._end(enrollment, Enrollment.Status.STOPPED, reason, end)
            elif next_due is None:
                self._end(enrollment, Enrollment.Status.COMPLETED, "Reached the end", end)
            else:
                enrollment.next_due_at = next_due
                enrollment.save()
            break
        if lead.nurture_track_id != track.pk:
            lead_set_track(lead, track)
        if first_sent is not None:
            lead_mark_first_automated_contact(lead, first_sent)

    def _end(self, enrollment, status, reason, at):
        enrollment.status, enrollment.status_reason = status, reason
        enrollment.ended_at, enrollment.next_due_at = at, None
        enrollment.save()

    def _template(self, key, lead):
        for variant in variants_for(lead.source, lead.inquiry_type):
            template = self.templates.get((key, variant))
            if template is not None:
                return template
        return None

    def _message(self, lead, enrollment, step, values, at):
        channel = step.kind
        to = lead.phone if channel == Step.Kind.SMS else lead.email
        template = self._template(step.template_key, lead)
        if not to or template is None:
            return None
        body = fill(template.body, values)
        if channel == Step.Kind.EMAIL:
            body = body.rstrip() + email_footer(to)
        can_send = lead.can_text if channel == Step.Kind.SMS else lead.can_email
        if channel == Step.Kind.SMS and can_send and to not in self.texted:
            body = f"{body.rstrip()} {OPT_OUT_LINE}"
            self.texted.add(to)
        sent_at = at + timedelta(seconds=self.rng.uniform(4, 40))
        purpose = (
            Message.Purpose.ACKNOWLEDGMENT if step.is_acknowledgment else Message.Purpose.NURTURE
        )
        message = Message(
            lead=lead,
            enrollment=enrollment,
            step=step,
            channel=channel,
            audience=Message.Audience.LEAD,
            purpose=purpose,
            to=to,
            subject=fill(template.subject, values),
            body=body,
            idempotency_key=f"enrollment:{enrollment.pk}:step:{step.pk}:{channel}",
            created_at=at,
            scheduled_for=at,
        )
        if not can_send:
            message.status = Message.Status.SUPPRESSED
            message.status_reason = "No SMS consent on record"
            self.messages.append(message)
            return None
        message.status, message.sent_at, message.attempts = Message.Status.SENT, sent_at, 1
        message.claimed_at = at
        message.provider_id = f"demo-{uuid.UUID(int=self.rng.getrandbits(128)).hex[:16]}"
        message.delivery_status, message.delivery_updated_at = "delivered", sent_at
        self.messages.append(message)
        self.events.append(
            LeadEvent(
                lead=lead,
                kind=LeadEvent.Kind.MESSAGE_SENT,
                channel=channel,
                summary=f"{message.get_purpose_display()}: {message.subject or body[:100]}"[:255],
                occurred_at=sent_at,
            )
        )
        return sent_at

    def _task(self, lead, enrollment, step, values, at, end, stopped):
        template = self._template(step.template_key, lead)
        if template is None:
            return
        due_at = at + timedelta(minutes=step.task_due_minutes)
        task = Task(
            lead=lead,
            agent=lead.owner,
            kind=step.task_kind,
            title=fill(template.subject, values)[:200],
            notes=fill(template.body, values),
            due_at=due_at,
            created_at=at,
            enrollment=enrollment,
            step=step,
            idempotency_key=f"enrollment:{enrollment.pk}:step:{step.pk}",
        )
        contact = _contact_after(lead, at)
        if contact is not None and contact <= self.now:
            task.status, task.done_at, task.done_by = Task.Status.DONE, contact, lead.owner
            task.outcome = "Personal contact logged"
        elif stopped:
            task.status, task.done_at = Task.Status.CANCELLED, end
            task.outcome = f"Automation stopped: stage changed to {lead.get_stage_display()}"
        elif due_at < self.now - TASKS_KEPT_OPEN:
            task.status, task.done_at, task.done_by = Task.Status.DONE, due_at, lead.owner
            task.outcome = "Tried; no answer"
        self.tasks.append(task)


def _follow_ups(leads, now, rng: random.Random) -> list[Task]:
    """A few follow-ups each agent set for today on the leads they talked to lately: due from a
    couple of hours ago to this evening, on the quarter hour."""
    recent = now - timedelta(days=45)
    working = [
        lead
        for lead in leads.filter(stage__in=FOLLOW_UPS, last_personal_contact_at__gte=recent)
        if lead.owner_id
    ]
    rng.shuffle(working)
    tasks, per_agent = [], {}
    for lead in working:
        if per_agent.get(lead.owner_id, 0) >= FOLLOW_UPS_PER_AGENT:
            continue
        per_agent[lead.owner_id] = per_agent.get(lead.owner_id, 0) + 1
        kind, title = rng.choice(
            [
                pair
                for pair in FOLLOW_UPS[lead.stage]
                if lead.property_address or "{home}" not in pair[1]
            ]
        )
        due = now + timedelta(minutes=rng.uniform(-150, 540))
        due = due.replace(minute=due.minute - due.minute % 15, second=0, microsecond=0)
        words = {
            "first": lead.first_name or "them",
            "name": lead.full_name or "them",
            "area": lead.neighbourhood or "their area",
            "home": lead.property_address or "their home",
        }
        tasks.append(
            Task(
                lead=lead,
                agent=lead.owner,
                kind=kind,
                title=title.format(**words)[:200],
                due_at=due,
                created_at=min(lead.last_personal_contact_at, now),
            )
        )
    return tasks


def _contact_after(lead: Lead, at):
    """The first personal contact at or after `at`, as far as the lead's dates tell."""
    first, last = lead.first_personal_contact_at, lead.last_personal_contact_at
    if first is not None and first >= at:
        return first
    if last is not None and last >= at:
        return last
    return None


# The demo's appointments: the kind a lead's side books, and the hours agents book them at.
DEMO_KINDS = {"seller": "listing_presentation", "buyer": "showing", "both": "buyer_consultation"}
DEMO_HOURS = (9, 10, 11, 13, 14, 15, 16, 17)
DEMO_UPCOMING = 12  # the latest bookings still ahead: three a day from today


@transaction.atomic
def seed_demo_appointments(*, rng: random.Random, now=None) -> int:
    """An appointment for each lead that reached the appointment stage, as history: the ones
    booked lately are still ahead (some today, on Today), the older ones done. Rows and their
    timeline entries only; no message is queued (the demo sends nothing)."""
    now = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    leads = Lead.objects.filter(appointment_at__isnull=False, owner__isnull=False)
    appointments, events = [], []
    for index, lead in enumerate(leads.select_related("owner").order_by("-appointment_at")[:60]):
        booked_at = lead.appointment_at
        if lead.stage == Lead.Stage.APPOINTMENT and index < DEMO_UPCOMING:
            day = (now + timedelta(days=index // 3)).astimezone(zone).date()
        else:
            day = (booked_at + timedelta(days=rng.randint(2, 6))).astimezone(zone).date()
        at = time(rng.choice(DEMO_HOURS), rng.choice((0, 30)))
        start = max(datetime.combine(day, at, tzinfo=zone), booked_at + timedelta(hours=2))
        end = start + timedelta(minutes=rng.choice((45, 60, 90)))
        kind = DEMO_KINDS.get(lead.side, Appointment.Kind.OTHER)
        place = lead.property_address or "Our office, 100 Main Street"
        appointments.append(
            Appointment(
                lead=lead,
                agent=lead.owner,
                kind=kind,
                starts_at=start,
                ends_at=end,
                time_zone=settings.TIME_ZONE,
                place=place,
                status=Appointment.Status.BOOKED if start > now else Appointment.Status.DONE,
                created_by=lead.owner,
                created_at=booked_at,
                updated_at=booked_at,
            )
        )
        span = appointment_span(start, end, settings.TIME_ZONE)
        events.append(
            LeadEvent(
                lead=lead,
                kind=LeadEvent.Kind.APPOINTMENT,
                actor=lead.owner,
                summary=f"{Appointment.Kind(kind).label} booked: {span}, at {place}"[:255],
                occurred_at=booked_at,
            )
        )
    Appointment.objects.bulk_create(appointments, batch_size=500)
    LeadEvent.objects.bulk_create(events, batch_size=500)
    return len(appointments)

"""Appointments: booked, moved, cancelled, done; what the lead and the agent are sent, and when.

    appointment_create      the row, the lead's timeline, the lead's confirmation now, the
                            lead's reminder the day before and the agent's an hour before
    appointment_reschedule  a new time or place: what was still queued is withdrawn and the
                            new time's messages are queued in its place
    appointment_cancel      cancelled: its queued messages withdrawn; the lead is told on the
                            channels it was told on before
    appointment_close       done or a no-show: anything still queued is withdrawn
    appointments_follow_owner  the leads have a new owner: their future booked appointments
                            go to them (reminders and calendar event), a query for them all
    appointments_cancel_for_lost  the leads are lost: their future appointments are cancelled,
                            the lead not told
    calendar_feed_rotate    a new secret for an agent's calendar URL (the old one stops at once)

Moving the lead to the appointment stage, and a done appointment counting as a personal
contact, span apps: realtycrm/flows/appointments.py calls these, then the stage or contact.

Every message goes through the outbox with a key naming the appointment, its `sequence`, what
it says and to whom (sequences.appointments.message_key): a step that runs twice sends once, and
a change (which bumps `sequence`) never collides with the messages it replaces. Texts to the
lead go only with consent (lead.can_text) and are scheduled out of the lead's quiet hours; the
outbox checks consent, suppressions and quiet hours again when it sends. Emails go whenever the
lead has an address that did not unsubscribe.
"""

import logging
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadEvent
from leads.names import person_name
from leads.services import lead_event_record

from .. import outbox
from ..appointments import (
    CANCELLED,
    CONFIRMATION,
    MOVED,
    REMINDER,
    agent_reminder_email,
    agent_reminder_sms,
    appointment_span,
    key_prefix,
    message_key,
    placeholder_values,
    reminder_times,
)
from ..models import Appointment, CalendarFeed, Message
from ..rendering import lead_values, render, template_for

logger = logging.getLogger(__name__)

LEAD, AGENT = Message.Audience.LEAD, Message.Audience.AGENT
SMS, EMAIL = Message.Channel.SMS, Message.Channel.EMAIL


class AppointmentClosed(Exception):
    """The appointment is no longer booked (cancelled, done, a no-show): it cannot change.
    `.reason` is the sentence to show."""

    def __init__(self, appointment: Appointment):
        self.reason = (
            f"This {appointment.get_kind_display().lower()} is already "
            f"{appointment.get_status_display().lower()}."
        )
        super().__init__(self.reason)


# --- Writes ------------------------------------------------------------------------------------


def appointment_create(
    lead: Lead,
    *,
    agent,
    kind: str,
    starts_at,
    ends_at,
    time_zone: str,
    place: str = "",
    notes: str = "",
    actor=None,
    booking_key: str | None = None,
) -> tuple[Appointment, bool]:
    """Book it: the row, the lead's timeline ("Showing booked: Tue, May 5, 10:00 a.m. …"), the
    confirmation and the reminders; and whether it is new. Idempotent on `booking_key` (the
    form's token): booking the same form twice, even at the same instant, returns the first
    appointment (and False) and sends nothing more."""
    if booking_key:
        existing = Appointment.objects.filter(booking_key=booking_key).first()
        if existing is not None:
            return existing, False
    now = timezone.now()
    try:
        with transaction.atomic():
            appointment = Appointment.objects.create(
                lead=lead,
                agent=agent,
                kind=kind,
                starts_at=starts_at,
                ends_at=ends_at,
                time_zone=time_zone,
                place=place.strip()[:255],
                notes=notes.strip()[:2000],
                created_by=actor,
                created_at=now,
                updated_at=now,
                booking_key=booking_key or None,
            )
    except IntegrityError:
        # A racing double submit made the row with this key first; any other refusal (a check
        # constraint, a lead deleted meanwhile) is raised as it is.
        first = Appointment.objects.filter(booking_key=booking_key).first() if booking_key else None
        if first is None:
            raise
        return first, False
    _timeline(appointment, "booked", actor=actor, summary=_booked_summary(appointment))
    _messages_queue(appointment, at_once=CONFIRMATION, now=now)
    return appointment, True


@transaction.atomic
def appointment_reschedule(
    appointment: Appointment, *, starts_at, ends_at, place: str, actor=None
) -> bool:
    """A new time or place. The messages still queued for the old one (reminders, a text held
    for quiet hours) are withdrawn; the lead is told the new time (a confirmation if nothing
    reached them yet) and reminded of it. False when nothing changed. Raises AppointmentClosed
    for an appointment no longer booked."""
    appointment = _locked(appointment)
    place = place.strip()[:255]
    if (appointment.starts_at, appointment.ends_at, appointment.place) == (
        starts_at,
        ends_at,
        place,
    ):
        return False
    now = timezone.now()
    was = appointment_span(appointment.starts_at, appointment.ends_at, appointment.time_zone)
    told = _told(appointment)
    _withdraw(appointment, "Appointment moved: replaced by the new time")
    appointment.starts_at, appointment.ends_at, appointment.place = starts_at, ends_at, place
    appointment.sequence += 1
    appointment.updated_at = now
    appointment.save(update_fields=["starts_at", "ends_at", "place", "sequence", "updated_at"])
    summary = f"{appointment.get_kind_display()} moved to {_span_place(appointment)} (was {was})"
    _timeline(appointment, "moved", actor=actor, summary=summary)
    _messages_queue(appointment, at_once=MOVED, now=now, told=told)
    return True


@transaction.atomic
def appointment_cancel(
    appointment: Appointment, *, actor=None, notify_lead: bool = True, reason: str = ""
) -> Appointment:
    """Cancel it: everything still queued is withdrawn, the agent's calendar shows it cancelled,
    and (with `notify_lead`) the lead is told on each channel it was told about it before.
    Raises AppointmentClosed for an appointment no longer booked."""
    appointment = _locked(appointment)
    now = timezone.now()
    told = _told(appointment)
    _withdraw(appointment, "Appointment cancelled")
    appointment.status = Appointment.Status.CANCELLED
    appointment.status_changed_at = appointment.updated_at = now
    appointment.sequence += 1
    appointment.agent_reminder_at = appointment.lead_reminder_at = None
    appointment.save(
        update_fields=[
            "status",
            "status_changed_at",
            "updated_at",
            "sequence",
            "agent_reminder_at",
            "lead_reminder_at",
        ]
    )
    was = appointment_span(appointment.starts_at, appointment.ends_at, appointment.time_zone)
    summary = f"{appointment.get_kind_display()} cancelled (was {was})" + (
        f": {reason.strip()}" if reason.strip() else ""
    )
    _timeline(appointment, "cancelled", actor=actor, summary=summary)
    if notify_lead:
        values = _values(appointment)
        for channel in (EMAIL, SMS):
            if told[channel]:
                _to_lead(appointment, CANCELLED, channel, at=now, values=values)
    return appointment


def _future_booked(leads, now) -> QuerySet[Appointment]:
    """The leads' appointments still ahead (past ones are history and keep their agent), one
    query for all of them, locked for the change."""
    return (
        Appointment.objects.select_for_update(of=("self",))
        .filter(lead__in=[lead.pk for lead in leads], status=Appointment.Status.BOOKED)
        .filter(starts_at__gt=now)
        .order_by("id")
    )


@transaction.atomic
def appointments_follow_owner(leads, owner, *, actor=None) -> int:
    """`leads` have a new owner (a reassign, a claim, a fallback, one lead or a bulk chunk):
    their future booked appointments go to `owner`. The previous agent's reminder (with the
    lead's phone) is withdrawn and their calendar feed loses the event; the row's `sequence`
    goes up as for a move; the new agent's reminder is queued. The lead is sent nothing more:
    what was still queued for them (a reminder, a confirmation held for quiet hours) is
    written again, naming the new agent, for the same moment. A few queries for all the leads
    (one when none has an appointment ahead). Returns how many moved."""
    by_pk = {lead.pk: lead for lead in leads}
    now = timezone.now()
    moving = list(_future_booked(leads, now).exclude(agent=owner))
    if not moving:
        return 0
    waiting = _withdraw_queued(moving, f"Appointment now with {person_name(owner)}")
    Appointment.objects.filter(pk__in=[a.pk for a in moving]).update(
        agent=owner, sequence=F("sequence") + 1, updated_at=now
    )
    for appointment in moving:
        appointment.lead = by_pk[appointment.lead_id]
        appointment.agent, appointment.updated_at = owner, now
        appointment.sequence += 1
        values = _values(appointment)
        lead_reminders = []
        for message in waiting.get(appointment.pk, []):
            what = message.idempotency_key.split(":")[3]
            again = _to_lead(
                appointment, what, message.channel, at=message.scheduled_for, values=values
            )
            if again is not None and what == REMINDER:
                lead_reminders.append(again.scheduled_for)
        reminders = reminder_times(
            appointment.starts_at,
            now=now,
            agent_minutes=settings.APPOINTMENT_AGENT_REMINDER_MINUTES,
            lead_hours=settings.APPOINTMENT_LEAD_REMINDER_HOURS,
        )
        agent_message = (
            _to_agent(appointment, at=reminders.agent_at) if reminders.agent_at else None
        )
        Appointment.objects.filter(pk=appointment.pk).update(
            agent_reminder_at=agent_message.scheduled_for if agent_message else None,
            lead_reminder_at=min(lead_reminders, default=None),
        )
        summary = f"{appointment.get_kind_display()} on {_span(appointment)} is now with " + (
            person_name(owner)
        )
        _timeline(appointment, "agent_changed", actor=actor, summary=summary)
    return len(moving)


@transaction.atomic
def appointments_cancel_for_lost(leads, *, actor=None) -> int:
    """`leads` were marked lost: their future booked appointments are cancelled (their queued
    reminders withdrawn, the calendar shows them cancelled), each with a timeline entry saying
    why. The lead is not told: a lost lead is not sent "your showing is cancelled" out of the
    blue (the agent who lost them says what needs saying). Past ones are left for the agent to
    close. One query for all the leads when none has an appointment ahead. Returns how many."""
    future = list(_future_booked(leads, timezone.now()))
    for appointment in future:
        appointment_cancel(
            appointment, actor=actor, notify_lead=False, reason="the lead was marked lost"
        )
    return len(future)


def _withdraw_queued(appointments: list[Appointment], reason: str) -> dict[int, list[Message]]:
    """Withdraw the queued messages of these appointments (locked first, so a worker cannot
    claim one between reading and withdrawing: what is read is what is withdrawn) and return
    the lead's among them, by appointment."""
    prefixes = {key_prefix(a.pk): a.pk for a in appointments}
    rows = list(
        Message.objects.select_for_update(of=("self",))
        .filter(
            lead_id__in={a.lead_id for a in appointments},
            status=Message.Status.QUEUED,
            idempotency_key__startswith="appointment:",
        )
        .only("pk", "idempotency_key", "channel", "audience", "scheduled_for")
    )
    mine = [
        (prefixes[prefix], row)
        for row in rows
        if (prefix := ":".join(row.idempotency_key.split(":", 2)[:2]) + ":") in prefixes
    ]
    outbox.messages_withdraw(
        Message.objects.filter(pk__in=[row.pk for _, row in mine]), reason=reason
    )
    waiting: dict[int, list[Message]] = {}
    for pk, row in mine:
        if row.audience == LEAD:
            waiting.setdefault(pk, []).append(row)
    return waiting


def _span(appointment: Appointment) -> str:
    return appointment_span(appointment.starts_at, appointment.ends_at, appointment.time_zone)


CLOSING = (Appointment.Status.DONE, Appointment.Status.NO_SHOW)


@transaction.atomic
def appointment_close(appointment: Appointment, *, status: str, actor=None) -> Appointment:
    """It happened (done) or the lead did not come (a no-show). A reminder still queued (it was
    held earlier than planned) is withdrawn. Raises AppointmentClosed when it is not booked."""
    if status not in CLOSING:
        raise ValueError(f"An appointment closes as done or no-show, not {status!r}")
    appointment = _locked(appointment)
    now = timezone.now()
    _withdraw(appointment, f"Appointment {Appointment.Status(status).label.lower()}")
    appointment.status = status
    appointment.status_changed_at = appointment.updated_at = now
    appointment.save(update_fields=["status", "status_changed_at", "updated_at"])
    kind = appointment.get_kind_display()
    if status == Appointment.Status.DONE:
        summary = f"{kind} done"
    else:
        who = appointment.lead.first_name or "The lead"
        summary = f"No-show: {who} did not come to the {kind.lower()}"
    when = appointment_span(appointment.starts_at, appointment.ends_at, appointment.time_zone)
    _timeline(appointment, status, actor=actor, summary=f"{summary} ({when})")
    return appointment


# --- What is sent, and when --------------------------------------------------------------------


def _messages_queue(appointment: Appointment, *, at_once: str, now, told=None) -> None:
    """The lead's message now (`at_once`: a confirmation, or that it moved), the lead's reminder
    the day before, the agent's reminder before it; and when the reminders are due, on the row.
    `told`: the channels the lead was told about it on before (a move then says "moved";
    elsewhere it is a first confirmation)."""
    values = _values(appointment)
    for channel in (EMAIL, SMS):
        what = MOVED if at_once == MOVED and told and told[channel] else CONFIRMATION
        _to_lead(appointment, what, channel, at=now, values=values)
    reminders = reminder_times(
        appointment.starts_at,
        now=now,
        agent_minutes=settings.APPOINTMENT_AGENT_REMINDER_MINUTES,
        lead_hours=settings.APPOINTMENT_LEAD_REMINDER_HOURS,
    )
    lead_reminders = []
    if reminders.lead_at is not None:
        for channel in (EMAIL, SMS):
            message = _to_lead(appointment, REMINDER, channel, at=reminders.lead_at, values=values)
            if message is not None:
                lead_reminders.append(message.scheduled_for)
    lead_reminder_at = min(lead_reminders, default=None)
    agent_reminder_at = None
    if reminders.agent_at is not None:
        message = _to_agent(appointment, at=reminders.agent_at)
        agent_reminder_at = message.scheduled_for if message is not None else None
    appointment.agent_reminder_at, appointment.lead_reminder_at = (
        agent_reminder_at,
        lead_reminder_at,
    )
    Appointment.objects.filter(pk=appointment.pk).update(
        agent_reminder_at=agent_reminder_at, lead_reminder_at=lead_reminder_at
    )


def _values(appointment: Appointment) -> dict[str, str]:
    return lead_values(appointment.lead) | placeholder_values(
        kind=appointment.kind,
        starts_at=appointment.starts_at,
        zone=appointment.time_zone,
        place=appointment.place,
        agent=appointment.agent,
    )


def _to_lead(appointment: Appointment, what: str, channel: str, *, at, values) -> Message | None:
    """One message to the lead (the copy `appointment_<what>_<channel>`), due at `at`. None
    when it may not or need not go: no consent to text, an unsubscribed or missing address, a
    text that quiet hours would hold until the appointment has begun, no such copy."""
    lead = appointment.lead
    if channel == SMS:
        if not lead.can_text:
            return None
        to, at = lead.phone, outbox.sms_allowed_from(lead.phone, at)
        if at >= appointment.starts_at:
            return None
    else:
        if not lead.can_email:
            return None
        to = lead.email
    key = f"appointment_{what}_{channel}"
    template = template_for(key, source=lead.source, inquiry_type=lead.inquiry_type)
    if template is None:
        logger.warning("No copy %r: appointment %s sends no %s", key, appointment.pk, channel)
        return None
    rendered = render(template, values)
    return outbox.message_queue(
        channel=channel,
        to=to,
        subject=rendered.subject,
        body=rendered.body,
        idempotency_key=message_key(appointment.pk, appointment.sequence, what, LEAD, channel),
        purpose=Message.Purpose.APPOINTMENT,
        audience=LEAD,
        lead=lead,
        scheduled_for=at,
    )


def _to_agent(appointment: Appointment, *, at) -> Message | None:
    """The agent's reminder: a text when they have a phone, else an email (an alert's channels,
    without its urgency: it goes at its time, whatever the agent's quiet hours)."""
    agent = appointment.agent
    if agent is None:
        return None
    profile = getattr(agent, "agent", None)
    lead_url = settings.SITE_URL + reverse("leads:lead-detail", args=[appointment.lead_id])
    if profile is not None and profile.phone:
        channel, to, subject = SMS, profile.phone, ""
        body = agent_reminder_sms(
            appointment, lead_url=lead_url, minutes=settings.APPOINTMENT_AGENT_REMINDER_MINUTES
        )
    elif agent.email:
        channel, to = EMAIL, agent.email
        subject, body = agent_reminder_email(appointment, lead_url=lead_url)
    else:
        return None
    return outbox.message_queue(
        channel=channel,
        to=to,
        subject=subject,
        body=body,
        idempotency_key=message_key(appointment.pk, appointment.sequence, REMINDER, AGENT, channel),
        purpose=Message.Purpose.APPOINTMENT,
        audience=AGENT,
        lead=appointment.lead,
        agent=agent,
        scheduled_for=at,
    )


def appointment_messages(appointment: Appointment) -> QuerySet[Message]:
    """Every outbox message of the appointment, to the lead and to the agent, at any sequence."""
    return Message.objects.filter(
        lead_id=appointment.lead_id, idempotency_key__startswith=key_prefix(appointment.pk)
    )


def _withdraw(appointment: Appointment, reason: str) -> int:
    return outbox.messages_withdraw(appointment_messages(appointment), reason=reason)


def _told(appointment: Appointment) -> dict[str, bool]:
    """Per channel, whether a message about the appointment has reached the lead (or is on
    its way: claimed by a worker), so a move or a cancellation is news to them there."""
    reached = set(
        appointment_messages(appointment)
        .filter(audience=LEAD, status__in=[Message.Status.SENT, Message.Status.SENDING])
        .values_list("channel", flat=True)
    )
    return {SMS: SMS in reached, EMAIL: EMAIL in reached}


# --- The row and the timeline ------------------------------------------------------------------


def _locked(appointment: Appointment) -> Appointment:
    """The row, locked for this change (two changes at once take turns), with its lead and
    agent; raises AppointmentClosed unless it is still booked."""
    fresh = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("lead", "agent", "agent__agent")
        .get(pk=appointment.pk)
    )
    if fresh.status != Appointment.Status.BOOKED:
        raise AppointmentClosed(fresh)
    return fresh


def _span_place(appointment: Appointment) -> str:
    span = appointment_span(appointment.starts_at, appointment.ends_at, appointment.time_zone)
    return f"{span}, at {appointment.place}" if appointment.place else span


def _booked_summary(appointment: Appointment) -> str:
    summary = f"{appointment.get_kind_display()} booked: {_span_place(appointment)}"
    if appointment.agent is not None and appointment.agent != appointment.lead.owner:
        summary += f", with {person_name(appointment.agent)}"
    return summary


def _timeline(appointment: Appointment, action: str, *, actor, summary: str) -> LeadEvent:
    return lead_event_record(
        appointment.lead,
        LeadEvent.Kind.APPOINTMENT,
        actor=actor,
        summary=summary,
        data={
            "appointment": appointment.pk,
            "action": action,
            "kind": appointment.kind,
            "starts_at": appointment.starts_at.isoformat(),
            "ends_at": appointment.ends_at.isoformat(),
        },
    )


# --- The calendar feed's secret ------------------------------------------------------------------


@transaction.atomic
def calendar_feed_rotate(user) -> CalendarFeed:
    """Give the user's calendar feed a new random secret (256 bits): the first one, or one that
    replaces the old, whose URL stops working at once (a phone lost, a link shared by
    mistake). Calendars subscribed to the old URL must subscribe to the new one."""
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.select_for_update().filter(agent=user).first()
    if feed is None:
        try:
            with transaction.atomic():
                return CalendarFeed.objects.create(agent=user, token=token, created_at=now)
        except IntegrityError:  # a second tab made it a moment ago: rotate that one
            feed = CalendarFeed.objects.select_for_update().get(agent=user)
    feed.token, feed.rotated_at = token, now
    feed.save(update_fields=["token", "rotated_at"])
    return feed

"""An appointment's words and times, as plain functions (the writes are services/appointments.py).

    appointment_when(starts_at, zone)       "Tue, May 5, 10:00 a.m.": the brokerage's format,
                                            on the wall clock where the appointment is
    reminder_times(starts_at, now, …)       when the agent's and the lead's reminders are due
    message_key(appointment, …)             the outbox key of one of its messages: a change
                                            bumps `sequence`, so the new ones never collide
                                            with the old, and a step run twice sends once
    agent_reminder_sms / _email             the agent's reminder (internal, like an alert: built
                                            in code from the lead's fields, no broker text)

What the lead receives is broker-editable copy (Template rows appointment_*), filled with the
appointment's placeholders below.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import dateformat

from leads.names import person_name
from leads.phones import phone_display

# The kinds as a sentence says them ("your listing presentation"); "other" is an appointment.
KIND_PHRASES = {
    "listing_presentation": "listing presentation",
    "showing": "showing",
    "buyer_consultation": "buyer consultation",
    "other": "appointment",
}

# What the lead is told, per moment, and the copy (Template key prefix) for it.
CONFIRMATION = "confirmation"  # at once, when booked
MOVED = "moved"  # at once, when the time or place changed
CANCELLED = "cancelled"  # at once, when cancelled
REMINDER = "reminder"  # the day before (the lead), an hour before (the agent)

WHEN_FORMAT = "D, M j, g:i a"  # Tue, May 5, 10:00 a.m.
TIME_FORMAT = "g:i a"


def kind_phrase(kind: str) -> str:
    return KIND_PHRASES.get(kind, "appointment")


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return ZoneInfo(settings.TIME_ZONE)


def appointment_when(moment: datetime, zone: str) -> str:
    """The appointment's time where it happens, in the brokerage's format; the zone's
    abbreviation follows when it is not the brokerage's own (an agent in another state)."""
    local = moment.astimezone(zone_of(zone))
    text = dateformat.format(local, WHEN_FORMAT)
    if zone and zone != settings.TIME_ZONE:
        text += f" {local.tzname()}"
    return text


def appointment_span(starts_at: datetime, ends_at: datetime, zone: str) -> str:
    """ "Tue, May 5, 10:00 a.m. to 11:00 a.m."."""
    end = dateformat.format(ends_at.astimezone(zone_of(zone)), TIME_FORMAT)
    return f"{appointment_when(starts_at, zone)} to {end}"


@dataclass(frozen=True)
class Reminders:
    """When the reminders of an appointment are due; None: none (the moment has passed)."""

    agent_at: datetime | None
    lead_at: datetime | None


def reminder_times(
    starts_at: datetime, *, now: datetime, agent_minutes: int, lead_hours: int
) -> Reminders:
    """The agent's reminder `agent_minutes` before, the lead's `lead_hours` before (the day
    before, by default). A moment already past gets no reminder: an appointment booked for
    this afternoon has just been confirmed, which is reminder enough. 0 turns one off."""
    agent_at = starts_at - timedelta(minutes=agent_minutes)
    lead_at = starts_at - timedelta(hours=lead_hours)
    return Reminders(
        agent_at=agent_at if agent_minutes > 0 and agent_at > now else None,
        lead_at=lead_at if lead_hours > 0 and lead_at > now else None,
    )


def message_key(appointment_id: int, sequence: int, what: str, audience: str, channel: str) -> str:
    """'appointment:12:0:reminder:lead:sms'. Every message of an appointment starts with
    'appointment:<id>:', which is how a change finds the ones to withdraw."""
    return f"{key_prefix(appointment_id)}{sequence}:{what}:{audience}:{channel}"


def key_prefix(appointment_id: int) -> str:
    return f"appointment:{appointment_id}:"


def placeholder_values(*, kind: str, starts_at: datetime, zone: str, place: str, agent) -> dict:
    """The appointment's placeholders (and the agent's, who may not be the lead's owner)."""
    profile = getattr(agent, "agent", None) if agent is not None else None
    values = {
        "appointment_kind": kind_phrase(kind),
        "appointment_time": appointment_when(starts_at, zone),
        "appointment_place": " ".join(place.split()) or "the place we agreed",
    }
    if agent is not None:
        values["agent_name"] = person_name(agent)
        values["agent_email"] = agent.email or settings.BROKERAGE_EMAIL
        values["agent_phone"] = phone_display(
            profile.phone if profile and profile.phone else settings.BROKERAGE_PHONE
        )
    return values


# --- The agent's reminder (internal) -----------------------------------------------------------


def _lead_name(lead) -> str:
    return lead.full_name or lead.email or phone_display(lead.phone) or f"lead #{lead.pk}"


def agent_reminder_sms(appointment, *, lead_url: str, minutes: int) -> str:
    lead = appointment.lead
    start = dateformat.format(
        appointment.starts_at.astimezone(zone_of(appointment.time_zone)), TIME_FORMAT
    )
    where = f" at {appointment.place}" if appointment.place else ""
    phone = f" Call {phone_display(lead.phone)}." if lead.phone else ""
    return (
        f"In {minutes} min: {appointment.get_kind_display()} with {_lead_name(lead)}, "
        f"{start}{where}.{phone} {lead_url}"
    )


def agent_reminder_email(appointment, *, lead_url: str) -> tuple[str, str]:
    lead = appointment.lead
    when = appointment_span(appointment.starts_at, appointment.ends_at, appointment.time_zone)
    subject = f"Reminder: {appointment.get_kind_display()} with {_lead_name(lead)}, {when}"
    lines = [
        f"{appointment.get_kind_display()} with {_lead_name(lead)}.",
        "",
        f"When:   {when}",
        f"Where:  {appointment.place or '—'}",
        f"Phone:  {phone_display(lead.phone) or '—'}"
        + (f"  tel:{lead.phone}" if lead.phone else ""),
        f"Email:  {lead.email or '—'}",
    ]
    if appointment.notes:
        lines += ["", appointment.notes]
    lines += ["", f"The lead: {lead_url}"]
    return subject, "\n".join(lines)

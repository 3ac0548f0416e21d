"""An agent's appointments, and their own follow-ups with a time, as an iCalendar feed (RFC 5545)
that Google Calendar, Apple Calendar and Outlook subscribe to. Built with the `icalendar`
library: the escaping, folding and date forms of the format are its job, not ours.

    feed_window(now)        the slice of time a feed holds: CALENDAR_FEED_PAST_DAYS back to
                            CALENDAR_FEED_FUTURE_DAYS ahead (a subscriber re-reads the whole feed
                            on every refresh, so the feed stays small however long the history)
    calendar_ical(...)      the feed as bytes

Each event's UID is stable per appointment (appointment-<id>@<host>) and its SEQUENCE is the
appointment's, bumped by every change (time, place, cancelled), so a calendar updates the event
it has instead of adding another. Times are in UTC. A cancelled appointment stays in the feed as
STATUS:CANCELLED (and says so in its title, for calendars that show cancelled events).

`icalendar` is imported by the functions that build a feed, not with this module: the URLconf
imports the feed's view, and every web and worker process would otherwise carry the library
(about 3 MB; docs/performance.md, "Memory") for the one view that uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings

if TYPE_CHECKING:
    from icalendar import Event

PRODID = "-//RealtyCRM//Appointments//EN"
REFRESH = timedelta(minutes=15)  # how often we ask calendars to read the feed again
TASK_MINUTES = 15  # a follow-up shows as a short event at its due time


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    return (
        now - timedelta(days=settings.CALENDAR_FEED_PAST_DAYS),
        now + timedelta(days=settings.CALENDAR_FEED_FUTURE_DAYS),
    )


def uid_domain() -> str:
    """The host in every UID: the site's, so two brokerages' feeds in one calendar never clash.
    (Changing SITE_URL's host makes calendars see new events once.)"""
    return urlsplit(settings.SITE_URL).hostname or "realtycrm"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _lead_name(lead) -> str:
    return lead.full_name or lead.email or lead.phone or f"Lead #{lead.pk}"


def appointment_event(appointment, *, lead_url: str, stamp: datetime, domain: str) -> Event:
    cancelled = appointment.status == appointment.Status.CANCELLED
    summary = f"{appointment.get_kind_display()}: {_lead_name(appointment.lead)}"
    if cancelled:
        summary = f"Cancelled: {summary}"
    elif appointment.status == appointment.Status.NO_SHOW:
        summary = f"No-show: {summary}"
    description = "\n\n".join(filter(None, [appointment.notes.strip(), f"The lead: {lead_url}"]))
    from icalendar import Event

    return Event.new(
        uid=f"appointment-{appointment.pk}@{domain}",
        start=_utc(appointment.starts_at),
        end=_utc(appointment.ends_at),
        summary=summary,
        location=appointment.place or None,
        description=description,
        url=lead_url,
        sequence=appointment.sequence,
        status="CANCELLED" if cancelled else "CONFIRMED",
        created=_utc(appointment.created_at),
        last_modified=_utc(appointment.updated_at),
        stamp=stamp,
        classification="PRIVATE",
        transparency="TRANSPARENT" if cancelled else "OPAQUE",
    )


def task_event(task, *, lead_url: str, stamp: datetime, domain: str) -> Event:
    """An open follow-up at its due time. A snooze moves it, so its SEQUENCE is the snoozes."""
    description = "\n\n".join(filter(None, [task.notes.strip(), f"The lead: {lead_url}"]))
    from icalendar import Event

    return Event.new(
        uid=f"task-{task.pk}@{domain}",
        start=_utc(task.due_at),
        end=_utc(task.due_at + timedelta(minutes=TASK_MINUTES)),
        summary=task.title,
        description=description,
        url=lead_url,
        sequence=task.snooze_count,
        status="CONFIRMED",
        created=_utc(task.created_at),
        stamp=stamp,
        classification="PRIVATE",
        transparency="TRANSPARENT",  # a reminder to do something, not busy time
    )


def calendar_ical(
    *,
    owner_id: int,
    name: str,
    appointments: Iterable,
    tasks: Iterable = (),
    lead_url: Callable[[int], str],
    now: datetime,
) -> bytes:
    """The feed: `appointments` and `tasks` (already chosen: the owner's, in the window) as
    events, `lead_url(lead_id)` the link to each lead's page."""
    from icalendar import Calendar, vDuration

    domain, stamp = uid_domain(), _utc(now)
    calendar = Calendar.new(
        prodid=PRODID,
        name=name,
        uid=f"calendar-{owner_id}@{domain}",
        method="PUBLISH",
        calscale="GREGORIAN",
        refresh_interval=REFRESH,
    )
    calendar["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"  # as RFC 7986 writes it
    calendar.add("X-PUBLISHED-TTL", vDuration(REFRESH))  # Outlook's and Apple's word for it
    for appointment in appointments:
        calendar.add_component(
            appointment_event(
                appointment, lead_url=lead_url(appointment.lead_id), stamp=stamp, domain=domain
            )
        )
    for task in tasks:
        calendar.add_component(
            task_event(task, lead_url=lead_url(task.lead_id), stamp=stamp, domain=domain)
        )
    return calendar.to_ical()

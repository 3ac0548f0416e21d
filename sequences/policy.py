"""May this message go now? Consent, opt-outs, quiet hours and the per-number cap.

Pure functions over plain values (the outbox gathers the facts):

    suppressed address (STOP, bounce, spam report, unsubscribe)  → suppress, whoever it is for
    to a lead:  no consent / opted out / no address               → suppress, with a sentence why
                automation paused or stopped (automated messages) → suppress
                SMS in the recipient's quiet hours                → defer to the next allowed minute
                automated SMS over the per-number cap             → acknowledgment: suppress;
                                                                    nurture: defer until room
    to an agent: internal, none of the lead rules apply.

Quiet hours are in the recipient's local time: the time zone(s) phonenumbers' data gives for the
number (all of them must be in their window when an area code spans two zones), else the
brokerage's TIME_ZONE. A stricter window can be set per state (the geocoder's region name).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from django.utils import dateformat
from django.utils.timezone import localtime
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezone

from realtycrm.clock import in_daily_window

# More zones than this means the number is not tied to a place (toll-free, non-geographic).
MAX_ZONES_FOR_A_PLACE = 3
SEND = "send"
DEFER = "defer"
SUPPRESS = "suppress"


@dataclass(frozen=True)
class Window:
    """Hours in which texts may arrive, local time. `end` of 24:00 is written time.max."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        return in_daily_window(moment, self.start, self.end) or (
            self.end == time.max and moment >= self.start
        )

    def __str__(self):
        end = "24:00" if self.end == time.max else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"


def parse_window(text: str) -> Window:
    """'08:00-21:00' → Window. Raises ValueError with a readable message."""
    try:
        start_text, end_text = (part.strip() for part in text.split("-"))
        start = time.fromisoformat(start_text)
        end = time.max if end_text == "24:00" else time.fromisoformat(end_text)
    except ValueError:
        raise ValueError(f"{text!r} is not a window like 08:00-21:00") from None
    if start >= end:
        raise ValueError(f"{text!r}: the window must start before it ends")
    return Window(start, end)


def parse_state_windows(text: str) -> dict[str, Window]:
    """'Florida=08:00-20:00,Oklahoma=08:00-20:00' → {'Florida': Window, …}."""
    windows = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, window = item.partition("=")
        if not window:
            raise ValueError(f"{item!r} is not like Florida=08:00-20:00")
        windows[name.strip()] = parse_window(window)
    return windows


@lru_cache(maxsize=4096)
def _number_facts(phone: str) -> tuple[tuple[str, ...], str]:
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return (), ""
    zones = tuple(
        zone for zone in phone_timezone.time_zones_for_number(number) if zone != "Etc/Unknown"
    )
    return zones, geocoder.description_for_number(number, "en")


def recipient_zones(phone: str, default_zone: str) -> tuple[str, ...]:
    """The time zones a phone number may be in; the brokerage's when the number does not say."""
    zones, _ = _number_facts(phone)
    if not zones or len(zones) > MAX_ZONES_FOR_A_PLACE:
        return (default_zone,)
    return zones


def recipient_window(phone: str, default: Window, by_state: dict[str, Window]) -> Window:
    _, region = _number_facts(phone)
    return by_state.get(region, default)


def _allowed(moment: datetime, zones: tuple[str, ...], window: Window) -> bool:
    return all(window.contains(moment.astimezone(ZoneInfo(zone)).time()) for zone in zones)


def next_allowed(now: datetime, zones: tuple[str, ...], window: Window) -> datetime:
    """`now` when a text may arrive now in every zone; else the first moment it may."""
    if _allowed(now, zones, window):
        return now
    candidates = []
    for zone in zones:
        tz = ZoneInfo(zone)
        today = now.astimezone(tz).date()
        for days in range(0, 3):
            day = today + timedelta(days=days)
            candidates.append(_local(day, window.start, tz))
    for candidate in sorted(c for c in candidates if c > now):
        if _allowed(candidate, zones, window):
            return candidate
    # The zones' windows never overlap (cannot happen with MAX_ZONES_FOR_A_PLACE neighbours):
    # use the first zone's.
    return next_allowed(now, zones[:1], window)


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def cap_release(recent: list[datetime], *, now: datetime, cap: int, period: timedelta):
    """None when another automated text fits under the cap; else when the next slot frees."""
    within = sorted(at for at in recent if at > now - period)
    if len(within) < cap:
        return None
    return within[len(within) - cap] + period


# --- The decision -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadFacts:
    first_name: str = ""
    phone: str = ""
    email: str = ""
    sms_consent: bool = False
    sms_opted_out_at: datetime | None = None
    email_opted_out_at: datetime | None = None


@dataclass(frozen=True)
class Gate:
    action: str  # send, defer, suppress
    reason: str = ""
    until: datetime | None = None


def on_date(moment: datetime) -> str:
    """'3 May', in the brokerage's time zone."""
    return dateformat.format(localtime(moment), "j F")


def lead_blocked_reason(lead: LeadFacts, channel: str) -> str:
    """Why this lead cannot get a message on this channel at all, as an agent would say it;
    "" when it can."""
    who = lead.first_name or "This lead"
    if channel == "sms":
        if not lead.phone:
            return "No mobile number on record"
        if lead.sms_opted_out_at:
            return f"{who} opted out of texts on {on_date(lead.sms_opted_out_at)}"
        if not lead.sms_consent:
            return "No SMS consent on record"
        return ""
    if not lead.email:
        return "No email address"
    if lead.email_opted_out_at:
        return f"{who} unsubscribed from email on {on_date(lead.email_opted_out_at)}"
    return ""


def decide(
    *,
    channel: str,
    audience: str,
    purpose: str,
    now: datetime,
    suppression: str = "",
    lead: LeadFacts | None = None,
    automation_note: str = "",
    allowed_from: datetime | None = None,
    cap_until: datetime | None = None,
) -> Gate:
    """Send, defer or suppress one message. `suppression` is why the address is on the
    suppression list ("" if not); `automation_note` why the lead's automation is not running
    ("" if it is); `allowed_from` the next moment a text may arrive; `cap_until` when the
    number's cap frees a slot (None: room now)."""
    if suppression:
        return Gate(SUPPRESS, suppression)
    if audience != "lead":
        return Gate(SEND)
    automated = purpose in ("acknowledgment", "nurture")
    if lead is not None and purpose != "service":
        blocked = lead_blocked_reason(lead, channel)
        if blocked:
            return Gate(SUPPRESS, blocked)
    if automated and automation_note:
        return Gate(SUPPRESS, automation_note)
    if channel != "sms" or purpose == "service":
        return Gate(SEND)
    if allowed_from is not None and allowed_from > now:
        return Gate(DEFER, "Quiet hours where the recipient is", allowed_from)
    if automated and cap_until is not None:
        if purpose == "acknowledgment":
            return Gate(SUPPRESS, "Too many automated texts to this number in 24 hours")
        return Gate(DEFER, "Automated texts to this number are at their 24-hour cap", cap_until)
    return Gate(SEND)

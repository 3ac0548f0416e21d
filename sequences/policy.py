"""May this message go now? Consent, opt-outs, quiet hours and the per-number cap.

Pure functions over plain values (the outbox gathers the facts):

    suppressed address (STOP, bounce, spam report, unsubscribe)  → suppress, whoever it is for
    to a lead:  no consent / opted out / no address               → suppress, with a sentence why
                automation paused or stopped (automated messages) → suppress
                SMS in the recipient's quiet hours                → defer to the next allowed minute
                automated or campaign SMS over the per-number cap → acknowledgment: suppress;
                                                                    nurture, campaign: defer
                                                                    until room
    to an agent: internal, none of the lead rules apply.

Quiet hours are in the recipient's local time, and the number's area code says where that is:
sequences/data/nanp_area_codes.csv gives each NANP area code its state (or province) and every
time zone its numbers may be in. The text must be inside the window in all of them; a number
whose area code is not in the table (toll-free, non-geographic, outside the NANP) uses the
brokerage's TIME_ZONE. A state may have a stricter window (SMS_SENDING_HOURS_BY_STATE).

The area code, not the phone library's geocoder: the geocoder names a city for most exchanges
("Miami, FL"), so a state's rule missed most of its numbers, and it costs ~98 MB per process.
"""

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils.timezone import localtime

from realtycrm import formats
from realtycrm.clock import in_daily_window

DATA = Path(__file__).resolve().parent / "data"
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


def parse_state_windows(text: str, names: dict[str, str] | None = None) -> dict[str, Window]:
    """'FL=08:00-20:00,Oklahoma=08:00-20:00' → {'FL': Window, 'OK': Window}.

    A state (or province) is named by its postal code or its name, in any case (`names`: both,
    folded, → code; by default the shipped regions). A name that is neither is refused: a typo
    must not quietly drop a state's stricter window."""
    names = region_names() if names is None else names
    windows = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, window = item.partition("=")
        if not window:
            raise ValueError(f"{item!r} is not like FL=08:00-20:00")
        code = names.get(name.strip().casefold())
        if code is None:
            raise ValueError(f"{name.strip()!r} is not a US state, territory or Canadian province")
        windows[code] = parse_window(window)
    return windows


# --- Where a number is: its area code ----------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """What an area code says about its numbers: the country (ISO 3166), the states or
    provinces (postal codes; none outside the US and Canada) and every time zone."""

    country: str
    regions: tuple[str, ...]
    zones: tuple[str, ...]


def parse_area_codes(text: str) -> dict[str, Place]:
    """nanp_area_codes.csv → {'305': Place('US', ('FL',), ('America/New_York',)), …}.

    Lines starting with # are comments. Raises ValueError, naming the row, for a malformed row
    or an area code listed twice (two rows would make the answer depend on their order)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(lines)
    if reader.fieldnames != ["area_code", "country", "region", "time_zones"]:
        raise ValueError(f"unexpected header {reader.fieldnames!r}")
    places: dict[str, Place] = {}
    for row in reader:
        code, zones = row["area_code"], tuple(filter(None, (row["time_zones"] or "").split(";")))
        if not re.fullmatch(r"[2-9]\d\d", code or "") or not row["country"] or not zones:
            raise ValueError(f"area code row {row!r} is malformed")
        if code in places:
            raise ValueError(f"area code {code} is listed twice")
        regions = tuple(filter(None, (row["region"] or "").split(";")))
        places[code] = Place(row["country"], regions, zones)
    return places


def parse_regions(text: str) -> dict[str, str]:
    """nanp_regions.csv → {'FL': 'Florida', …}."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {row["code"]: row["name"] for row in csv.DictReader(lines)}


@lru_cache(maxsize=1)
def area_codes() -> dict[str, Place]:
    """The shipped table, read once per process."""
    return parse_area_codes((DATA / "nanp_area_codes.csv").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def regions() -> dict[str, str]:
    """The shipped states, territories and provinces: postal code → name."""
    return parse_regions((DATA / "nanp_regions.csv").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def region_names() -> dict[str, str]:
    """Postal code or name, folded → postal code ('fl' and 'florida' → 'FL')."""
    folded = {}
    for code, name in regions().items():
        folded[code.casefold()] = folded[name.casefold()] = code
    return folded


_NANP = re.compile(r"\+1([2-9]\d\d)[2-9]\d{6}")


def area_code(phone: str) -> str:
    """'+13055550123' → '305'; '' for anything that is not a NANP number in E.164 (the form
    every stored phone is in)."""
    match = _NANP.fullmatch(phone.strip())
    return match.group(1) if match else ""


def recipient_place(phone: str) -> Place | None:
    """Where the area code says this number is; None when the table does not know it."""
    return area_codes().get(area_code(phone))


def recipient_zones(phone: str, default_zone: str) -> tuple[str, ...]:
    """The time zones a phone number may be in; the brokerage's when the number does not say."""
    place = recipient_place(phone)
    return place.zones if place else (default_zone,)


def recipient_window(phone: str, default: Window, by_state: dict[str, Window]) -> Window:
    """The window for this number: its state's when that state has one, else the default.

    `by_state` is keyed by postal code. An area code shared by several provinces (902: Nova
    Scotia and Prince Edward Island) gets the hours all of them allow; if those do not overlap
    at all, the first province's."""
    place = recipient_place(phone)
    if place is None:
        return default
    windows = [by_state.get(region, default) for region in place.regions] or [default]
    start, end = max(w.start for w in windows), min(w.end for w in windows)
    return Window(start, end) if start < end else windows[0]


def quiet_hours_apply(*, channel: str, audience: str, purpose: str) -> bool:
    """Quiet hours hold every text to a lead, automated or an agent's own; not a HELP answer
    (carriers require it at once, and the lead just wrote to us) or a message to an agent."""
    return channel == "sms" and audience == "lead" and purpose != "service"


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
    # The zones' windows never overlap (a window of a few hours across zones hours apart; no
    # area code in the table spans that far): use the first zone's, the area code's main one.
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
    """'May 3', in the brokerage's time zone and conventions (realtycrm.formats)."""
    return formats.day(localtime(moment))


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
    capped = automated or purpose == "campaign"  # marketing: the per-number cap counts it
    if lead is not None and purpose != "service":
        blocked = lead_blocked_reason(lead, channel)
        if blocked:
            return Gate(SUPPRESS, blocked)
    if automated and automation_note:
        return Gate(SUPPRESS, automation_note)
    if not quiet_hours_apply(channel=channel, audience=audience, purpose=purpose):
        return Gate(SEND)
    if allowed_from is not None and allowed_from > now:
        return Gate(DEFER, "Quiet hours where the recipient is", allowed_from)
    if capped and cap_until is not None:
        if purpose == "acknowledgment":
            return Gate(SUPPRESS, "Too many automated texts to this number in 24 hours")
        return Gate(DEFER, "Automated texts to this number are at their 24-hour cap", cap_until)
    return Gate(SEND)

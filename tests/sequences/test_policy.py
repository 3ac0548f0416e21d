"""May a message go now? Pure decisions: no database, times given explicitly."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from sequences import policy

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
WINDOW = policy.parse_window("08:00-21:00")


def at(zone, *args):
    return datetime(*args, tzinfo=zone)


def test_parse_window_reads_hours_and_refuses_nonsense():
    assert policy.parse_window("08:00-21:00") == policy.Window(time(8), time(21))
    assert policy.parse_window("00:00-24:00").contains(time(23, 59))
    for bad in ("8-9pm", "21:00-08:00", "08:00"):
        with pytest.raises(ValueError):
            policy.parse_window(bad)
    assert policy.parse_state_windows("FL=08:00-20:00, oklahoma=08:00-20:00") == {
        "FL": policy.Window(time(8), time(20)),
        "OK": policy.Window(time(8), time(20)),
    }


def test_the_shipped_state_windows_are_florida_oklahoma_and_maryland_until_eight():
    assert policy.parse_state_windows(settings.SMS_SENDING_HOURS_BY_STATE) == SHIPPED
    old_spelling = "Florida=08:00-20:00,Oklahoma=08:00-20:00,Maryland=08:00-20:00"
    assert policy.parse_state_windows(old_spelling) == SHIPPED
    assert set(SHIPPED) == {"FL", "OK", "MD"}
    assert {str(window) for window in SHIPPED.values()} == {"08:00-20:00"}


def test_a_state_window_naming_no_state_is_refused_rather_than_ignored():
    # "Floridaa" would otherwise leave Florida on the 21:00 default without a word.
    with pytest.raises(ValueError, match="Floridaa"):
        policy.parse_state_windows("Floridaa=08:00-20:00")


@pytest.mark.parametrize(
    ("phone", "zones"),
    [
        ("+14135550187", ("America/New_York",)),  # Springfield, MA
        ("+12135550100", ("America/Los_Angeles",)),  # Los Angeles
        ("+19075550100", ("America/Anchorage", "America/Adak")),  # Alaska spans two
        ("+18504321234", ("America/Chicago", "America/New_York")),  # Pensacola: 850 spans two
        ("+13052221234", ("America/New_York",)),  # Miami
        ("+14052351234", ("America/Chicago",)),  # Oklahoma City
        ("+18005550100", ("America/New_York",)),  # toll-free: not a place → brokerage's
        ("+447700900123", ("America/New_York",)),  # the data has no zone → brokerage's
        ("not a number", ("America/New_York",)),
    ],
)
def test_the_recipient_time_zone_comes_from_the_number(phone, zones):
    assert policy.recipient_zones(phone, "America/New_York") == zones


def test_a_text_inside_the_window_goes_now():
    now = at(NY, 2026, 5, 4, 12, 0)
    assert policy.next_allowed(now, ("America/New_York",), WINDOW) == now


def test_a_text_due_at_night_waits_for_eight_in_the_recipients_morning():
    # 23:30 in New York is 20:30 in Los Angeles: a New York number waits, an LA one does not.
    now = at(NY, 2026, 5, 4, 23, 30)
    assert policy.next_allowed(now, ("America/New_York",), WINDOW) == at(NY, 2026, 5, 5, 8, 0)
    assert policy.next_allowed(now, ("America/Los_Angeles",), WINDOW) == now
    # 06:00 in New York is 03:00 in LA: the LA number waits until 08:00 LA time.
    early = at(NY, 2026, 5, 4, 6, 0)
    assert policy.next_allowed(early, ("America/Los_Angeles",), WINDOW) == at(LA, 2026, 5, 4, 8)


def test_the_window_ends_at_nine_sharp():
    assert policy.next_allowed(at(NY, 2026, 5, 4, 20, 59), ("America/New_York",), WINDOW) == at(
        NY, 2026, 5, 4, 20, 59
    )
    assert policy.next_allowed(at(NY, 2026, 5, 4, 21, 0), ("America/New_York",), WINDOW) == at(
        NY, 2026, 5, 5, 8, 0
    )


def test_a_number_spanning_two_zones_waits_until_it_is_allowed_in_both():
    zones = ("America/Adak", "America/Anchorage")  # Adak is an hour behind Anchorage
    now = at(ZoneInfo("America/Anchorage"), 2026, 5, 4, 8, 30)  # 07:30 in Adak
    assert policy.next_allowed(now, zones, WINDOW) == at(ZoneInfo("America/Adak"), 2026, 5, 4, 8)


def test_daylight_saving_changes_move_the_morning_with_the_clock():
    # The night the clocks go forward in New York: the next allowed time is still 08:00 local.
    now = at(NY, 2026, 3, 8, 1, 30)
    allowed = policy.next_allowed(now, ("America/New_York",), WINDOW)
    assert allowed == at(NY, 2026, 3, 8, 8, 0)
    # Real time elapsed (not wall-clock): one hour vanished at 02:00.
    assert allowed.astimezone(UTC) - now.astimezone(UTC) == timedelta(hours=5, minutes=30)


def test_a_stricter_state_window_applies_to_that_states_numbers():
    by_state = {"FL": policy.parse_window("08:00-20:00")}
    assert policy.recipient_window("+13055550100", WINDOW, by_state) == by_state["FL"]
    assert policy.recipient_window("+14135550187", WINDOW, by_state) == WINDOW


SHIPPED = policy.parse_state_windows("FL=08:00-20:00,OK=08:00-20:00,MD=08:00-20:00")
CHICAGO = ZoneInfo("America/Chicago")


def held_until(phone, now, by_state=SHIPPED):
    """When a text due `now` may reach `phone`, as the outbox decides it."""
    zones = policy.recipient_zones(phone, "America/New_York")
    return policy.next_allowed(now, zones, policy.recipient_window(phone, WINDOW, by_state))


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        # Exchanges the phone library's geocoder names as a city ("Miami, FL"), which no
        # state's window matched: they used to get the 21:00 default.
        ("+13052221234", NY),  # Miami, FL
        ("+17862421234", NY),  # Miami, FL, on the 786 overlay
        ("+14052351234", CHICAGO),  # Oklahoma City, OK
        ("+19185821234", CHICAGO),  # Tulsa, OK
        ("+14103321234", NY),  # Baltimore, MD
        ("+13014961234", NY),  # Bethesda, MD
    ],
)
def test_florida_oklahoma_and_maryland_texts_stop_at_eight_pm_local(phone, zone):
    evening = at(zone, 2026, 5, 4, 20, 30)
    assert held_until(phone, evening) == at(zone, 2026, 5, 5, 8, 0)
    assert held_until(phone, at(zone, 2026, 5, 4, 19, 59)) == at(zone, 2026, 5, 4, 19, 59)


def test_other_states_keep_the_nine_pm_default():
    evening = at(NY, 2026, 5, 4, 20, 30)
    for phone in ("+14135550187", "+12125551234", "+14045551234"):  # MA, NY, GA
        assert held_until(phone, evening) == evening


def test_a_pensacola_text_keeps_central_time_and_the_florida_window():
    # 850 is Central in Pensacola and Eastern in Tallahassee: the text must be inside the
    # window in both, so it stops at 20:00 Eastern (19:00 in Pensacola) and starts at 08:00
    # Central.
    pensacola = "+18504321234"
    assert "America/Chicago" in policy.recipient_zones(pensacola, "America/New_York")
    assert held_until(pensacola, at(CHICAGO, 2026, 5, 4, 20, 30)) == at(CHICAGO, 2026, 5, 5, 8)
    assert held_until(pensacola, at(CHICAGO, 2026, 5, 4, 19, 30)) == at(CHICAGO, 2026, 5, 5, 8)
    assert held_until(pensacola, at(NY, 2026, 5, 5, 8, 30)) == at(CHICAGO, 2026, 5, 5, 8)


def test_an_area_code_shared_by_two_provinces_gets_the_hours_both_allow():
    by_state = {"NS": policy.parse_window("09:00-20:00")}
    halifax = "+19025551234"  # 902: Nova Scotia and Prince Edward Island
    assert policy.recipient_window(halifax, WINDOW, by_state) == policy.Window(time(9), time(20))


@pytest.mark.parametrize(
    ("phone", "area_code"),
    [
        ("+13055550123", "305"),
        ("+447700900123", ""),  # not NANP
        ("+18005550100", "800"),  # toll-free: a code, but not a place (not in the table)
        ("+1305555012", ""),  # too short
        ("+11055550123", ""),  # an area code never starts with 0 or 1
        ("3055550123", ""),  # not E.164
        ("", ""),
    ],
)
def test_the_area_code_is_read_from_an_e164_number(phone, area_code):
    assert policy.area_code(phone) == area_code


def test_the_cap_allows_three_automated_texts_per_24_hours_then_says_when_a_slot_frees():
    now = at(NY, 2026, 5, 4, 12, 0)
    day = timedelta(hours=24)
    two = [now - timedelta(hours=5), now - timedelta(hours=1)]
    assert policy.cap_release(two, now=now, cap=3, period=day) is None
    three = [now - timedelta(hours=20), *two]
    assert policy.cap_release(three, now=now, cap=3, period=day) == now + timedelta(hours=4)
    old = [now - timedelta(hours=30), *two]
    assert policy.cap_release(old, now=now, cap=3, period=day) is None


def lead(**kwargs):
    defaults = {"first_name": "Sam", "phone": "+14135550187", "email": "sam@example.com"}
    return policy.LeadFacts(**{**defaults, "sms_consent": True, **kwargs})


NOW = at(NY, 2026, 5, 4, 12, 0)


@pytest.mark.parametrize(
    ("facts", "channel", "reason"),
    [
        (lead(phone=""), "sms", "No mobile number on record"),
        (lead(sms_consent=False), "sms", "No SMS consent on record"),
        (lead(sms_opted_out_at=at(NY, 2026, 5, 3, 9)), "sms", "Sam opted out of texts on May 3"),
        (lead(email=""), "email", "No email address"),
        (
            lead(email_opted_out_at=at(NY, 2026, 4, 1, 9)),
            "email",
            "Sam unsubscribed from email on Apr 1",
        ),
        (lead(), "sms", ""),
        (lead(), "email", ""),
    ],
)
@pytest.mark.usefixtures("clock")  # "May 3": the year is said only when it is not this one
def test_why_a_lead_cannot_be_messaged_is_a_sentence_an_agent_understands(facts, channel, reason):
    assert policy.lead_blocked_reason(facts, channel) == reason


def decide(**kwargs):
    defaults = {
        "channel": "sms",
        "audience": "lead",
        "purpose": "nurture",
        "now": NOW,
        "lead": lead(),
        "allowed_from": NOW,
    }
    return policy.decide(**{**defaults, **kwargs})


def test_a_consenting_lead_in_the_day_gets_the_text():
    assert decide() == policy.Gate(policy.SEND)


def test_quiet_hours_defer_and_never_drop():
    morning = NOW + timedelta(hours=9)
    gate = decide(allowed_from=morning)
    assert (gate.action, gate.until) == (policy.DEFER, morning)


def test_over_the_cap_an_acknowledgment_is_dropped_and_a_nurture_touch_waits():
    later = NOW + timedelta(hours=3)
    assert decide(purpose="acknowledgment", cap_until=later).action == policy.SUPPRESS
    assert decide(purpose="nurture", cap_until=later) == policy.Gate(
        policy.DEFER, "Automated texts to this number are at their 24-hour cap", later
    )
    assert decide(purpose="one_off", cap_until=later).action == policy.SEND  # a person wrote it


def test_paused_automation_stops_automated_messages_but_not_a_persons():
    note = "Automation paused: they replied"
    assert decide(automation_note=note) == policy.Gate(policy.SUPPRESS, note)
    assert decide(purpose="one_off", automation_note=note).action == policy.SEND


def test_messages_to_agents_ignore_the_leads_rules_but_not_a_suppressed_number():
    night = NOW + timedelta(hours=12)
    gate = decide(audience="agent", purpose="alert", lead=None, allowed_from=night, cap_until=night)
    assert gate.action == policy.SEND
    assert decide(audience="agent", suppression="Replied STOP").action == policy.SUPPRESS


def test_a_help_answer_goes_at_once_even_at_night():
    assert decide(purpose="service", allowed_from=NOW + timedelta(hours=8)).action == policy.SEND

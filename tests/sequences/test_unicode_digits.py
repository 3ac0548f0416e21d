"""Numbers read from what a provider or a mapping sends: str.isdigit() accepts "²" and other
Unicode digits that int() refuses, so each reader checks for ASCII digits (a 500 otherwise)."""

from integrations.api_events import _at_path
from sequences.backends import sendgrid, twilio, twilio_voice


def test_a_call_duration_in_unicode_digits_is_unknown():
    leg = twilio_voice.leg_from_status(
        {"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "²"}
    )
    assert leg.duration_seconds is None


def test_a_twilio_error_code_in_unicode_digits_is_not_an_opt_out():
    (event,) = twilio.status_events(
        {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "²"}
    )
    assert event.kind != "opted_out"


def test_a_sendgrid_reference_in_unicode_digits_names_no_message():
    (event,) = sendgrid.events_from_payload(
        {
            "event": "delivered",
            "sg_event_id": "e1",
            "sg_message_id": "m.1",
            "realtycrm_message": "²",
        }
    )
    assert event.message_id is None


def test_a_mapping_path_with_a_unicode_digit_finds_nothing():
    assert _at_path({"answers": ["a", "b", "c"]}, "answers.²") is None
    assert _at_path({"answers": ["a", "b", "c"]}, "answers.2") == "c"

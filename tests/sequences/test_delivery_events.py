"""Each backend reads its provider's webhooks into neutral delivery events (no database)."""

import pytest

from sequences.backends.events import DeliveryEvent, DeliveryKind, InboundText
from sequences.backends.sendgrid import event_key, events_from_payload
from sequences.backends.twilio import inbound_text, status_callback_key, status_events

# --- Twilio status callbacks ---------------------------------------------------------------------


def receipt(status, code="", sid="SMd1"):
    payload = {"MessageSid": sid, "MessageStatus": status, "To": "+14135550187"}
    if code:
        payload["ErrorCode"] = code
    return payload


def test_a_twilio_delivered_receipt_is_delivered_and_only_read_comes_later():
    (event,) = status_events(receipt("delivered"))
    assert event == DeliveryEvent(
        kind=DeliveryKind.DELIVERED,
        provider_id="SMd1",
        status="delivered",
        superseded_by=frozenset({"read"}),
        proves_accepted=True,
    )


def test_a_late_twilio_sent_receipt_does_not_overwrite_delivered():
    (event,) = status_events(receipt("sent"))
    assert event.kind == DeliveryKind.ACCEPTED
    assert "delivered" in event.superseded_by
    assert "sending" not in event.superseded_by
    assert "sent" not in event.superseded_by


def test_delivered_and_failed_rank_the_same_so_a_later_failure_still_lands():
    (failed,) = status_events(receipt("failed", "30008"))
    assert failed.superseded_by == frozenset({"read"})


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_an_undelivered_text_fails_with_its_error_code_and_suppresses_nothing(status):
    (event,) = status_events(receipt(status, "30003"))
    assert (event.kind, event.status, event.detail) == (DeliveryKind.FAILED, status, "30003")
    assert event.address == ""  # the number comes from our message, never from the callback


def test_twilio_21610_in_a_receipt_is_a_carrier_opt_out():
    (event,) = status_events(receipt("failed", "21610"))
    assert event.kind == DeliveryKind.OPTED_OUT
    assert (event.status, event.detail) == ("failed", "21610")
    assert event.suppression_detail == "Twilio error 21610"


def test_a_twilio_status_word_it_does_not_know_is_other_and_comes_before_any_known_one():
    (event,) = status_events(receipt("Canceled"))
    assert (event.kind, event.status) == (DeliveryKind.OTHER, "canceled")
    assert {"queued", "delivered", "read"} <= event.superseded_by


def test_a_twilio_receipt_without_a_sid_reports_nothing():
    assert status_events({"MessageStatus": "delivered"}) == []


def test_a_status_callback_is_stored_once_per_message_and_status():
    assert status_callback_key(receipt("delivered")) == ("SMd1:delivered", "delivered")
    assert status_callback_key({"MessageSid": "SMd1"}) is None
    assert status_callback_key({"MessageStatus": "sent"}) is None


def test_an_inbound_text_is_read_from_twilios_form():
    form = {"SmsSid": "SMin", "From": "+14135550187", "To": "+14135550100", "Body": "STOP"}
    assert inbound_text(form) == InboundText(
        provider_id="SMin", sender="+14135550187", to="+14135550100", body="STOP"
    )
    assert inbound_text({"MessageSid": "SMin"}) is None


# --- SendGrid events -----------------------------------------------------------------------------


def sg(event, **fields):
    return {
        "email": "Ada@Example.com",
        "event": event,
        "sg_event_id": "ev1",
        "sg_message_id": "sgX.filter0001.123",
        "realtycrm_message": "42",
        "timestamp": 1777900000,
        **fields,
    }


def test_a_sendgrid_event_names_our_message_the_providers_id_and_the_address():
    (event,) = events_from_payload(sg("delivered", response="250 OK"))
    assert event == DeliveryEvent(
        kind=DeliveryKind.DELIVERED,
        message_id=42,
        provider_id="sgX",
        address="ada@example.com",
        status="delivered",
        detail="250 OK",
        proves_accepted=True,
    )


def test_without_our_reference_the_message_is_found_by_sendgrids_id():
    (event,) = events_from_payload(sg("delivered", realtycrm_message=""))
    assert (event.message_id, event.provider_id) == (None, "sgX")


def test_a_bounce_is_hard_and_keeps_its_reason_for_the_suppression():
    (event,) = events_from_payload(sg("bounce", type="bounce", reason="550 5.1.1 no such user"))
    assert (event.kind, event.status) == (DeliveryKind.BOUNCED_HARD, "bounce")
    assert event.detail == event.suppression_detail == "550 5.1.1 no such user"
    assert event.proves_accepted


def test_a_blocked_bounce_is_soft_and_keeps_nothing_for_a_suppression():
    (event,) = events_from_payload(sg("bounce", type="blocked", reason="421 try again later"))
    assert (event.kind, event.status) == (DeliveryKind.BOUNCED_SOFT, "bounce")
    assert (event.detail, event.suppression_detail) == ("421 try again later", "")


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("Bounced Address", DeliveryKind.BOUNCED_HARD),
        ("Invalid", DeliveryKind.BOUNCED_HARD),
        ("Unsubscribed Address", DeliveryKind.BOUNCED_HARD),
        ("Spam Reporting Address", DeliveryKind.BOUNCED_HARD),
        ("Exceeded Max Message Size", DeliveryKind.FAILED),
    ],
)
def test_a_drop_is_an_address_problem_only_when_sendgrid_says_so(reason, kind):
    (event,) = events_from_payload(sg("dropped", reason=reason))
    assert (event.kind, event.status, event.proves_accepted) == (kind, "dropped", True)


@pytest.mark.parametrize(
    ("name", "kind", "status", "proves_accepted"),
    [
        ("processed", DeliveryKind.ACCEPTED, "", True),
        ("deferred", DeliveryKind.DEFERRED, "deferred", True),
        ("spamreport", DeliveryKind.SPAM_REPORT, "spamreport", False),
        ("unsubscribe", DeliveryKind.UNSUBSCRIBED, "", False),
        ("group_unsubscribe", DeliveryKind.UNSUBSCRIBED, "", False),
        ("open", DeliveryKind.OPENED, "", True),
        ("click", DeliveryKind.CLICKED, "", True),
        ("group_resubscribe", DeliveryKind.OTHER, "", False),
    ],
)
def test_sendgrid_event_names_map_to_neutral_kinds(name, kind, status, proves_accepted):
    (event,) = events_from_payload(sg(name))
    assert (event.kind, event.status, event.proves_accepted) == (kind, status, proves_accepted)
    assert event.superseded_by == frozenset()  # SendGrid's events always apply


def test_a_sendgrid_event_is_stored_under_its_id_or_a_digest_of_itself():
    assert event_key(sg("delivered")) == ("ev1", "delivered")
    anonymous = {"event": "open", "email": "ada@example.com"}
    event_id, kind = event_key(anonymous)
    assert (event_id.startswith("sha256:"), kind) == (True, "open")
    assert event_key(dict(reversed(anonymous.items())))[0] == event_id

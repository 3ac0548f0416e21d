"""The provider backends, each sending its real request to a local fake of the API."""

import base64
import io

import pytest
from django.core.mail import EmailMultiAlternatives

from sequences.backends import (
    OutcomeUnknownError,
    PermanentError,
    RecipientOptedOutError,
    TransientError,
)
from sequences.backends.sendgrid import EmailBackend as SendGridBackend
from sequences.backends.sms import ConsoleBackend, OutgoingSms
from sequences.backends.twilio import TwilioBackend
from tests.sequences.conftest import twilio_message

SMS = OutgoingSms(
    to="+14135550187",
    body="Hi Ada, your comps are ready.",
    reference="42",
    status_callback="https://crm.example.com/webhooks/twilio/status/",
)


def twilio_backend(fake, **kwargs):
    return TwilioBackend(
        account_sid="AC123",
        auth_token="secret-token",
        api_url=fake.url,
        **{"messaging_service_sid": "MG456", **kwargs},
    )


def test_twilio_sends_from_the_messaging_service_with_a_status_callback(fake_api):
    fake_api.respond(201, twilio_message("SMabc"))
    assert twilio_backend(fake_api).send(SMS) == "SMabc"
    (request,) = fake_api.requests
    assert (request["method"], request["path"]) == (
        "POST",
        "/2010-04-01/Accounts/AC123/Messages.json",
    )
    assert request["data"] == {
        "To": "+14135550187",
        "Body": "Hi Ada, your comps are ready.",
        "MessagingServiceSid": "MG456",
        "StatusCallback": "https://crm.example.com/webhooks/twilio/status/",
    }
    assert (
        request["headers"]["Authorization"]
        == "Basic " + base64.b64encode(b"AC123:secret-token").decode()
    )


def test_twilio_can_send_from_a_number_instead(fake_api):
    fake_api.respond(201, twilio_message())
    twilio_backend(fake_api, messaging_service_sid="", from_number="+14135550100").send(SMS)
    assert fake_api.requests[0]["data"]["From"] == "+14135550100"


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (500, 20500, TransientError),
        (503, None, TransientError),
        (429, 20429, TransientError),
        (400, 21211, PermanentError),
        (400, 21614, PermanentError),
        (400, 21610, RecipientOptedOutError),
    ],
)
def test_twilio_errors_say_whether_to_try_again(fake_api, status, code, error):
    fake_api.respond(status, {"code": code, "message": "nope", "status": status})
    with pytest.raises(error) as raised:
        twilio_backend(fake_api).send(SMS)
    assert raised.type is error
    assert raised.value.transient is (error is TransientError)


def test_twilio_unreachable_is_an_unknown_outcome_to_check_before_retrying():
    backend = TwilioBackend(
        account_sid="AC123",
        auth_token="t",
        messaging_service_sid="MG1",
        api_url="http://127.0.0.1:9",
    )
    with pytest.raises(TransientError):
        backend.send(SMS)


def test_twilio_lookup_finds_an_earlier_attempt_by_number_body_and_time(fake_api):
    from datetime import UTC, datetime

    fake_api.respond(
        200,
        {
            "messages": [
                twilio_message("SMother", to=SMS.to, body="Something else"),
                twilio_message("SMmine", to=SMS.to, body=SMS.body),
            ],
            "next_page_uri": None,
        },
    )
    since = datetime(2026, 5, 4, 17, 59, 30, tzinfo=UTC)
    assert twilio_backend(fake_api).lookup(SMS, since=since) == "SMmine"
    assert fake_api.requests[0]["path"].startswith("/2010-04-01/Accounts/AC123/Messages.json?")
    assert "To=%2B14135550187" in fake_api.requests[0]["path"]
    fake_api.respond(200, {"messages": [], "next_page_uri": None})
    assert twilio_backend(fake_api).lookup(SMS, since=since) == ""


def test_twilio_lookup_that_cannot_reach_twilio_says_so_instead_of_not_found():
    from datetime import UTC, datetime

    backend = TwilioBackend(
        account_sid="AC123",
        auth_token="t",
        messaging_service_sid="MG1",
        api_url="http://127.0.0.1:9",
    )
    with pytest.raises(OutcomeUnknownError):
        backend.lookup(SMS, since=datetime(2026, 5, 4, 17, 59, tzinfo=UTC))


def test_twilio_lookup_past_its_reading_limit_cannot_tell(fake_api):
    from datetime import UTC, datetime

    page = [twilio_message(f"SM{n:032d}", to=SMS.to, body="Another alert") for n in range(50)]
    next_page = "/2010-04-01/Accounts/AC123/Messages.json?To=%2B14135550187&Page=1"
    fake_api.respond(200, {"messages": page, "next_page_uri": next_page}, times=4)
    since = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)
    assert twilio_backend(fake_api).lookup(SMS, since=since) is None
    assert len(fake_api.requests) == 4


def test_twilio_without_credentials_refuses_to_start():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="TWILIO_ACCOUNT_SID"):
        TwilioBackend(account_sid="", auth_token="")


def test_the_console_backend_prints_and_never_touches_the_network():
    stream = io.StringIO()
    provider_id = ConsoleBackend(stream=stream).send(SMS)
    assert provider_id.startswith("console-")
    assert "SMS to +14135550187" in stream.getvalue()
    assert SMS.body in stream.getvalue()


def email(**headers):
    message = EmailMultiAlternatives(
        subject="Your comps",
        body="Hi Ada,\n\nHere they are.",
        from_email="Harbor & Main Realty <hello@harborandmain.example>",
        to=["ada@example.com"],
        reply_to=["Alex Rivera <alex@harborandmain.example>"],
        headers={
            "X-RealtyCRM-Message": "42",
            "List-Unsubscribe": "<https://crm.example.com/email/unsubscribe/t/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            **headers,
        },
    )
    message.attach_alternative("<p>Hi Ada,</p>", "text/html")
    return message


def sendgrid(fake):
    return SendGridBackend(api_key="SG.test-key", api_url=fake.url)


def test_sendgrid_sends_the_v3_request_with_unsubscribe_headers_and_our_reference(fake_api):
    fake_api.respond(202, {}, {"X-Message-Id": "sg-msg-1"})
    message = email()
    assert sendgrid(fake_api).send_messages([message]) == 1
    assert message.provider_id == "sg-msg-1"
    (request,) = fake_api.requests
    assert (request["method"], request["path"]) == ("POST", "/v3/mail/send")
    assert request["headers"]["Authorization"] == "Bearer SG.test-key"
    body = request["data"]
    assert body["from"] == {"email": "hello@harborandmain.example", "name": "Harbor & Main Realty"}
    assert body["personalizations"][0]["to"] == [{"email": "ada@example.com"}]
    assert body["custom_args"] == {"realtycrm_message": "42"}  # comes back on every event
    assert body["subject"] == "Your comps"
    assert body["content"] == [
        {"type": "text/plain", "value": "Hi Ada,\n\nHere they are."},
        {"type": "text/html", "value": "<p>Hi Ada,</p>"},
    ]
    assert body["headers"]["List-Unsubscribe"] == "<https://crm.example.com/email/unsubscribe/t/>"
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert body["reply_to"] == {"email": "alex@harborandmain.example", "name": "Alex Rivera"}
    assert body["tracking_settings"]["click_tracking"]["enable"] is False


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, TransientError), (429, TransientError), (400, PermanentError), (401, PermanentError)],
)
def test_sendgrid_errors_say_whether_to_try_again(fake_api, status, error):
    fake_api.respond(status, {"errors": [{"message": "nope"}]})
    with pytest.raises(error) as raised:
        sendgrid(fake_api).send_messages([email()])
    assert raised.type is error


def test_sendgrid_unreachable_is_transient():
    backend = SendGridBackend(api_key="SG.x", api_url="http://127.0.0.1:9")
    with pytest.raises(TransientError) as raised:
        backend.send_messages([email()])
    assert not isinstance(raised.value, OutcomeUnknownError)


def test_sendgrid_without_a_key_refuses_to_start(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SENDGRID_API_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="SENDGRID_API_KEY"):
        SendGridBackend()

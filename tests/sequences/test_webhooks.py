"""Provider webhooks: signed requests only; STOP, HELP, replies, receipts, bounces."""

import base64
import json
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from leads.models import Lead, LeadEvent
from sequences import deliveries, tasks
from sequences.models import Message, Suppression, Task, Track, WebhookEvent
from sequences.outbox import message_dispatch, message_queue
from sequences.services.enrollment import enrollment_start, scheduler_tick
from tests.factories import AgentFactory, LeadFactory, MessageFactory
from tests.moments import NEW_YORK, NOON

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

INBOUND = reverse("sequences:twilio-inbound")
STATUS = reverse("sequences:twilio-status")
EVENTS = reverse("sequences:sendgrid-events")


def twilio_post(client, path, data, *, url=None, token=None):
    """POST as Twilio does: form-encoded, signed over the public URL and the parameters."""
    url = url or f"{settings.SITE_URL}{path}"
    signature = RequestValidator(token or settings.TWILIO_AUTH_TOKEN).compute_signature(url, data)
    return client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature)


def inbound(client, body, *, sender="+14135550187", sid="SM1", django_capture=None):
    data = {"MessageSid": sid, "From": sender, "To": "+14135550100", "Body": body}
    return twilio_post(client, INBOUND, data)


@pytest.fixture
def lead():
    owner = AgentFactory().user
    return LeadFactory(phone="+14135550187", texting=True, owner=owner, stage=Lead.Stage.CONTACTED)


# --- Twilio signatures ---------------------------------------------------------------------------


def test_an_unsigned_or_badly_signed_twilio_request_is_refused(client, lead, settings):
    data = {"MessageSid": "SM1", "From": lead.phone, "Body": "STOP"}
    assert client.post(INBOUND, data).status_code == 403
    assert twilio_post(client, INBOUND, data, token="someone-elses-token").status_code == 403
    assert (
        twilio_post(
            client, STATUS, {"MessageSid": "SM1", "MessageStatus": "sent"}, token="x"
        ).status_code
        == 403
    )
    settings.DEBUG = True  # no bypass for development either
    assert client.post(INBOUND, data).status_code == 403
    lead.refresh_from_db()
    assert lead.sms_opted_out_at is None


def test_the_signature_is_checked_against_the_public_url(client, lead, settings):
    settings.SITE_URL = "https://crm.harborandmain.example"
    data = {"MessageSid": "SM1", "From": lead.phone, "Body": "hi"}
    internal = twilio_post(client, INBOUND, data, url=f"http://testserver{INBOUND}")
    assert internal.status_code == 403
    assert twilio_post(client, INBOUND, data).status_code == 200


def test_twilio_webhooks_take_posts_only(client):
    assert client.get(INBOUND).status_code == 405


# --- Inbound texts -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["STOP", " stop ", "Unsubscribe", "please stop texting me"])
def test_stop_opts_the_number_out_at_once_for_every_sender(client, lead, sms_outbox, body):
    queued = MessageFactory(lead=lead, idempotency_key="queued-before-stop")
    response = inbound(client, body)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    lead.refresh_from_db()
    assert lead.sms_opted_out_at == NOON
    assert Suppression.objects.get().reason == "sms_stop"
    queued.refresh_from_db()
    assert queued.status == "suppressed"
    assert message_dispatch(queued.pk) is None
    assert lead.events.filter(kind=LeadEvent.Kind.OPTED_OUT).count() == 1
    assert sms_outbox == []


def test_after_stop_no_later_text_goes_until_start(client, lead, sms_outbox, mailoutbox, clock):
    enrollment_start(lead, Track.objects.get(key="hot_seller"), intent="hot")
    inbound(client, "STOP", sid="SMstop")
    for days in (1, 3, 7):
        clock.move_to(NOON + timedelta(days=days))
        scheduler_tick()
    assert sms_outbox == []
    assert len(mailoutbox) >= 2  # email is a separate consent: it carries on
    inbound(client, "START", sid="SMstart")
    lead.refresh_from_db()
    assert lead.sms_opted_out_at is None
    assert not Suppression.objects.exists()
    message_dispatch(MessageFactory(lead=lead, idempotency_key="after-start").pk)
    assert len(sms_outbox) == 1


def test_help_answers_with_the_brokerages_contact_even_at_night(
    client, lead, sms_outbox, clock, django_capture_on_commit_callbacks
):
    clock.move_to(datetime(2026, 5, 4, 23, 30, tzinfo=NEW_YORK))
    with django_capture_on_commit_callbacks(execute=True):
        inbound(client, "HELP")
    (answer,) = sms_outbox
    assert answer.to == lead.phone
    assert "Harbor & Main Realty" in answer.body and "(413) 555-0100" in answer.body
    assert "hello@harborandmain.example" in answer.body
    lead.refresh_from_db()
    assert lead.sms_opted_out_at is None
    assert not lead.tasks.exists()


def test_a_reply_pauses_automation_engages_the_lead_and_tasks_the_owner(client, lead):
    enrollment = enrollment_start(lead, Track.objects.get(key="homeowner_market_90"), intent="warm")
    inbound(client, "Yes please - what did 14 Elm sell for?", sid="SMreply")
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.ENGAGED
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.status_reason) == ("paused", "They replied by text")
    reply = lead.events.get(kind=LeadEvent.Kind.REPLY)
    assert reply.summary == "“Yes please - what did 14 Elm sell for?”"
    task = lead.tasks.get(kind=Task.Kind.REPLY)
    assert (task.agent, task.due_at) == (lead.owner, NOON + timedelta(minutes=15))
    assert task.notes == "Yes please - what did 14 Elm sell for?"
    assert lead.first_personal_contact_at is None  # their reply is not our contact


def test_twilio_retrying_the_same_inbound_text_is_handled_once(client, lead):
    inbound(client, "Call me tomorrow", sid="SMsame")
    inbound(client, "Call me tomorrow", sid="SMsame")
    assert lead.tasks.filter(kind=Task.Kind.REPLY).count() == 1
    assert lead.events.filter(kind=LeadEvent.Kind.REPLY).count() == 1
    assert WebhookEvent.objects.count() == 1


def test_a_text_from_a_stranger_is_kept_and_changes_nothing(client, lead):
    assert inbound(client, "who is this", sender="+16175550000").status_code == 200
    assert WebhookEvent.objects.get().payload["Body"] == "who is this"
    assert not Task.objects.exists()


def test_a_nul_byte_in_a_text_is_stored_replaced_and_the_text_handled(client, lead):
    """PostgreSQL cannot store NUL in JSON or text: the payload and the reply keep U+FFFD."""
    assert inbound(client, "Call me\x00 tomorrow", sid="SMnul").status_code == 200
    assert WebhookEvent.objects.get().payload["Body"] == "Call me\ufffd tomorrow"
    assert lead.tasks.get(kind=Task.Kind.REPLY).notes == "Call me\ufffd tomorrow"


# --- Twilio delivery receipts ----------------------------------------------------------------


def status_callback(client, django_capture_on_commit_callbacks, sid, status, code=""):
    data = {"MessageSid": sid, "MessageStatus": status}
    if code:
        data["ErrorCode"] = code
    with django_capture_on_commit_callbacks(execute=True):
        return twilio_post(client, STATUS, data)


def test_delivery_receipts_update_the_message_and_never_go_backwards(
    client, django_capture_on_commit_callbacks
):
    message = MessageFactory(status="sent", provider_id="SMd1")
    assert (
        status_callback(client, django_capture_on_commit_callbacks, "SMd1", "delivered").status_code
        == 204
    )
    status_callback(client, django_capture_on_commit_callbacks, "SMd1", "sent")
    message.refresh_from_db()
    assert (message.status, message.delivery_status) == ("sent", "delivered")


def test_an_undelivered_text_is_marked_failed_on_the_timeline(
    client, django_capture_on_commit_callbacks
):
    message = MessageFactory(status="sent", provider_id="SMu1")
    status_callback(client, django_capture_on_commit_callbacks, "SMu1", "undelivered", "30003")
    message.refresh_from_db()
    assert (message.status, message.delivery_status, message.last_error) == (
        "failed",
        "undelivered",
        "30003",
    )
    event = message.lead.events.get(kind=LeadEvent.Kind.MESSAGE_FAILED)
    assert "not delivered (undelivered: 30003)" in event.summary


def test_a_carrier_opt_out_in_a_receipt_suppresses_the_number(
    client, django_capture_on_commit_callbacks
):
    message = MessageFactory(status="sent", provider_id="SMo1")
    status_callback(client, django_capture_on_commit_callbacks, "SMo1", "failed", "21610")
    assert Suppression.objects.get(address=message.to).reason == "carrier_opt_out"


# --- SendGrid event webhook -------------------------------------------------------------------


@pytest.fixture
def sendgrid_key(settings):
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = base64.b64encode(public).decode()
    return private


def sendgrid_post(client, events, key, *, tamper=False, signed_at=None, body=None):
    """POST as SendGrid does: the JSON list, signed over the time of sending + the body."""
    body = json.dumps(events) if body is None else body
    timestamp = str(int((signed_at or timezone.now()).timestamp()))
    signature = base64.b64encode(
        key.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))
    ).decode()
    if tamper:
        body = body.replace("delivered", "bounce")
    return client.post(
        EVENTS,
        body,
        content_type="application/json",
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=signature,
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp,
    )


def sg_event(message, kind, event_id, **fields):
    return {
        "email": message.to,
        "event": kind,
        "sg_event_id": event_id,
        "sg_message_id": f"{message.provider_id}.filter0001",
        "realtycrm_message": str(message.pk),
        "timestamp": 1777900000,
        **fields,
    }


@pytest.fixture
def email_message():
    return MessageFactory(email=True, status="sent", provider_id="sg-1")


def test_signed_sendgrid_events_are_accepted_and_applied(
    client, sendgrid_key, email_message, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sendgrid_post(
            client, [sg_event(email_message, "delivered", "ev1")], sendgrid_key
        )
    assert response.status_code == 200
    email_message.refresh_from_db()
    assert email_message.delivery_status == "delivered"


def test_a_tampered_or_unsigned_sendgrid_post_is_refused(client, sendgrid_key, email_message):
    events = [sg_event(email_message, "delivered", "ev1")]
    assert sendgrid_post(client, events, sendgrid_key, tamper=True).status_code == 403
    other_key = ec.generate_private_key(ec.SECP256R1())
    assert sendgrid_post(client, events, other_key).status_code == 403
    unsigned = client.post(EVENTS, json.dumps(events), content_type="application/json")
    assert unsigned.status_code == 403
    assert not WebhookEvent.objects.exists()


def test_without_a_key_configured_unsigned_events_are_refused(client, email_message):
    """A forged "unsubscribe" must not suppress a real lead's address."""
    forged = [sg_event(email_message, "unsubscribe", "ev-forged")]
    response = client.post(EVENTS, json.dumps(forged), content_type="application/json")
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    assert not Suppression.objects.exists()


def test_development_may_take_unsigned_events(
    client, settings, email_message, django_capture_on_commit_callbacks
):
    settings.SENDGRID_WEBHOOK_ALLOW_UNSIGNED = True  # realtycrm.settings.dev; never production
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            EVENTS,
            json.dumps([sg_event(email_message, "delivered", "ev1")]),
            content_type="application/json",
        )
    assert response.status_code == 200
    assert WebhookEvent.objects.get().processed_at == NOON


@pytest.mark.parametrize("seconds", [-601, 601, -3600 * 24])
def test_a_signed_call_outside_the_window_is_refused(client, sendgrid_key, email_message, seconds):
    """A captured call cannot be replayed later (a repeat inside the window is deduplicated)."""
    events = [sg_event(email_message, "unsubscribe", "ev-replayed")]
    signed_at = NOON + timedelta(seconds=seconds)
    assert sendgrid_post(client, events, sendgrid_key, signed_at=signed_at).status_code == 403
    assert not WebhookEvent.objects.exists()


def test_a_signed_call_inside_the_window_is_accepted(client, sendgrid_key, email_message):
    events = [sg_event(email_message, "delivered", "ev-recent")]
    signed_at = NOON - timedelta(seconds=599)
    assert sendgrid_post(client, events, sendgrid_key, signed_at=signed_at).status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_a_batch_of_more_than_5000_events_is_stored_whole(client, sendgrid_key, email_message):
    events = [sg_event(email_message, "delivered", f"ev{n}") for n in range(5001)]
    assert sendgrid_post(client, events, sendgrid_key).status_code == 200
    assert WebhookEvent.objects.filter(provider="sendgrid").count() == 5001


def test_events_beyond_one_runs_share_are_applied_by_the_next_run(email_message, monkeypatch):
    monkeypatch.setattr(deliveries, "WEBHOOK_EVENTS_PER_RUN", 2)
    for n in range(5):
        event = sg_event(email_message, "delivered", f"ev{n}")
        WebhookEvent.objects.create(provider="sendgrid", event_id=f"ev{n}", payload=event)
    assert tasks.webhook_events_process() == 2  # and it queued the next run, which ran (sync)
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()


def test_nul_bytes_and_lone_surrogates_in_events_are_stored_replaced(client, sendgrid_key):
    body = '[{"event": "delivered", "sg_event_id": "ev\\u0000", "reason": "x\\ud800y"}]'
    assert sendgrid_post(client, None, sendgrid_key, body=body).status_code == 200
    stored = WebhookEvent.objects.get()
    assert (stored.event_id, stored.payload["reason"]) == ("ev\ufffd", "x\ufffdy")


def test_sendgrid_events_are_deduplicated_on_their_id(
    client, sendgrid_key, email_message, django_capture_on_commit_callbacks
):
    events = [sg_event(email_message, "spamreport", "ev-spam")]
    with django_capture_on_commit_callbacks(execute=True):
        sendgrid_post(client, events, sendgrid_key)
        sendgrid_post(client, events, sendgrid_key)
    assert WebhookEvent.objects.count() == 1
    assert email_message.lead.events.filter(kind=LeadEvent.Kind.OPTED_OUT).count() == 1


@pytest.mark.parametrize(
    ("kind", "fields", "reason", "opted_out"),
    [
        ("bounce", {"type": "bounce", "reason": "550 5.1.1 no such user"}, "bounce", False),
        ("dropped", {"reason": "Bounced Address"}, "bounce", False),
        ("spamreport", {}, "spam_report", True),
        ("unsubscribe", {}, "unsubscribe", True),
        ("group_unsubscribe", {}, "unsubscribe", True),
    ],
)
def test_bounces_spam_reports_and_unsubscribes_suppress_the_address(
    client,
    sendgrid_key,
    email_message,
    django_capture_on_commit_callbacks,
    kind,
    fields,
    reason,
    opted_out,
):
    queued = MessageFactory(lead=email_message.lead, email=True, idempotency_key="next-email")
    with django_capture_on_commit_callbacks(execute=True):
        sendgrid_post(client, [sg_event(email_message, kind, "ev", **fields)], sendgrid_key)
    assert Suppression.objects.get(channel="email").reason == reason
    queued.refresh_from_db()
    assert queued.status == "suppressed"
    email_message.lead.refresh_from_db()
    assert (email_message.lead.email_opted_out_at is not None) is opted_out


def test_a_blocked_bounce_is_not_a_bad_address(
    client, sendgrid_key, email_message, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sendgrid_post(
            client, [sg_event(email_message, "bounce", "ev", type="blocked")], sendgrid_key
        )
    assert not Suppression.objects.exists()
    email_message.refresh_from_db()
    assert email_message.status == "sent"


def test_a_sendgrid_post_that_is_not_a_list_of_events_is_a_bad_request(client, sendgrid_key):
    assert sendgrid_post(client, None, sendgrid_key, body="not json").status_code == 400
    assert sendgrid_post(client, None, sendgrid_key, body='{"event": "x"}').status_code == 400


def test_an_email_whose_worker_died_after_sendgrid_took_it_is_recovered_from_its_event(
    client, clock, sendgrid_key, mailoutbox, django_capture_on_commit_callbacks
):
    lead = LeadFactory()
    message = message_queue(
        channel="email",
        to=lead.email,
        subject="Your comps",
        body="Here they are.",
        idempotency_key="stuck-email",
        purpose="nurture",
        audience="lead",
        lead=lead,
    )
    Message.objects.filter(pk=message.pk).update(
        status="sending", claimed_at=NOON, lease_expires_at=NOON + timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        sendgrid_post(
            client,
            [sg_event(message, "processed", "ev-p", sg_message_id="sgX.filter1")],
            sendgrid_key,
        )
    clock.move_to(NOON + timedelta(minutes=6))
    scheduler_tick()
    message.refresh_from_db()
    assert (message.status, message.provider_id) == ("sent", "sgX")
    assert mailoutbox == []  # not sent a second time

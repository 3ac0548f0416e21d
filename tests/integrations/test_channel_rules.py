"""The rules every channel keeps, found wanting by a review of the channels and held here: what a
key may read, what consent an integration may vouch for, who gets a lead whose named agent is
away, what a negated timeline means, and malformed input that must never be a 500."""

import base64
import hashlib
import hmac
import json

import pytest
from django.test import Client

from integrations import api_events
from integrations.api_keys import api_integration_create
from leads.models import ConsentRecord, Integration, Lead, Submission
from leads.timelines import timeline_from_text
from realtycrm.flows.contacts import lead_claim
from realtycrm.flows.intake import submission_release
from sequences.models import Message, Suppression, Task
from sequences.services.suppressions import address_suppress, is_suppressed
from tests.factories import (
    AgentFactory,
    AssignmentRuleFactory,
    ClaimOfferFactory,
    IntegrationFactory,
    LeadFactory,
)
from tests.integrations.email_helpers import INBOX, eml, post_email, raw_post

pytestmark = [pytest.mark.django_db]

JORDAN_PHONE = "+14135550142"  # the person in zillow_tour_request.eml
META_URL = "/webhooks/meta/leadgen/"


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def post_event(key: str, body: dict):
    return Client(raise_request_exception=False).post(
        "/api/v1/events",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(key),
    )


# --- What a key may read ---------------------------------------------------------------------------


def test_a_key_learns_nothing_about_a_lead_another_source_brought(
    alex, django_capture_on_commit_callbacks
):
    lead = LeadFactory(
        first_name="Grace",
        last_name="Hopper",
        email="grace@example.com",
        phone="+14135550177",
        owner=alex,
    )  # came in through our own form
    _integration, key = api_integration_create("A lead vendor", origin="Vendor")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(key, {"person": {"emails": [{"value": "grace@example.com"}]}})

    assert response.status_code == 200  # the lead took the inquiry...
    person = response.json()
    assert person["id"] == lead.pk
    # ...but the answer holds only what the vendor itself sent.
    assert "+14135550177" not in json.dumps(person)
    assert person["firstName"] == "" and person["assignedTo"] is None
    assert person["emails"] == [{"value": "grace@example.com", "isPrimary": True}]
    # Nor does the re-inquiry make the lead the key's to look up.
    people = Client().get("/api/v1/people?email=grace@example.com", HTTP_AUTHORIZATION=basic(key))
    assert people.json()["_metadata"]["total"] == 0


def test_a_nul_in_a_people_lookup_is_no_error(alex):
    _integration, key = api_integration_create("IDX", origin="IDX")
    response = Client(raise_request_exception=False).get(
        "/api/v1/people?email=a%00b%40example.com", HTTP_AUTHORIZATION=basic(key)
    )
    assert response.status_code == 200
    assert response.json()["people"] == []


# --- Consent an integration may vouch for ----------------------------------------------------------


def test_an_integrations_consent_record_never_lifts_a_stop(
    alex, django_capture_on_commit_callbacks
):
    integration, key = api_integration_create("IDX", origin="IDX")
    Integration.objects.filter(pk=integration.pk).update(
        sms_consent_collected=True, sms_consent_wording="Text me about homes."
    )
    lead = LeadFactory(email="jordan@example.net", phone=JORDAN_PHONE, owner=alex)
    address_suppress(Message.Channel.SMS, JORDAN_PHONE, reason=Suppression.Reason.SMS_STOP)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(key, {"person": {"emails": [{"value": "jordan@example.net"}]}})

    assert response.status_code == 200
    lead.refresh_from_db()
    assert is_suppressed("sms", JORDAN_PHONE)  # the person said STOP; the vendor cannot undo it
    assert lead.sms_opted_out_at is not None
    assert not ConsentRecord.objects.filter(lead=lead).exists()


def test_consent_evidence_in_the_payload_still_lifts_a_stop(
    alex, django_capture_on_commit_callbacks
):
    _integration, key = api_integration_create("IDX", origin="IDX")
    lead = LeadFactory(email="jordan@example.net", phone=JORDAN_PHONE, owner=alex)
    address_suppress(Message.Channel.SMS, JORDAN_PHONE, reason=Suppression.Reason.SMS_STOP)
    body = {
        "person": {
            "emails": [{"value": "jordan@example.net"}],
            "phones": [{"value": JORDAN_PHONE}],
        },
        "smsConsent": {"wording": "Yes, text me.", "timestamp": "2026-05-04T15:00:00Z"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        post_event(key, body)
    lead.refresh_from_db()
    assert not is_suppressed("sms", JORDAN_PHONE)  # the person's own act, with its evidence
    assert lead.sms_opted_out_at is None


@pytest.mark.parametrize(
    "timestamp", ["9999-12-31T23:59:59-12:00", "2030-01-01T00:00:00Z", "1990-01-01T00:00:00Z"]
)
def test_a_consent_time_that_is_no_real_moment_is_a_field_error(alex, clock, timestamp):
    _integration, key = api_integration_create("IDX", origin="IDX")
    body = {
        "person": {"emails": [{"value": "a@example.com"}], "phones": [{"value": "4135550111"}]},
        "smsConsent": {"wording": "I agree to texts", "timestamp": timestamp},
    }
    response = post_event(key, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "smsConsent.timestamp"
    assert Submission.objects.get().status == Submission.Status.REJECTED
    assert not Lead.objects.exists()


def test_a_spoofed_email_to_an_inbox_texts_nobody(
    client, alex, sam, django_capture_on_commit_callbacks
):
    Integration.objects.create(
        name="Zillow inbox",
        kind=Integration.Kind.EMAIL,
        inbox_address=INBOX,
        origin="Zillow",
        sms_consent_collected=True,  # (the admin refuses this for an inbox; the data may not)
        sms_consent_wording="Zillow's SMS box",
    )
    html = (
        '<meta name="lead_information_version" content="1.0">'
        '<meta name="lead_source" content="Zillow">'
        '<meta name="lead_name" content="Victim Person">'
        '<meta name="lead_phone" content="413-555-0166">'
        '<meta name="lead_time_frame" content="ASAP">'
    )
    data = {
        "from": "prankster@gmail.com",
        "to": INBOX,
        "subject": "hi",
        "html": html,
        "SPF": "fail",
        "headers": "Message-ID: <x1@gmail.com>\nFrom: prankster@gmail.com\n",
    }
    with django_capture_on_commit_callbacks(execute=True):  # the outbox dispatches
        post_email(client, data)
    lead = Lead.objects.get()
    assert not ConsentRecord.objects.exists()
    assert not lead.can_text
    texts = Message.objects.filter(lead=lead, channel="sms", audience="lead")
    assert not texts.filter(status=Message.Status.SENT).exists()


def test_the_admin_refuses_sms_consent_for_an_inbox(broker_client):
    response = broker_client.post(
        "/admin/leads/integration/add/",
        {
            "name": "Zillow inbox",
            "kind": "email",
            "active": "on",
            "default_source": "listing_ad",
            "field_mapping": "{}",
            "sms_consent_collected": "on",
            "sms_consent_wording": "We collect consent",
            "rate_limit": "120",
            "inbox_address": "zillow",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "An inbox cannot vouch for SMS consent" in response.content.decode()
    assert not Integration.objects.exists()


# --- Who gets the lead ----------------------------------------------------------------------------


def test_a_paused_plus_addressed_agent_falls_back_to_the_inboxs_owner(client, alex, sam):
    alex.agent.paused = True
    alex.agent.save()
    carol = AgentFactory(user__username="carol").user
    AssignmentRuleFactory(name="All to Carol", position=1, members=[carol])
    IntegrationFactory(
        kind=Integration.Kind.EMAIL, inbox_address=INBOX, origin="", default_owner=sam
    )
    post_email(
        client,
        raw_post(
            eml("zillow_tour_request.eml"),
            envelope_to=["leads+alex@inbox.harborandmain.example"],
        ),
    )
    assert Lead.objects.get().owner == sam  # the inbox's own owner, not the brokerage's rules


def test_the_agent_who_claims_a_channels_lead_without_consent_is_asked_to_call(alex, sam):
    lead = LeadFactory(channel="api", origin="Zillow", phone="+14135550190", owner=None)
    ClaimOfferFactory(lead=lead, agent=sam)
    assert lead_claim(lead, agent=sam)
    task = Task.objects.get(lead=lead, kind=Task.Kind.CALL)
    assert task.agent == sam
    assert "no consent to text" in task.title


# --- What is read, and read again ------------------------------------------------------------------


def test_an_event_our_reader_failed_on_is_read_again_once_it_is_fixed(alex, monkeypatch):
    _integration, key = api_integration_create("IDX", origin="IDX")
    real = api_events.event_read

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in our reader")

    monkeypatch.setattr(api_events, "event_read", broken)
    body = {"person": {"firstName": "Ada", "emails": [{"value": "ada@example.com"}]}}
    response = post_event(key, body)
    assert response.status_code == 202
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.FAILED

    monkeypatch.setattr(api_events, "event_read", real)  # the fix is deployed
    lead, why = submission_release(submission, actor=None)
    assert lead is not None, why
    assert (lead.first_name, lead.email, lead.channel) == ("Ada", "ada@example.com", "api")


@pytest.mark.parametrize(
    "text", ["Not immediately", "Not urgent", "Not within 3 months", "Not in the next 3 months"]
)
def test_a_negated_timeline_is_no_timeline_never_a_hot_one(text):
    assert timeline_from_text(text) is None


def test_after_a_while_is_later_than_that_while():
    assert timeline_from_text("After 3 months") == "3_to_6_months"
    assert timeline_from_text("Not sure yet") == "just_curious"  # itself an answer


def test_an_email_inbox_whose_mapping_is_not_an_object_still_reads_its_emails(client, alex):
    IntegrationFactory(
        kind=Integration.Kind.EMAIL, inbox_address=INBOX, origin="", field_mapping=["oops"]
    )
    post_email(client, raw_post(eml("zillow_tour_request.eml")))
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {
            "email": "From: Zillow <noreply@zillow.com>\r\nMessage-ID: <abc\x00@zillow.com>\r\n"
            "\r\nEmail: q@example.com"
        },
        {
            "to": "leads+al\x00ex@inbox.example",
            "from": "Zillow <noreply@zillow.com>",
            "subject": "New lead",
            "text": "Email: q3@example.com",
        },
    ],
    ids=["nul-in-message-id", "nul-in-plus-tag"],
)
def test_a_nul_in_an_emails_headers_is_stored_not_an_error(data):
    response = Client(raise_request_exception=False).post(
        "/inbound/email/test-inbound-email-token/", data
    )
    assert response.status_code < 500
    assert Submission.objects.count() == 1


def _meta_sign(body: bytes) -> str:
    return "sha256=" + hmac.new(b"test-meta-app-secret", body, hashlib.sha256).hexdigest()


def test_a_non_ascii_meta_signature_is_refused_not_an_error():
    response = Client(raise_request_exception=False).post(
        META_URL, b"{}", content_type="application/json", HTTP_X_HUB_SIGNATURE_256="sha256=\u00e9"
    )
    assert response.status_code == 403
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"object":"page","entry":[{"changes":[{"field":"leadgen","value":'
        b'{"leadgen_id":"1","page_id":"2","x":1e999}}]}]}',
    ],
    ids=["nested-too-deeply", "infinite-number"],
)
def test_a_signed_body_no_database_can_hold_is_a_400_and_kept(body):
    response = Client(raise_request_exception=False).post(
        META_URL, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=_meta_sign(body)
    )
    assert response.status_code == 400
    assert Submission.objects.get().status == Submission.Status.REJECTED

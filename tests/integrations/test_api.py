"""The Events API, as a lead source uses it: the same requests it sends to Follow Up Boss, our URL
and key instead, and every lead segmented, routed and acknowledged like a form's."""

import base64
import io
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from alerts.models import Alert
from integrations import api as events_api
from integrations.api_keys import api_integration_create, api_key_hash
from leads.models import ConsentRecord, Integration, Lead, LeadEvent, Submission, Tag
from realtycrm.flows import intake as intake_flow
from sequences.models import Message, Task
from tests.factories import AssignmentRuleFactory, LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

EVENTS = "/api/v1/events"
PEOPLE = "/api/v1/people"


def basic(username: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def event(**overrides) -> dict:
    """A Follow Up Boss-style event as an IDX site sends it; tests override what they exercise."""
    body = {
        "source": "harborandmain.com",
        "system": "IDX Broker",
        "type": "General Inquiry",
        "message": "Is the house on Elm Street still available?",
        "person": {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "emails": [{"value": "Ada@Example.com"}],
            "phones": [{"value": "(413) 555-0187"}],
            "tags": ["idx", "buyer"],
        },
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


@pytest.fixture
def api_key(alex, sam, broker):
    """The key of an Events API integration, named "IDX site"; the agents exist to be assigned."""
    _integration, key = api_integration_create("IDX site", origin="Harbor IDX")
    return key


@pytest.fixture
def send(api_key, django_capture_on_commit_callbacks):
    """POST an event (a dict, or a raw body) with the key, as the source's HTTP client would;
    what commits is dispatched (the outbox hands its messages to the in-memory backends)."""

    def send(body, *, key=None, client=None, raw=None, **headers):
        client = client or Client()
        headers.setdefault("HTTP_AUTHORIZATION", basic(api_key if key is None else key))
        data = raw if raw is not None else json.dumps(body)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                EVENTS,
                data=data,
                content_type="application/json",
                REMOTE_ADDR="203.0.113.9",
                **headers,
            )

    return send


def integration() -> Integration:
    return Integration.objects.get(name="IDX site")


# --- Happy paths: each type to a routed, acknowledged lead ----------------------------------------


@pytest.mark.parametrize(
    ("kind", "extra", "source", "side"),
    [
        (
            "Seller Inquiry",
            {"property": {"street": "12 Elm Street", "city": "Springfield", "code": "01103"}},
            "valuation",
            "seller",
        ),
        (
            "Property Inquiry",
            {
                "property": {
                    "street": "48 Harbor View Drive",
                    "city": "Springfield",
                    "state": "MA",
                    "code": 1103,
                    "mlsNumber": 73012345,
                    "price": 525000,
                    "url": "https://harborandmain.com/listing/73012345",
                    "bedrooms": "3",
                    "bathrooms": 2.5,
                }
            },
            "listing_ad",
            "buyer",
        ),
        (
            "Visited Open House",
            {"property": {"street": "48 Harbor View Drive"}, "side": "Buyer"},
            "open_house",
            "buyer",
        ),
        ("Registration", {}, "website", "unknown"),
        ("General Inquiry", {}, "website", "unknown"),
        ("Inquiry", {}, "website", "unknown"),
        ("Inquiry", {"property": {"street": "48 Harbor View Drive"}}, "listing_ad", "buyer"),
        ("Saved Property", {}, "website", "unknown"),
    ],
)
def test_each_event_type_makes_a_routed_acknowledged_lead(send, kind, extra, source, side):
    response = send(event(type=kind, timeline="6-12 months", **extra))

    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert (lead.source, lead.side, lead.channel) == (source, side, "api")
    assert lead.origin == "harborandmain.com"
    assert (lead.timeline, lead.intent) == ("6_to_18_months", "warm")
    assert (lead.email, lead.phone) == ("ada@example.com", "+14135550187")
    assert lead.owner is not None
    assert lead.nurture_track is not None
    assert lead.messages.filter(purpose=Message.Purpose.ACKNOWLEDGMENT, channel="email").exists()
    submission = Submission.objects.get()
    assert (submission.status, submission.created_lead, submission.lead) == ("accepted", True, lead)
    assert submission.data == event(type=kind, timeline="6-12 months", **extra)
    person = response.json()
    assert person["id"] == lead.pk
    assert (person["firstName"], person["lastName"], person["name"]) == (
        "Ada",
        "Lovelace",
        "Ada Lovelace",
    )
    assert person["emails"] == [{"value": "ada@example.com", "isPrimary": True}]
    assert person["phones"] == [{"value": "+14135550187", "isPrimary": True}]
    assert (person["source"], person["channel"], person["stage"]) == (source, "api", "new")
    assert person["assignedTo"] == lead.owner.get_full_name()
    # The person's tags are the lead's, filterable like any other tag.
    assert person["tags"] == ["buyer", "idx"]
    assert sorted(lead.tags.values_list("name", flat=True)) == ["buyer", "idx"]


def test_the_property_asked_about_is_on_the_lead_and_its_listing_in_the_attribution(send):
    send(
        event(
            type="Property Inquiry",
            property={
                "street": "48 Harbor View Drive",
                "city": "Springfield",
                "state": "MA",
                "code": 1103,
                "mlsNumber": 73012345,
                "price": 525000,
                "url": "https://harborandmain.com/listing/73012345",
                "bedrooms": "3",
                "bathrooms": 2.5,
            },
        )
    )
    lead = Lead.objects.get()
    assert lead.property_address == "48 Harbor View Drive, Springfield, MA"
    assert (lead.postal_code, lead.bedrooms, lead.bathrooms) == ("1103", 3, Decimal("2.5"))
    assert lead.message == "Is the house on Elm Street still available?"
    assert lead.attribution["property"] == {
        "mlsNumber": "73012345",
        "price": 525000,
        "url": "https://harborandmain.com/listing/73012345",
    }


def test_an_open_house_visit_names_the_open_house(send):
    send(event(type="Visited Open House", property={"street": "48 Harbor View Drive"}))
    lead = Lead.objects.get()
    assert (lead.source, lead.open_house, lead.property_address) == (
        "open_house",
        "48 Harbor View Drive",
        "",
    )


def test_a_hot_timeline_alerts_the_owner_at_once(send):
    response = send(event(type="Seller Inquiry", timeline="0-3 months"))
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.timeline, lead.intent) == ("within_3_months", "hot")
    alert = Alert.objects.get(lead=lead)
    assert alert.agent == lead.owner
    assert alert.reason == Alert.Reason.HOT_LEAD


def test_without_a_timeline_the_source_default_applies(send):
    send(event(type="Seller Inquiry"))
    lead = Lead.objects.get()
    assert (lead.timeline, lead.intent) == ("unknown", "warm")


def test_an_unrecognized_timeline_is_left_out_not_refused(send):
    response = send(event(type="Seller Inquiry", timeline="when the stars align"))
    assert response.status_code == 201
    assert Lead.objects.get().timeline == "unknown"


def test_origin_is_the_body_source_else_the_integrations_else_the_system(send):
    send(event(source="Zillow"))
    send(event(source=None, person={"emails": [{"value": "b@example.com"}]}))
    Integration.objects.update(origin="")
    send(event(source=None, person={"emails": [{"value": "c@example.com"}]}))
    origins = dict(Lead.objects.values_list("email", "origin"))
    assert origins == {
        "ada@example.com": "Zillow",
        "b@example.com": "Harbor IDX",
        "c@example.com": "IDX Broker",
    }


def test_campaign_fills_the_utm_fields_and_attribution_keeps_the_rest(send):
    response = send(
        event(
            campaign={"source": "facebook", "medium": "paid", "campaign": "spring-sellers"},
            sourceUrl="https://harborandmain.com/sell",
        ),
        HTTP_X_SYSTEM="Harbor IDX v2",
        HTTP_X_SYSTEM_KEY="registered-system-key-123",
    )
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == (
        "facebook",
        "paid",
        "spring-sellers",
    )
    attribution = lead.attribution
    assert attribution["system"] == "IDX Broker"  # the body's system, before the header
    assert attribution["campaign"] == {
        "source": "facebook",
        "medium": "paid",
        "campaign": "spring-sellers",
    }
    assert attribution["source_url"] == "https://harborandmain.com/sell"
    assert attribution["tags"] == ["idx", "buyer"]
    assert attribution["type"] == "General Inquiry"
    assert attribution["system_key_present"] is True
    assert "registered-system-key-123" not in json.dumps(attribution)
    submission = Submission.objects.get()
    assert submission.form_url == "https://harborandmain.com/sell"
    assert submission.ip == "203.0.113.9"
    assert "registered-system-key-123" not in json.dumps(submission.attribution)


def test_the_x_system_header_names_the_system_when_the_body_does_not(send):
    send(event(system=None), HTTP_X_SYSTEM="Harbor IDX v2")
    assert Lead.objects.get().attribution["system"] == "Harbor IDX v2"


def test_utm_values_are_read_from_the_page_url_without_a_campaign(send):
    send(event(sourceUrl="https://harborandmain.com/?utm_source=google&utm_campaign=brand"))
    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_campaign) == ("google", "brand")


def test_unknown_keys_are_allowed_and_kept_as_received(send):
    body = event(pageTitle="Elm Street", person={**event()["person"], "customField": "x"})
    assert send(body).status_code == 201
    assert Submission.objects.get().data == body


def test_an_email_alone_or_a_phone_alone_is_enough(send):
    assert send(event(person={"emails": [{"value": "only@example.com"}]})).status_code == 201
    assert send(event(person={"phones": [{"value": "+1 413 555 0111"}]})).status_code == 201
    assert set(Lead.objects.values_list("email", "phone")) == {
        ("only@example.com", ""),
        ("", "+14135550111"),
    }


def test_control_characters_are_dropped_from_what_the_lead_shows(send):
    body = event(
        person={
            "firstName": "Ada\x00\x07",
            "lastName": "Love\ud800lace",
            "emails": [{"value": "ada@example.com"}],
        }
    )
    assert send(body).status_code == 201
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == ("Ada", "Lovelace")


# --- Re-inquiries and retries -------------------------------------------------------------------------


def test_a_known_person_is_a_reinquiry_answered_200_and_nothing_is_overwritten(send):
    assert send(event(type="Seller Inquiry", timeline="6-12 months")).status_code == 201
    response = send(
        event(
            type="Property Inquiry",
            timeline="just looking",
            person={"firstName": "Mallory", "emails": [{"value": "ada@example.com"}]},
        )
    )
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert response.json()["id"] == lead.pk
    assert response.json()["firstName"] == "Ada"
    assert (lead.first_name, lead.source, lead.timeline) == ("Ada", "valuation", "6_to_18_months")
    reinquiry = lead.events.get(kind=LeadEvent.Kind.REINQUIRY)
    assert reinquiry.data["channel"] == "api"
    assert reinquiry.data["proposed"]["first_name"] == ["Ada", "Mallory"]
    assert Submission.objects.filter(lead=lead, created_lead=False).count() == 1


def test_a_retry_with_the_same_idempotency_key_creates_nothing_new(send):
    first = send(event(), HTTP_IDEMPOTENCY_KEY="evt-1")
    again = send(event(), HTTP_IDEMPOTENCY_KEY="evt-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Submission.objects.count() == 1
    assert Lead.objects.count() == 1
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.REINQUIRY).count() == 0


def test_a_retried_reinquiry_replays_its_200(send):
    send(event())
    assert send(event(message="Again"), HTTP_IDEMPOTENCY_KEY="evt-2").status_code == 200
    assert send(event(message="Again"), HTTP_IDEMPOTENCY_KEY="evt-2").status_code == 200
    assert Submission.objects.count() == 2


def test_an_idempotency_key_reused_for_another_body_is_refused(send):
    send(event(), HTTP_IDEMPOTENCY_KEY="evt-1")
    response = send(event(message="Something else"), HTTP_IDEMPOTENCY_KEY="evt-1")
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Submission.objects.count() == 1


def test_idempotency_keys_are_per_integration(send):
    _other, other_key = api_integration_create("Other site")
    assert send(event(), HTTP_IDEMPOTENCY_KEY="evt-1").status_code == 201
    assert send(event(), key=other_key, HTTP_IDEMPOTENCY_KEY="evt-1").status_code == 200
    assert Submission.objects.count() == 2


def test_a_refused_event_is_not_remembered_so_the_fixed_one_goes_through(send):
    bad = event(person={"emails": [{"value": "not-an-email"}]})
    assert send(bad, HTTP_IDEMPOTENCY_KEY="evt-3").status_code == 400
    assert send(event(), HTTP_IDEMPOTENCY_KEY="evt-3").status_code == 201
    assert Lead.objects.count() == 1


def test_a_retry_racing_its_first_request_gets_the_first_ones_answer(send, monkeypatch):
    """The key is not there when the retry looks, but is when it stores (the first request
    committed in between): the database refuses the second row, the retry replays."""
    assert send(event(), HTTP_IDEMPOTENCY_KEY="evt-4").status_code == 201
    looked = []
    real = events_api._earlier

    def not_yet(external_id):
        if not looked:
            looked.append(external_id)
            return None
        return real(external_id)

    monkeypatch.setattr(events_api, "_earlier", not_yet)
    again = send(event(), HTTP_IDEMPOTENCY_KEY="evt-4")
    assert looked
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Submission.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_identical_requests_at_once_make_one_lead(send, run_together):
    results = run_together(
        lambda: send(event(), HTTP_IDEMPOTENCY_KEY="evt-5"),
        lambda: send(event(), HTTP_IDEMPOTENCY_KEY="evt-5"),
    )
    assert [response.status_code for response in results] == [201, 201]
    assert results[0].json()["id"] == results[1].json()["id"]
    assert Submission.objects.count() == 1
    assert Lead.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_person_from_two_requests_at_once_is_one_lead(send, run_together):
    results = run_together(lambda: send(event()), lambda: send(event(message="Also")))
    assert sorted(response.status_code for response in results) == [200, 201]
    assert Lead.objects.count() == 1


# --- Authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Authenticate with HTTP Basic"),
        ("Bearer abc", "Authenticate with HTTP Basic"),
        ("Basic !!!not-base64", "Authenticate with HTTP Basic"),
        (basic("rcrm_not-a-key"), "Unknown API key."),
        (basic("someone:else"), "Unknown API key."),
    ],
)
def test_a_missing_or_wrong_key_is_refused_and_nothing_is_stored(api_key, authorization, message):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client().post(
        EVENTS, data=json.dumps(event()), content_type="application/json", **headers
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic realm=")
    assert response.json()["errors"][0]["code"] == "unauthorized"
    assert response.json()["errorMessage"].startswith(message)
    assert Submission.objects.count() == 0
    assert Lead.objects.count() == 0


def test_a_revoked_key_is_refused(send, broker_client):
    response = broker_client.post(
        reverse("admin:leads_integration_changelist"),
        {"action": "revoke", "_selected_action": [integration().pk]},
    )
    assert response.status_code == 302
    refused = send(event())
    assert refused.status_code == 401
    assert "revoked" in refused.json()["errorMessage"]
    assert Submission.objects.count() == 0


def test_only_an_api_integration_key_opens_the_api(send):
    Integration.objects.update(kind=Integration.Kind.EMAIL)
    assert send(event()).status_code == 401


def test_any_password_is_accepted_as_follow_up_boss_accepts_it(send, api_key):
    response = send(event(), HTTP_AUTHORIZATION=basic(api_key, "anything"))
    assert response.status_code == 201


def test_the_key_is_stored_only_as_its_hash(api_key):
    stored = integration()
    assert stored.key_hash == api_key_hash(api_key)
    assert stored.key_prefix == api_key[:12]
    assert api_key.startswith("rcrm_")
    assert not Integration.objects.filter(key_hash=api_key).exists()


def test_no_csrf_token_is_needed(send):
    response = send(event(), client=Client(enforce_csrf_checks=True))
    assert response.status_code == 201


# --- Refusals: 400 with field errors, the payload kept -----------------------------------------------


def rejected() -> Submission:
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.REJECTED
    assert submission.channel == "api"
    assert submission.integration == integration()
    assert Lead.objects.count() == 0
    return submission


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "invalid_json"),
        ('{"person": NaN}', "invalid_json"),
        ('{"price": 1e999}', "invalid_json"),
        ('[{"person": {}}]', "not_an_object"),
        ("", "empty"),
        ("[" * 100_00 + "]" * 100_00, "too_deep"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_and_kept(send, raw, code):
    response = send(None, raw=raw)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    submission = rejected()
    assert json.loads(submission.error)["errors"][0]["code"] == code
    if raw:
        assert submission.data["body"] == raw[: 16 * 1024]


@pytest.mark.parametrize("depth", [19, 500])
def test_a_body_nested_too_deeply_is_refused_and_its_text_kept(send, depth):
    nested = '{"a":' * depth + "1" + "}" * depth
    raw = json.dumps(event())[:-1] + f', "extra": {nested}}}'
    response = send(None, raw=raw)
    if depth < 20:
        assert response.status_code == 201
        return
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_deep"
    assert rejected().data == {"body": raw}


def test_a_body_over_64_kb_is_refused_413_and_its_start_kept(send):
    raw = json.dumps(event(message="x" * 70_000))
    response = send(None, raw=raw)
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_large"
    submission = rejected()
    assert submission.data["bytes"] == len(raw)
    assert submission.data["body"] == raw[: 16 * 1024]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"person": {"emails": [{"value": "not-an-email"}]}}, "person.emails.0.value"),
        ({"person": {"phones": [{"value": "12345"}]}}, "person.phones.0.value"),
        (
            {"person": {"emails": [{"value": "a@example.com"}], "phones": [{"value": "555"}]}},
            "person.phones.0.value",
        ),
        ({"person": {"firstName": "Ada"}}, "person"),
        ({"person": None}, "person"),
        ({"person": {"emails": [{"type": "home"}]}}, "person.emails.0.value"),
        ({"person": {"emails": "ada@example.com"}}, "person.emails"),
        ({"property": {"bedrooms": "three"}}, "property.bedrooms"),
        ({"property": {"bathrooms": 250}}, "property.bathrooms"),
        ({"side": "landlord"}, "side"),
        ({"smsConsent": {"wording": "Yes, text me"}}, "smsConsent.timestamp"),
    ],
)
def test_a_field_error_is_refused_400_with_its_path_and_the_payload_kept(send, overrides, field):
    body = event(**overrides)
    response = send(body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in [error["field"] for error in errors], errors
    assert all(error["message"] for error in errors)
    assert response.json()["errorMessage"] == errors[0]["message"]
    submission = rejected()
    assert submission.data == body
    assert json.loads(submission.error)["errors"] == errors


def test_a_rejected_event_keeps_what_could_be_read(send):
    send(
        event(
            person={
                "firstName": "Ada",
                "emails": [{"value": "ada@example.com"}],
                "phones": [{"value": "12345"}],
            }
        )
    )
    found = rejected().mapped["found"]
    assert found["first_name"] == "Ada"
    assert found["email"] == "ada@example.com"


def test_a_too_long_idempotency_key_is_refused(send):
    response = send(event(), HTTP_IDEMPOTENCY_KEY="k" * 201)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    rejected()


def test_a_processing_failure_is_kept_and_answered_202(send, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("routing is down")

    monkeypatch.setattr(intake_flow, "lead_route", broken)
    response = send(event())
    assert response.status_code == 202
    submission = Submission.objects.get()
    assert response.json() == {
        "status": "stored",
        "id": submission.pk,
        "message": "Stored; the brokerage will process it. Do not send it again.",
    }
    assert submission.status == Submission.Status.FAILED
    assert "routing is down" in submission.error
    assert Lead.objects.count() == 0


# --- Rate limit ------------------------------------------------------------------------------------


def test_past_the_keys_rate_limit_it_answers_429_and_stores_nothing(send):
    Integration.objects.update(rate_limit=2)
    assert send(event()).status_code == 201
    assert send(event()).status_code == 200
    refused = send(event(person={"emails": [{"value": "third@example.com"}]}))
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Submission.objects.count() == 2


def test_each_key_has_its_own_rate_limit(send):
    Integration.objects.update(rate_limit=1)
    _other, other_key = api_integration_create("Other site", rate_limit=1)
    assert send(event()).status_code == 201
    assert send(event(), key=other_key).status_code == 200
    assert send(event()).status_code == 429


# --- Consent ----------------------------------------------------------------------------------------


def acknowledgment(lead, channel: str) -> Message:
    return lead.messages.get(channel=channel, purpose=Message.Purpose.ACKNOWLEDGMENT)


def test_consent_evidence_in_the_payload_is_recorded_and_the_lead_is_texted(
    send, sms_outbox, mailoutbox
):
    wording = "Yes, text me about homes. Msg & data rates may apply. Reply STOP to opt out."
    send(
        event(
            smsConsent={
                "wording": wording,
                "timestamp": "2026-05-02T15:04:05Z",
                "url": "https://harborandmain.com/contact",
            }
        )
    )
    lead = Lead.objects.get()
    record = ConsentRecord.objects.get(lead=lead)
    assert record.wording == wording
    assert record.given_at.isoformat() == "2026-05-02T15:04:05+00:00"
    assert record.evidence["basis"] == "event payload"
    assert record.evidence["url"] == "https://harborandmain.com/contact"
    assert record.submission == Submission.objects.get()
    assert lead.can_text
    assert acknowledgment(lead, "sms").status == Message.Status.SENT
    assert "+14135550187" in [text.to for text in sms_outbox]
    assert not Task.objects.filter(lead=lead, kind=Task.Kind.CALL).exists()


def test_an_integration_that_collects_consent_makes_its_leads_textable(send, sms_outbox):
    Integration.objects.update(
        sms_consent_collected=True, sms_consent_wording="By registering you agree to texts."
    )
    send(event())
    lead = Lead.objects.get()
    record = ConsentRecord.objects.get(lead=lead)
    assert record.wording == "By registering you agree to texts."
    assert record.evidence["basis"] == "integration record"
    assert acknowledgment(lead, "sms").status == Message.Status.SENT


def test_without_consent_evidence_the_lead_is_emailed_and_its_agent_calls(
    send, sms_outbox, mailoutbox
):
    send(event(type="Seller Inquiry"))
    lead = Lead.objects.get()
    assert not ConsentRecord.objects.filter(lead=lead).exists()
    assert not lead.can_text
    assert acknowledgment(lead, "sms").status == Message.Status.SUPPRESSED
    assert "+14135550187" not in [text.to for text in sms_outbox]
    assert acknowledgment(lead, "email").status == Message.Status.SENT
    assert ["ada@example.com"] in [mail.to for mail in mailoutbox]
    task = Task.objects.get(lead=lead, kind=Task.Kind.CALL)
    assert task.agent == lead.owner


# --- Ownership and mapping -------------------------------------------------------------------------------


def test_the_integrations_default_owner_gets_its_leads(send, sam):
    Integration.objects.update(default_owner=sam)
    send(event())
    send(event(person={"emails": [{"value": "b@example.com"}]}))
    assert set(Lead.objects.values_list("owner__username", flat=True)) == {"sam"}


def test_the_integrations_assignment_rule_decides_the_owner(send, alex):
    rule = AssignmentRuleFactory(name="IDX leads", members=[alex])
    Integration.objects.update(assignment_rule=rule)
    send(event())
    assert Lead.objects.get().owner == alex


def test_an_integration_maps_an_event_type_to_another_source(send):
    Integration.objects.update(field_mapping={"types": {"registration": "giveaway"}})
    send(event(type="Registration"))
    assert Lead.objects.get().source == "giveaway"


def test_an_integrations_default_source_applies_to_generic_types(send):
    Integration.objects.update(default_source="valuation")
    send(event(type="Registration"))
    send(event(type="Property Inquiry", person={"emails": [{"value": "b@example.com"}]}))
    sources = dict(Lead.objects.values_list("email", "source"))
    assert sources == {"ada@example.com": "valuation", "b@example.com": "listing_ad"}


def test_an_integration_maps_its_own_keys_to_our_fields(send):
    Integration.objects.update(
        field_mapping={
            "fields": {
                "moveTime": "timeline",
                "person.homeAddress": "property_address",
                "extra.mobile": "phone",
                "nonsense": "owner",  # not an answer field: ignored
            }
        }
    )
    body = event(
        type="Seller Inquiry",
        moveTime="ASAP",
        person={"firstName": "Ada", "homeAddress": "12 Elm Street", "emails": []},
        extra={"mobile": "413-555-0199"},
        nonsense="alex",
    )
    assert send(body).status_code == 201
    lead = Lead.objects.get()
    assert (lead.timeline, lead.intent) == ("within_3_months", "hot")
    assert lead.property_address == "12 Elm Street"
    assert lead.phone == "+14135550199"


def test_a_custom_keys_bad_value_is_refused_at_that_key(send):
    Integration.objects.update(field_mapping={"extra.mobile": "phone"})
    response = send(event(extra={"mobile": "nope"}))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "extra.mobile"


@pytest.mark.parametrize("mapping", [[], "giveaway", {"types": ["giveaway"], "fields": "x"}])
def test_a_field_mapping_that_is_not_an_object_maps_nothing(send, mapping):
    Integration.objects.update(field_mapping=mapping)
    assert send(event(type="Seller Inquiry")).status_code == 201
    assert Lead.objects.get().source == "valuation"


# --- manage.py create_api_key -------------------------------------------------------------------------


def test_create_api_key_prints_a_working_key_on_its_last_line(alex, send):
    out = io.StringIO()
    call_command(
        "create_api_key",
        "Zillow Flex",
        "--origin",
        "Zillow",
        "--source",
        "listing_ad",
        "--owner",
        "alex",
        stdout=out,
    )
    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("rcrm_") and " " not in key
    created = Integration.objects.get(name="Zillow Flex")
    assert (created.kind, created.origin, created.default_source, created.default_owner) == (
        "api",
        "Zillow",
        "listing_ad",
        alex,
    )
    assert created.key_hash == api_key_hash(key)
    response = send(event(source=None, type="Registration"), key=key)
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.origin, lead.source, lead.owner) == ("Zillow", "listing_ad", alex)


def test_create_api_key_refuses_an_unknown_owner(db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("create_api_key", "Site", "--owner", "nobody", stdout=io.StringIO())
    assert not Integration.objects.exists()


# --- The admin: a key shown once ------------------------------------------------------------------


def shown_key(html: str) -> str:
    found = re.findall(r"rcrm_[A-Za-z0-9_-]{43}", html)
    assert len(set(found)) == 1
    return found[0]


def test_a_new_api_integration_saved_in_the_admin_shows_its_key_once(broker_client, send):
    response = broker_client.post(
        reverse("admin:leads_integration_add"),
        {
            "name": "Homes.com",
            "kind": "api",
            "active": "on",
            "origin": "Homes.com",
            "default_source": "listing_ad",
            "field_mapping": "{}",
            "rate_limit": "120",
            "sms_consent_wording": "",
        },
    )
    assert response.status_code == 200, response.content[:2000]
    html = response.content.decode()
    created = Integration.objects.get(name="Homes.com")
    key = shown_key(html)
    assert created.key_hash == api_key_hash(key)
    assert "shown only once" in html
    assert send(event(), key=key).status_code == 201


def test_issuing_a_new_key_in_the_admin_retires_the_old_one(broker_client, send, api_key):
    response = broker_client.post(
        reverse("admin:leads_integration_changelist"),
        {"action": "issue_api_key", "_selected_action": [integration().pk]},
    )
    assert response.status_code == 200
    html = response.content.decode()
    key = shown_key(html)
    assert key != api_key
    assert send(event()).status_code == 401
    assert send(event(), key=key).status_code == 201


def test_other_integrations_are_saved_in_the_admin_as_usual(broker_client):
    response = broker_client.post(
        reverse("admin:leads_integration_add"),
        {
            "name": "Zillow inbox",
            "kind": "email",
            "active": "on",
            "origin": "Zillow",
            "default_source": "listing_ad",
            "field_mapping": "{}",
            "rate_limit": "120",
            "inbox_address": "zillow@leads.example.com",
        },
    )
    assert response.status_code == 302
    assert Integration.objects.get(name="Zillow inbox").key_hash == ""


def test_a_new_key_is_issued_for_one_api_integration_at_a_time(broker_client, api_key):
    _other, _key = api_integration_create("Other site")
    response = broker_client.post(
        reverse("admin:leads_integration_changelist"),
        {
            "action": "issue_api_key",
            "_selected_action": list(Integration.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    assert "Choose exactly one Events API integration." in response.content.decode()
    assert integration().key_hash == api_key_hash(api_key)


# --- GET /people ------------------------------------------------------------------------------------


def test_people_finds_this_keys_leads_by_email_or_phone(send, api_key):
    send(event())
    LeadFactory(email="someone@example.com", phone="+14135550122")  # a form's, not this key's
    client = Client(HTTP_AUTHORIZATION=basic(api_key))

    by_email = client.get(PEOPLE, {"email": "ADA@example.com"})
    assert by_email.status_code == 200
    assert [person["id"] for person in by_email.json()["people"]] == [
        Lead.objects.get(email="ada@example.com").pk
    ]
    assert by_email.json()["_metadata"] == {
        "collection": "people",
        "offset": 0,
        "limit": 10,
        "total": 1,
    }
    by_phone = client.get(PEOPLE, {"phone": "413-555-0187"})
    assert len(by_phone.json()["people"]) == 1
    both = client.get(PEOPLE, {"email": "ada@example.com", "phone": "+14135550100"})
    assert both.json()["people"] == []
    assert client.get(PEOPLE, {"email": "someone@example.com"}).json()["people"] == []


def test_people_does_not_show_another_keys_leads(send):
    send(event())
    _other, other_key = api_integration_create("Other site")
    response = Client().get(
        PEOPLE, {"email": "ada@example.com"}, HTTP_AUTHORIZATION=basic(other_key)
    )
    assert response.status_code == 200
    assert response.json()["people"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "email"),
        ({"phone": "12"}, "phone"),
        ({"email": "a@b.c", "limit": "abc"}, "limit"),
        ({"email": "a@b.c", "limit": "1000"}, "limit"),
    ],
)
def test_people_answers_bad_parameters_400(api_key, query, field):
    response = Client().get(PEOPLE, query, HTTP_AUTHORIZATION=basic(api_key))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_people_needs_a_key(api_key):
    response = Client().get(PEOPLE, {"email": "ada@example.com"})
    assert response.status_code == 401


# --- The OpenAPI document and the docs page -----------------------------------------------------


def test_the_openapi_document_describes_the_events_endpoint():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert {"/api/v1/events", "/api/v1/people"} <= set(document["paths"])
    post = document["paths"]["/api/v1/events"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EventIn"
    }
    assert {"201", "200", "202", "400", "401", "409", "413", "429"} <= set(post["responses"])
    schemas = document["components"]["schemas"]
    body = schemas["EventIn"]["properties"]
    assert {"person", "property", "campaign", "timeline", "side", "smsConsent", "sourceUrl"} <= set(
        body
    )
    assert set(schemas["SmsConsentIn"]["required"]) == {"wording", "timestamp"}
    assert "firstName" in schemas["PersonIn"]["properties"]
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "basic"
    header_names = {parameter["name"] for parameter in post["parameters"]}
    assert {"Idempotency-Key", "X-System", "X-System-Key"} <= header_names


def test_the_docs_page_loads_swagger_from_our_own_static_files_under_the_csp():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui.css" in html
    assert "cdn" not in html.lower()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert Client().get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_a_reinquiry_adds_its_tags_and_removes_none(send):
    person = event()["person"]
    send(event(person={**person, "tags": ["idx"]}))
    response = send(event(person={**person, "tags": ["open-house", "idx"]}))
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert sorted(lead.tags.values_list("name", flat=True)) == ["idx", "open-house"]
    assert response.json()["tags"] == ["idx", "open-house"]


def test_a_tag_is_one_whatever_its_case(send):
    Tag.objects.create(name="VIP")  # an import made it
    send(event(person={**event()["person"], "tags": ["vip", "Vip"]}))
    assert list(Lead.objects.get().tags.values_list("name", flat=True)) == ["VIP"]
    assert Tag.objects.count() == 1

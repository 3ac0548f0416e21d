"""Meta lead ads, native: the webhook (handshake, signature, notifications), the lead fetched from
the Graph API (a local fake: no test reaches Meta), read as ours and routed like a form lead, the
consent rules, Graph errors, and the sync that brings in what a webhook missed."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.urls import reverse

from alerts.models import Alert
from integrations import meta_intake, tasks
from integrations.meta import lead_read, signature_valid, sms_checkbox
from leads.models import Channel, ConsentRecord, Integration, Lead, Submission
from sequences.models import Message, Task
from tests.factories import IntegrationFactory
from tests.integrations.fake_graph import TOKEN, fake_graph_fixture  # noqa: F401
from tests.moments import NOON

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

PAGE, FORM, OTHER_FORM = "104000000000001", "205000000000001", "205000000000002"
URL = "/webhooks/meta/leadgen/"
SMS_WORDING = (
    "I agree to receive text messages from Harbor & Main Realty about my home's value at the "
    "number above. Message and data rates may apply. Reply STOP to opt out."
)
ADA = {
    "full_name": "Ada Lovelace",
    "email": "Ada@Example.com",
    "phone_number": "+1 (413) 555-0188",
    "street_address": "12 Elm St",
    "city": "Springfield",
    "state": "MA",
    "zip_code": "01103",
    "when_are_you_planning_to_move?": "0-3_months",
}


def sign(body: bytes, secret: str = "test-meta-app-secret") -> str:  # noqa: S107
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def change(leadgen_id: str, form_id: str = FORM, page_id: str = PAGE) -> dict:
    """One leadgen change as Meta sends it (ids as strings, created_time a Unix time)."""
    return {
        "field": "leadgen",
        "value": {
            "leadgen_id": leadgen_id,
            "page_id": page_id,
            "form_id": form_id,
            "ad_id": "23850000000000001",
            "adgroup_id": "23850000000000001",
            "created_time": int(NOON.timestamp()),
        },
    }


def notification(*changes) -> dict:
    return {
        "object": "page",
        "entry": [{"id": PAGE, "time": int(NOON.timestamp()), "changes": list(changes)}],
    }


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST a body to the webhook as Meta does (signed unless told otherwise), running what is
    queued after commit (the fetch task; django-q2 runs it at once in tests)."""

    def post(payload, *, signature=None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {} if signature is False else {"X-Hub-Signature-256": signature or sign(body)}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, body, content_type="application/json", headers=headers)

    return post


@pytest.fixture
def page(fake_graph, alex):
    """Harbor & Main Realty's page and its home value form on Facebook, connected: its leads
    are valuation leads. Alex is the agent the routing assigns."""
    fake_graph.page(PAGE, "Harbor & Main Realty")
    fake_graph.form(FORM, PAGE, "Home value form")
    fake_graph.form(OTHER_FORM, PAGE, "Open house RSVP")
    return IntegrationFactory(
        name="Harbor & Main on Facebook",
        kind=Integration.Kind.META,
        origin="",
        meta_page_id=PAGE,
        meta_page_token=TOKEN,
        default_source=Lead.Source.VALUATION,
    )


def meta_lead(fake_graph, leadgen_id="9001", answers=None, **options):
    options.setdefault("created", NOON)
    return fake_graph.lead(leadgen_id, options.pop("form_id", FORM), answers or ADA, **options)


# --- The handshake -------------------------------------------------------------------------------


def test_the_subscription_handshake_echoes_the_challenge(client):
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": "test-meta-verify-token",
        "hub.challenge": "1158201444",
    }
    response = client.get(URL, query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "test-meta-verify-token"},
        {"hub.challenge": "1"},
    ],
)
def test_a_handshake_without_our_verify_token_is_refused(client, query):
    response = client.get(URL, query)
    assert response.status_code == 403
    assert response.json() == {"error": "verify_token_mismatch"}


def test_no_handshake_succeeds_while_the_verify_token_is_unset(client, settings):
    settings.META_VERIFY_TOKEN = ""
    query = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    assert client.get(URL, query).status_code == 403


# --- The signature -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [False, "sha256=" + "0" * 64, sign(b"another body"), "sha1=abc", "garbage"],
    ids=["missing", "zeros", "another-body", "sha1", "garbage"],
)
def test_a_post_without_metas_signature_is_refused_and_nothing_is_written(
    post, page, fake_graph, signature
):
    response = post(notification(change("9001")), signature=signature)
    assert response.status_code == 403
    assert response.json() == {"error": "invalid_signature"}
    assert not Submission.objects.exists()
    assert fake_graph.requests == []


def test_a_post_signed_with_another_apps_secret_is_refused(post, page):
    body = json.dumps(notification(change("9001"))).encode()
    assert post(body, signature=sign(body, "another-app")).status_code == 403
    assert not Submission.objects.exists()


def test_nothing_is_accepted_while_the_app_secret_is_unset(post, page, settings):
    settings.META_APP_SECRET = ""
    body = json.dumps(notification(change("9001"))).encode()
    assert post(body, signature=sign(body, "")).status_code == 403
    assert not Submission.objects.exists()


def test_the_signature_is_over_the_raw_body():
    body = b'{"object":"page","entry":[]}'
    assert signature_valid(body, sign(body), "test-meta-app-secret")
    assert signature_valid(
        body, sign(body).upper().replace("SHA256=", "sha256="), "test-meta-app-secret"
    )
    assert not signature_valid(body + b" ", sign(body), "test-meta-app-secret")


# --- The happy path ------------------------------------------------------------------------------


def test_a_lead_ad_lead_becomes_a_routed_acknowledged_hot_lead(post, page, fake_graph, mailoutbox):
    meta_lead(fake_graph)
    response = post(notification(change("9001")))
    assert response.status_code == 200
    assert response.json() == {"stored": 1, "duplicates": 0, "rejected": 0}

    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == ("Ada", "Lovelace")
    assert (lead.email, lead.phone) == ("ada@example.com", "+14135550188")
    assert (lead.source, lead.channel) == (Lead.Source.VALUATION, Channel.META)
    assert lead.origin == "Meta · Harbor & Main Realty · Home value form"
    assert (lead.timeline, lead.intent, lead.side) == ("within_3_months", "hot", "seller")
    assert (lead.property_address, lead.postal_code) == ("12 Elm St, Springfield, MA", "01103")
    assert lead.attribution == {
        "page_id": PAGE,
        "form_id": FORM,
        "leadgen_id": "9001",
        "ad_id": "23850000000000001",
        "ad_name": "Spring home values - carousel",
        "adset_id": "23850000000000002",
        "adset_name": "Homeowners 10 mi",
        "campaign_id": "23850000000000003",
        "campaign_name": "Spring valuation 2026",
        "platform": "fb",
        "is_organic": False,
    }
    assert (lead.utm_source, lead.utm_medium) == ("facebook", "paid_social")
    assert lead.utm_campaign == "Spring valuation 2026"

    submission = Submission.objects.get()
    assert (submission.status, submission.lead, submission.created_lead) == (
        Submission.Status.ACCEPTED,
        lead,
        True,
    )
    assert (submission.channel, submission.external_id) == (Channel.META, "9001")
    assert submission.data["leadgen_id"] == "9001"  # the notification as received...
    assert submission.data["lead"]["field_data"][0]["name"] == "full_name"  # ...and the lead

    # Routed and acknowledged like a form lead; hot: the owner is alerted.
    assert lead.owner is not None
    assert Alert.objects.get(lead=lead).agent == lead.owner
    assert ["ada@example.com"] in [message.to for message in mailoutbox]

    fetched = fake_graph.calls("/9001")
    assert len(fetched) == 1
    assert fetched[0]["query"]["access_token"] == TOKEN
    assert set(fetched[0]["query"]["fields"].split(",")) >= {
        "field_data",
        "created_time",
        "custom_disclaimer_responses",
        "campaign_name",
        "is_organic",
        "platform",
    }


def test_the_webhook_answers_before_the_lead_is_fetched(client, page, fake_graph):
    """The answer does not wait for the Graph API: the fetch runs after commit, in a worker."""
    meta_lead(fake_graph)
    body = json.dumps(notification(change("9001"))).encode()
    response = client.post(
        URL, body, content_type="application/json", headers={"X-Hub-Signature-256": sign(body)}
    )
    assert response.status_code == 200
    assert Submission.objects.get().status == Submission.Status.PENDING
    assert fake_graph.requests == []


def test_one_post_may_carry_several_leads_and_other_fields_changes(post, page, fake_graph):
    meta_lead(fake_graph, "9001")
    meta_lead(fake_graph, "9002", {"full_name": "Grace Hopper", "email": "grace@example.com"})
    feed = {"field": "feed", "value": {"item": "status", "verb": "add"}}
    response = post(notification(change("9001"), feed, change("9002")))
    assert response.json() == {"stored": 2, "duplicates": 0, "rejected": 0}
    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "ada@example.com",
        "grace@example.com",
    ]


def test_a_form_with_its_own_integration_takes_its_leads_the_page_takes_the_rest(
    post, page, fake_graph
):
    open_house = IntegrationFactory(
        name="Open house RSVPs",
        kind=Integration.Kind.META,
        origin="",
        meta_page_id=PAGE,
        meta_form_id=OTHER_FORM,
        meta_page_token=TOKEN,
        default_source=Lead.Source.OPEN_HOUSE,
    )
    meta_lead(fake_graph, "9001")
    meta_lead(
        fake_graph,
        "9002",
        {"full_name": "Grace Hopper", "email": "g@example.com"},
        form_id=OTHER_FORM,
    )
    post(notification(change("9001"), change("9002", OTHER_FORM)))
    by_email = {lead.email: lead for lead in Lead.objects.all()}
    assert by_email["ada@example.com"].source == Lead.Source.VALUATION
    assert by_email["g@example.com"].source == Lead.Source.OPEN_HOUSE
    assert by_email["g@example.com"].origin == "Meta · Harbor & Main Realty · Open house RSVP"
    assert Submission.objects.get(external_id="9002").integration == open_house


def test_a_page_no_integration_takes_is_kept_for_the_broker(post, fake_graph):
    response = post(notification(change("9001", page_id="999000999")))
    assert response.status_code == 200
    assert response.json() == {"stored": 0, "duplicates": 0, "rejected": 1}
    submission = Submission.objects.get()
    assert (submission.channel, submission.status) == (Channel.META, Submission.Status.REJECTED)
    assert (
        "No active Meta integration for page 999000999"
        in json.loads(submission.error)["integration"]
    )
    assert submission.data["leadgen_id"] == "9001"
    assert fake_graph.requests == []


def test_a_revoked_page_takes_no_more_leads(post, page, fake_graph):
    meta_lead(fake_graph)
    Integration.objects.filter(pk=page.pk).update(active=False)
    assert post(notification(change("9001"))).json()["rejected"] == 1
    assert not Lead.objects.exists()


# --- Duplicates ----------------------------------------------------------------------------------


def test_the_same_notification_twice_makes_one_lead(post, page, fake_graph):
    meta_lead(fake_graph)
    assert post(notification(change("9001"))).json()["stored"] == 1
    assert post(notification(change("9001"))).json() == {
        "stored": 0,
        "duplicates": 1,
        "rejected": 0,
    }
    assert Lead.objects.count() == 1
    assert Submission.objects.filter(external_id="9001").count() == 1
    assert len(fake_graph.calls("/9001")) == 1


def test_a_lead_the_webhook_brought_is_skipped_by_the_sync(post, page, fake_graph):
    meta_lead(fake_graph)
    post(notification(change("9001")))
    assert meta_intake.integration_backfill(page.pk) == {"known": 1}
    assert Lead.objects.count() == 1
    assert Submission.objects.count() == 1


def test_a_lead_the_sync_brought_is_a_duplicate_for_a_late_webhook(post, page, fake_graph):
    meta_lead(fake_graph)
    assert meta_intake.integration_backfill(page.pk) == {"accepted": 1}
    assert post(notification(change("9001"))).json()["duplicates"] == 1
    assert Lead.objects.count() == 1
    assert fake_graph.calls("/9001") == []  # the form's list carried its details


def test_the_same_person_from_a_second_form_is_a_reinquiry_not_a_second_lead(
    post, page, fake_graph
):
    meta_lead(fake_graph, "9001")
    meta_lead(fake_graph, "9002", {"email": "ada@example.com", "full_name": "Ada L."})
    post(notification(change("9001")))
    post(notification(change("9002")))
    lead = Lead.objects.get()
    assert lead.inquiry_count == 2
    assert lead.first_name == "Ada"  # a re-inquiry never overwrites
    assert Submission.objects.get(external_id="9002").created_lead is False


# --- Consent -------------------------------------------------------------------------------------


def test_a_ticked_sms_disclaimer_with_its_recorded_wording_is_consent(
    post, page, fake_graph, sms_outbox
):
    Integration.objects.filter(pk=page.pk).update(sms_consent_wording=SMS_WORDING)
    meta_lead(
        fake_graph,
        disclaimer={"sms_optin": True, "privacy": True},
        created=NOON - timedelta(minutes=3),
    )
    post(notification(change("9001")))
    lead = Lead.objects.get()
    record = ConsentRecord.objects.get(lead=lead)
    assert record.wording == SMS_WORDING
    assert record.wording_version == f"meta-form-{FORM}"
    assert record.given_at == NOON - timedelta(minutes=3)
    assert record.evidence["checkbox_key"] == "sms_optin"
    assert record.evidence["leadgen_id"] == "9001"
    assert lead.can_text
    texts = Message.objects.filter(lead=lead, channel=Message.Channel.SMS)
    assert texts.exists()
    assert "+14135550188" in [text.to for text in sms_outbox]
    assert not Task.objects.filter(lead=lead, title__contains="no consent to text").exists()


def test_without_consent_evidence_a_lead_is_emailed_and_its_owner_calls(
    post, page, fake_graph, sms_outbox, mailoutbox
):
    meta_lead(fake_graph)  # no disclaimer checkbox, no wording on the integration
    post(notification(change("9001")))
    lead = Lead.objects.get()
    assert not ConsentRecord.objects.filter(lead=lead).exists()
    assert not lead.can_text
    texts = Message.objects.filter(to=lead.phone, channel=Message.Channel.SMS)
    assert not texts.exclude(status=Message.Status.SUPPRESSED).exists()
    assert "+14135550188" not in [text.to for text in sms_outbox]
    assert ["ada@example.com"] in [message.to for message in mailoutbox]
    call = Task.objects.get(lead=lead, kind=Task.Kind.CALL, title__contains="no consent to text")
    assert call.agent == lead.owner


def test_a_ticked_box_without_the_recorded_wording_proves_nothing(post, page, fake_graph):
    meta_lead(fake_graph, disclaimer={"sms_optin": True})
    post(notification(change("9001")))
    assert not ConsentRecord.objects.exists()
    assert not Lead.objects.get().can_text


def test_an_unticked_sms_box_is_a_no_whatever_the_integration_record_says(post, page, fake_graph):
    Integration.objects.filter(pk=page.pk).update(
        sms_consent_collected=True, sms_consent_wording=SMS_WORDING
    )
    meta_lead(fake_graph, disclaimer={"sms_optin": False})
    post(notification(change("9001")))
    assert not ConsentRecord.objects.exists()


def test_an_integration_that_collects_consent_proves_it_for_a_form_without_a_box(
    post, page, fake_graph
):
    Integration.objects.filter(pk=page.pk).update(
        sms_consent_collected=True, sms_consent_wording=SMS_WORDING
    )
    meta_lead(fake_graph)
    post(notification(change("9001")))
    record = ConsentRecord.objects.get()
    assert (record.wording, record.wording_version) == (SMS_WORDING, f"integration-{page.pk}")


def test_the_sms_checkbox_is_the_mapped_one_else_one_named_for_texts():
    boxes = [
        {"checkbox_key": "terms", "is_checked": "1"},
        {"checkbox_key": "tcpa", "is_checked": ""},
    ]
    assert sms_checkbox(boxes, {"tcpa": "sms_consent"}) == ("tcpa", False)
    assert sms_checkbox(boxes, {}) is None  # two boxes, neither says which
    # A form's only checkbox may be its terms: it is not taken for SMS consent until mapped.
    assert sms_checkbox(boxes[:1], {}) is None
    assert sms_checkbox(boxes[:1], {"terms": "sms_consent"}) == ("terms", True)
    texts = [*boxes, {"checkbox_key": "text_me_updates", "is_checked": "1"}]
    assert sms_checkbox(texts, {}) == ("text_me_updates", True)
    assert sms_checkbox(None, {}) is None


# --- Mapping -------------------------------------------------------------------------------------


def test_a_forms_mapping_overrides_the_defaults_and_other_answers_reach_the_agent(
    post, page, fake_graph
):
    Integration.objects.filter(pk=page.pk).update(
        field_mapping={"best_number_to_reach_you": "phone", "home_address": "property_address"},
        default_source=Lead.Source.LISTING_AD,
    )
    answers = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "best_number_to_reach_you": "413-555-0177",
        "home_address": "44 Maple Ave, Springfield",
        "how_soon?": "3-6_months",
        "what_is_your_budget?": "$400k-$500k",
    }
    meta_lead(fake_graph, answers=answers, platform="ig", is_organic=True)
    post(notification(change("9001")))
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.phone) == ("Grace", "Hopper", "+14135550177")
    assert lead.property_address == "44 Maple Ave, Springfield"
    assert (lead.source, lead.side, lead.timeline) == ("listing_ad", "buyer", "3_to_6_months")
    assert lead.message == "What is your budget?: $400k-$500k"
    assert (lead.utm_source, lead.utm_medium) == ("instagram", "organic_social")


def test_the_timeline_question_is_found_by_its_answer_and_absent_leaves_the_source_default():
    read = lead_read(
        {
            "field_data": [
                {"name": "do_you_own?", "values": ["yes"]},
                {"name": "q7", "values": ["just_looking"]},
            ]
        },
        mapping={},
        source="giveaway",
    )
    assert read.fields["timeline"] == "just_curious"
    assert read.fields["message"] == "Do you own?: yes"
    read = lead_read(
        {"field_data": [{"name": "email", "values": ["a@example.com"]}]},
        mapping={},
        source="valuation",
    )
    assert "timeline" not in read.fields
    assert read.fields["side"] == "seller"


@pytest.mark.parametrize(
    ("full_name", "first", "last"),
    [
        ("Ada Lovelace", "Ada", "Lovelace"),
        ("Mary Ann  Smith", "Mary Ann", "Smith"),
        ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
        ("Martin Luther King Jr.", "Martin Luther", "King Jr."),
        ("Smith, John", "John", "Smith"),
        ("Cher", "Cher", ""),
    ],
)
def test_a_full_name_is_split_into_first_and_last(full_name, first, last):
    read = lead_read(
        {"field_data": [{"name": "full_name", "values": [full_name]}]}, mapping={}, source="website"
    )
    assert (read.fields.get("first_name", ""), read.fields.get("last_name", "")) == (first, last)


def test_a_lead_with_no_way_to_reach_them_is_kept_as_rejected_with_what_was_found(
    post, page, fake_graph
):
    meta_lead(fake_graph, answers={"full_name": "Nobody Atall", "email": "not-an-email"})
    post(notification(change("9001")))
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.REJECTED
    errors = json.loads(submission.error)
    assert "No email address or phone number" in errors["lead"]
    assert "not-an-email" in errors["email"]
    assert submission.mapped["found"]["first_name"] == "Nobody"
    assert not Lead.objects.exists()


# --- Graph errors --------------------------------------------------------------------------------


def test_a_graph_outage_keeps_the_lead_pending_until_a_retry_fetches_it(
    post, page, fake_graph, clock
):
    meta_lead(fake_graph)
    fake_graph.fail(500, path="/9001")
    assert post(notification(change("9001"))).status_code == 200
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.PENDING
    state = json.loads(submission.error)
    assert (state["attempts"], state["retrying"], state["graph"]["status"]) == (1, True, 500)
    assert TOKEN not in submission.error
    assert not Lead.objects.exists()

    assert tasks.meta_leads_retry() == 0  # its own task is a minute old at most
    clock.move_to(NOON + timedelta(minutes=2))
    assert tasks.meta_leads_retry() == 1
    submission.refresh_from_db()
    assert submission.status == Submission.Status.ACCEPTED
    assert Lead.objects.get().email == "ada@example.com"
    assert len(fake_graph.calls("/9001")) == 2


def test_a_rate_limit_is_transient_too_and_retries_back_off(post, page, fake_graph, clock):
    meta_lead(fake_graph)
    limited = {"error": {"message": "(#32) Page request limit reached", "code": 32}}
    fake_graph.fail(400, limited, path="/9001", times=2)
    post(notification(change("9001")))
    clock.move_to(NOON + timedelta(minutes=2))
    assert tasks.meta_leads_retry() == 1  # second failure: next try a minute after it
    assert json.loads(Submission.objects.get().error)["attempts"] == 2
    clock.move_to(NOON + timedelta(minutes=2, seconds=30))
    assert tasks.meta_leads_retry() == 0
    clock.move_to(NOON + timedelta(minutes=3, seconds=1))
    assert tasks.meta_leads_retry() == 1
    assert Submission.objects.get().status == Submission.Status.ACCEPTED


def test_an_unreachable_graph_api_keeps_the_lead_pending(post, page, settings):
    settings.META_GRAPH_URL = "http://127.0.0.1:9/v21.0"  # nothing listens there
    post(notification(change("9001")))
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.PENDING
    assert "Could not reach the Graph API" in json.loads(submission.error)["graph"]["message"]
    assert TOKEN not in submission.error


def test_a_lead_the_graph_api_refuses_is_kept_failed_with_metas_error(
    post, page, fake_graph, clock, django_capture_on_commit_callbacks
):
    post(notification(change("9001")))  # the fake has no such lead: Meta's 100/33
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.FAILED
    error = json.loads(submission.error)["graph"]
    assert (error["status"], error["code"], error["error_subcode"]) == (400, 100, 33)
    assert "does not exist" in error["message"]
    assert error["transient"] is False
    clock.move_to(NOON + timedelta(minutes=30))
    assert tasks.meta_leads_retry() == 0  # never fetched again by itself

    # The broker fixes the permission, then fetches the failed leads again from the admin.
    meta_lead(fake_graph)
    with django_capture_on_commit_callbacks(execute=True):
        assert meta_intake.failed_refetch(Integration.objects.filter(pk=page.pk)) == 1
    submission.refresh_from_db()
    assert submission.status == Submission.Status.ACCEPTED


def test_a_page_without_a_token_fails_its_leads_with_why(post, page, fake_graph):
    Integration.objects.filter(pk=page.pk).update(meta_page_token="")
    post(notification(change("9001")))
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.FAILED
    assert "No page access token" in json.loads(submission.error)["graph"]["message"]
    assert fake_graph.requests == []


def test_the_sync_completes_a_lead_whose_fetch_failed(post, page, fake_graph):
    meta_lead(fake_graph)
    fake_graph.fail(
        400, {"error": {"message": "(#200) Missing permission", "code": 200}}, path="/9001"
    )
    post(notification(change("9001")))
    assert Submission.objects.get().status == Submission.Status.FAILED
    assert meta_intake.integration_backfill(page.pk) == {"accepted": 1}
    assert Lead.objects.get().email == "ada@example.com"


# --- Malformed posts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"object": "page", "entry": "nope"}',
        b'{"object": "user", "entry": []}',
        b'{"entry": [{"changes": [{"field": "leadgen"}]}]}',
    ],
    ids=["not-json", "not-utf8", "a-list", "entry-not-a-list", "not-a-page", "no-value"],
)
def test_a_signed_body_that_is_not_a_notification_is_a_clear_400_and_kept(post, page, body):
    response = post(body)
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_notification"
    assert response.json()["detail"]
    submission = Submission.objects.get()
    assert (submission.channel, submission.status) == (Channel.META, Submission.Status.REJECTED)
    assert json.loads(submission.error)["body"] == response.json()["detail"]
    assert not Lead.objects.exists()


def test_a_leadgen_change_without_ids_is_kept_as_rejected(post, page, fake_graph):
    bad = {"field": "leadgen", "value": {"leadgen_id": "../me", "page_id": PAGE}}
    response = post(notification(bad))
    assert response.json() == {"stored": 0, "duplicates": 0, "rejected": 1}
    assert Submission.objects.get().status == Submission.Status.REJECTED
    assert fake_graph.requests == []


# --- The sync ------------------------------------------------------------------------------------


def test_the_sync_pages_through_every_form_and_skips_known_leads(post, page, fake_graph, clock):
    fake_graph.page_size = 2
    Integration.objects.filter(pk=page.pk).update(meta_synced_at=NOON - timedelta(hours=2))
    since = NOON - timedelta(hours=3)  # the last sync, less the margin
    meta_lead(fake_graph, "9001", created=NOON - timedelta(minutes=50))
    for number in range(2, 5):
        answers = {"full_name": f"Lead {number}", "email": f"lead{number}@example.com"}
        meta_lead(fake_graph, f"900{number}", answers, created=NOON - timedelta(minutes=number))
    old = {"full_name": "Long Ago", "email": "old@example.com"}
    meta_lead(fake_graph, "8000", old, created=since - timedelta(minutes=1))
    other = {"full_name": "Rsvp Person", "email": "rsvp@example.com"}
    meta_lead(fake_graph, "9100", other, form_id=OTHER_FORM, created=NOON - timedelta(minutes=9))
    post(notification(change("9001")))  # the webhook brought one of them

    clock.move_to(NOON + timedelta(minutes=5))
    counts = tasks.meta_integration_backfill(page.pk)

    assert counts == {"known": 1, "accepted": 4}
    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "ada@example.com",
        "lead2@example.com",
        "lead3@example.com",
        "lead4@example.com",
        "rsvp@example.com",
    ]
    listed = fake_graph.calls(f"/{FORM}/leads")
    assert [call["query"].get("after") for call in listed] == [None, "2"]  # two pages
    filtering = json.loads(listed[0]["query"]["filtering"])
    assert filtering == [
        {"field": "time_created", "operator": "GREATER_THAN", "value": int(since.timestamp())}
    ]
    assert len(fake_graph.calls(f"/{PAGE}/leadgen_forms")) == 1
    page.refresh_from_db()
    assert page.meta_synced_at == NOON + timedelta(minutes=5)
    synced = Lead.objects.get(email="lead2@example.com")
    assert (synced.channel, synced.source) == (Channel.META, Lead.Source.VALUATION)
    assert synced.origin == "Meta · Harbor & Main Realty · Home value form"
    assert Submission.objects.get(external_id="9002").data["via"] == "sync"

    # Run again: everything is known, nothing new is made.
    assert tasks.meta_integration_backfill(page.pk) == {"known": 5}
    assert Lead.objects.count() == 5


def test_a_lead_sent_before_its_page_was_connected_comes_in_with_the_first_sync(
    post, fake_graph, alex
):
    fake_graph.page(PAGE, "Harbor & Main Realty")
    fake_graph.form(FORM, PAGE, "Home value form")
    meta_lead(fake_graph, "9001", created=NOON - timedelta(hours=20))
    old = {"full_name": "Long Ago", "email": "old@example.com"}
    meta_lead(fake_graph, "8000", old, created=NOON - timedelta(hours=25))
    assert post(notification(change("9001"))).json()["rejected"] == 1  # not connected yet

    page = IntegrationFactory(
        kind=Integration.Kind.META, meta_page_id=PAGE, meta_page_token=TOKEN, origin=""
    )
    assert tasks.meta_integration_backfill(page.pk) == {"accepted": 1}
    assert Lead.objects.get().email == "ada@example.com"


def test_a_sync_that_meets_a_graph_error_keeps_its_place(page, fake_graph, clock):
    fake_graph.fail(500, path=f"/{PAGE}/leadgen_forms")
    assert meta_intake.integration_backfill(page.pk) == {"graph_error": 1}
    page.refresh_from_db()
    assert page.meta_synced_at is None


def test_the_scheduled_sync_runs_each_active_meta_integration(page, fake_graph):
    IntegrationFactory(kind=Integration.Kind.META, meta_page_id="7", active=False)
    IntegrationFactory(kind=Integration.Kind.API)
    meta_lead(fake_graph)
    assert tasks.meta_backfill() == 1
    assert Lead.objects.get().email == "ada@example.com"


def test_nothing_calls_meta_without_a_meta_integration(fake_graph):
    assert tasks.meta_backfill() == 0
    assert tasks.meta_leads_retry() == 0
    assert fake_graph.requests == []


# --- The admin -----------------------------------------------------------------------------------


def admin_post(integration, **changes) -> dict:
    data = {
        "name": integration.name,
        "kind": integration.kind,
        "active": "on",
        "origin": integration.origin,
        "default_source": integration.default_source,
        "field_mapping": json.dumps(integration.field_mapping),
        "sms_consent_wording": integration.sms_consent_wording,
        "rate_limit": integration.rate_limit,
        "inbox_address": "",
        "meta_page_id": integration.meta_page_id,
        "meta_form_id": integration.meta_form_id,
        "page_access_token": "",
        "_save": "Save",
    }
    return {**data, **changes}


def test_the_admin_never_shows_the_page_token(broker_client, page):
    url = reverse("admin:leads_integration_change", args=[page.pk])
    html = broker_client.get(url).content.decode()
    assert TOKEN not in html
    assert "Saved (not shown)" in html
    assert "phone_number" in html  # the standard fields are listed for the broker
    assert 'type="password"' in html


def test_a_blank_token_box_keeps_the_token_a_new_one_replaces_it(broker_client, page):
    url = reverse("admin:leads_integration_change", args=[page.pk])
    assert broker_client.post(url, admin_post(page)).status_code == 302
    page.refresh_from_db()
    assert page.meta_page_token == TOKEN
    broker_client.post(url, admin_post(page, page_access_token="EAAnewtoken"))
    page.refresh_from_db()
    assert page.meta_page_token == "EAAnewtoken"
    broker_client.post(url, admin_post(page, remove_page_access_token="on"))
    page.refresh_from_db()
    assert page.meta_page_token == ""


def test_the_admin_refuses_a_mapping_to_fields_we_do_not_have(broker_client, page):
    url = reverse("admin:leads_integration_change", args=[page.pk])
    response = broker_client.post(
        url, admin_post(page, field_mapping='{"budget": "budget"}', meta_page_id="my page")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not one of our fields: budget" in html
    assert "The page&#x27;s id: digits" in html
    page.refresh_from_db()
    assert page.field_mapping == {}

"""The portal-email inbox as SendGrid and a broker use it: POST /inbound/email/<token>/ stores
every email, makes a routed, acknowledged lead of a portal's lead email, and keeps one nobody
can read for a broker, whose screen makes a lead of it in one form."""

import json

import pytest
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from alerts.models import Alert
from integrations.email import services
from leads.models import ConsentRecord, Integration, Lead, LeadEvent, Submission
from realtycrm.flows.intake import submissions_process_stranded
from sequences.models import Message, Task
from tests.factories import AgentFactory, IntegrationFactory, LeadFactory
from tests.integrations.email_helpers import (
    INBOX,
    eml,
    fields_post,
    inbox_url,
    post_email,
    raw_post,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(db):
    """The brokerage's portal inbox, as a broker sets it up in the admin."""
    return IntegrationFactory(
        name="Portal inbox",
        kind=Integration.Kind.EMAIL,
        inbox_address=INBOX,
        origin="",
    )


def _answer(response) -> dict:
    return json.loads(response.content)


# --- A portal's lead email becomes a lead --------------------------------------------------------


def test_a_zillow_tour_request_becomes_a_routed_acknowledged_hot_lead(
    client, alex, inbox, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_email(client, raw_post(eml("zillow_tour_request.eml")))
    assert response.status_code == 200
    assert _answer(response)["status"] == "created"

    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == ("Jordan", "Ellis")
    assert (lead.email, lead.phone) == ("jordan.ellis@example.net", "+14135550142")
    assert (lead.channel, lead.origin, lead.source) == ("email", "Zillow", "listing_ad")
    assert lead.property_address == "48 Harbor View Dr, Springfield, MA 01103"
    assert lead.asked_for_showing and lead.timeline == "within_3_months"
    assert lead.intent == "hot" and lead.side == "buyer"
    assert lead.owner == alex
    assert lead.attribution["listing_id"] == "2077123456"
    assert lead.attribution["message_id"] == "20261201153012.4f7a9c1e2b@mail.zillow.com"
    assert lead.attribution["subject"] == "Jordan Ellis wants to tour 48 Harbor View Dr"

    submission = Submission.objects.get()
    assert (submission.status, submission.channel) == ("accepted", "email")
    assert submission.integration == inbox
    assert submission.external_id == "20261201153012.4f7a9c1e2b@mail.zillow.com"
    assert submission.data["email"].startswith("Return-Path:")  # the raw message, as posted

    # Acknowledged by email only: a portal email is no SMS consent, so the text the track
    # queued is suppressed at the outbox, and the owner, alerted, is tasked to call instead.
    acknowledgments = Message.objects.filter(lead=lead, purpose=Message.Purpose.ACKNOWLEDGMENT)
    by_channel = {message.channel: message for message in acknowledgments}
    assert by_channel["email"].status == "sent"
    assert by_channel["email"].to == "jordan.ellis@example.net"
    assert by_channel["sms"].status == "suppressed"
    assert [mail.to for mail in mailoutbox if mail.to == [lead.email]] == [[lead.email]]
    assert not [sms for sms in sms_outbox if sms.to == lead.phone]
    assert Alert.objects.filter(lead=lead, agent=alex, reason=Alert.Reason.HOT_LEAD).exists()
    assert Task.objects.filter(lead=lead, agent=alex, kind=Task.Kind.CALL).exists()
    assert not ConsentRecord.objects.exists()


def test_the_default_post_of_parsed_fields_makes_the_same_lead(client, alex, inbox):
    response = post_email(client, fields_post(eml("homes_com_home_value.eml")))
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert (lead.source, lead.origin, lead.side) == ("valuation", "Homes.com", "seller")
    assert (lead.timeline, lead.intent) == ("6_to_18_months", "warm")
    assert lead.submissions.get().external_id == "HC-5521907.1764614409@notifications.homes.com"


def test_lead_metadata_decides_the_lead(client, alex, inbox):
    post_email(client, raw_post(eml("realtor_com_seller_metadata.eml")))
    lead = Lead.objects.get()
    assert (lead.email, lead.phone) == ("dana.whitfield@example.com", "+14135550134")
    assert (lead.source, lead.origin, lead.intent) == ("valuation", "Realtor.com", "hot")
    assert lead.attribution["parser"] == "lead_metadata"


def test_the_agent_the_metadata_assigns_gets_the_lead(client, alex, sam, inbox):
    """lead_assigned_agent: "Sam Chen" (the portal routed this referral to Sam)."""
    post_email(client, raw_post(eml("realtor_com_seller_metadata.eml")))
    assert Lead.objects.get().owner == sam


def test_plus_addressing_routes_to_the_agent_it_names(client, alex, sam, inbox):
    data = raw_post(
        eml("realtor_com_inquiry.eml"), envelope_to=["leads+Alex@inbox.harborandmain.example"]
    )
    post_email(client, data)
    lead = Lead.objects.get()
    assert lead.owner == alex
    assert Submission.objects.get().integration == inbox  # the +tag is ignored for the inbox
    assigned = lead.events.get(kind=LeadEvent.Kind.ASSIGNED)
    assert assigned.summary == "Assigned to Alex Rivera: named by Realtor.com (portal email)"
    assert assigned.data["how"] == "channel"


def test_a_plus_tag_naming_nobody_leaves_it_to_the_rules(client, alex, inbox):
    data = raw_post(
        eml("redfin_question.eml"), envelope_to=["leads+nobody@inbox.harborandmain.example"]
    )
    post_email(client, data)
    assert Lead.objects.get().owner == alex  # the only agent, by the catch-all rule


def test_a_forwarded_email_reaches_its_inbox_and_agent_by_the_envelope(client, alex, sam, inbox):
    post_email(client, raw_post(eml("forwarded_zillow.eml"), envelope_to=[]))  # To header only
    lead = Lead.objects.get()
    assert (lead.origin, lead.owner, lead.email) == ("Zillow", alex, "riley.novak@example.com")


def test_an_inbox_by_its_local_part_and_its_defaults(client, alex, sam):
    inbox = IntegrationFactory(
        kind=Integration.Kind.EMAIL,
        inbox_address="LEADS",
        origin="Portal inbox",
        default_owner=sam,
        sms_consent_collected=True,
        sms_consent_wording="Yes, text me about homes (the portal's checkbox).",
    )
    post_email(client, raw_post(eml("redfin_question.eml")))
    lead = Lead.objects.get()
    assert Submission.objects.get().integration == inbox
    assert lead.owner == sam
    assert lead.origin == "Redfin"  # the brand the email names beats the inbox's own
    # Anyone can email the inbox: even an inbox (wrongly) marked as collecting consent makes
    # no lead textable. Email only, and its owner a task to call.
    assert not ConsentRecord.objects.filter(lead=lead).exists()
    assert lead.sms_consent_at is None
    assert Task.objects.filter(lead=lead, agent=sam, kind=Task.Kind.CALL).exists()


def test_no_inbox_matched_still_makes_the_lead(client, alex):
    post_email(client, raw_post(eml("redfin_open_house.eml")))
    lead = Lead.objects.get()
    assert (lead.source, lead.origin, lead.owner) == ("open_house", "Redfin", alex)
    assert Submission.objects.get().integration is None


def test_an_inbox_mapping_overrides_the_source(client, alex):
    IntegrationFactory(
        kind=Integration.Kind.EMAIL,
        inbox_address=INBOX,
        field_mapping={"types": {"Open_House": "listing_ad"}},
    )
    post_email(client, raw_post(eml("redfin_open_house.eml")))
    assert Lead.objects.get().source == "listing_ad"


def test_a_revoked_inbox_keeps_the_email_and_makes_no_lead(client, alex):
    IntegrationFactory(kind=Integration.Kind.EMAIL, inbox_address=INBOX, active=False)
    response = post_email(client, raw_post(eml("zillow_tour_request.eml")))
    assert response.status_code == 200
    assert _answer(response)["status"] == "refused"
    assert Lead.objects.count() == 0
    assert Submission.objects.get().status == "rejected"


# --- Duplicates and re-inquiries -----------------------------------------------------------------


def test_the_same_message_id_twice_makes_one_submission_and_one_lead(client, alex, inbox):
    first = post_email(client, raw_post(eml("zillow_tour_request.eml")))
    again = post_email(client, fields_post(eml("zillow_tour_request.eml")))
    assert again.status_code == 200
    assert _answer(again) == {"status": "duplicate", "submission": _answer(first)["submission"]}
    assert Submission.objects.count() == 1 and Lead.objects.count() == 1
    assert not LeadEvent.objects.filter(kind=LeadEvent.Kind.REINQUIRY).exists()


def test_a_racing_duplicate_is_answered_as_a_duplicate(client, alex, inbox, monkeypatch):
    """Both posts passed the look-up before either stored: the database refuses the second,
    which is answered as the duplicate it is."""
    post_email(client, raw_post(eml("zillow_tour_request.eml")))
    looked_up = []

    def seen(message_id):
        looked_up.append(message_id)
        if len(looked_up) == 1:
            return None  # the look-up ran before the first post committed
        return Submission.objects.filter(external_id=message_id).first()

    monkeypatch.setattr(services, "_seen", seen)
    response = post_email(client, raw_post(eml("zillow_tour_request.eml")))
    assert _answer(response)["status"] == "duplicate"
    assert len(looked_up) == 2
    assert Submission.objects.count() == 1 and Lead.objects.count() == 1


def test_an_unparsed_duplicate_is_ignored_too(client, inbox):
    post_email(client, raw_post(eml("unparsed_personal.eml")))
    again = post_email(client, raw_post(eml("unparsed_personal.eml")))
    assert _answer(again)["status"] == "duplicate"
    assert Submission.objects.count() == 1


def test_without_a_message_id_the_person_dedupe_makes_it_a_reinquiry(client, alex, inbox):
    message = eml("zillow_tour_request.eml").replace(
        b"Message-ID: <20261201153012.4f7a9c1e2b@mail.zillow.com>\n", b""
    )
    post_email(client, raw_post(message))
    again = post_email(client, raw_post(message))
    assert _answer(again)["status"] == "reinquiry"
    assert Submission.objects.count() == 2 and Lead.objects.count() == 1


def test_the_same_person_by_another_email_is_a_reinquiry(client, alex, inbox):
    lead = LeadFactory(email="jordan.old@example.com", phone="+14135550142", owner=alex)
    response = post_email(client, raw_post(eml("zillow_tour_request.eml")))
    assert response.status_code == 200
    assert _answer(response) == {
        "status": "reinquiry",
        "submission": Submission.objects.get().pk,
        "lead": lead.pk,
    }
    assert Lead.objects.count() == 1
    event = lead.events.get(kind=LeadEvent.Kind.REINQUIRY)
    assert "Zillow (portal email)" in event.summary
    lead.refresh_from_db()
    assert lead.email == "jordan.old@example.com"  # never overwritten; proposed to the agent
    assert event.data["proposed"]["email"] == ["jordan.old@example.com", "jordan.ellis@example.net"]


# --- Who may post, and what they post -------------------------------------------------------------


@pytest.mark.parametrize("token", ["wrong", "test-inbound-email-token-but-longer", "x" * 300])
def test_a_wrong_token_is_a_404_and_writes_nothing(client, token):
    response = post_email(client, raw_post(eml("zillow_tour_request.eml")), token=token)
    assert response.status_code == 404
    assert Submission.objects.count() == 0


def test_no_token_configured_turns_the_inbox_off(client, settings):
    settings.INBOUND_EMAIL_TOKEN = ""
    response = post_email(client, raw_post(eml("zillow_tour_request.eml")), token="anything")
    assert response.status_code == 404
    assert Submission.objects.count() == 0


def test_only_post_is_answered(client):
    assert client.get(inbox_url()).status_code == 405
    assert client.get(inbox_url("wrong")).status_code == 404


def test_sendgrid_needs_no_csrf_token(alex, inbox):
    response = post_email(Client(enforce_csrf_checks=True), raw_post(eml("redfin_question.eml")))
    assert response.status_code == 200
    assert Lead.objects.count() == 1


def test_a_post_with_no_email_in_it_is_a_400_and_kept(client):
    response = post_email(client, {"to": INBOX, "spam_score": "0"})
    assert response.status_code == 400
    assert "Not a SendGrid Inbound Parse post" in _answer(response)["errors"]["email"][0]
    submission = Submission.objects.get()
    assert (submission.status, submission.data) == ("rejected", {"to": INBOX, "spam_score": "0"})


def test_a_json_body_is_a_400_and_kept(client):
    response = client.post(inbox_url(), '{"from": "x"}', content_type="application/json")
    assert response.status_code == 400
    assert Submission.objects.get().data["body_head"] == '{"from": "x"}'


@pytest.mark.parametrize(
    "raw",
    [
        "\x00\x01garbage \ufffd not mime at all",
        "Content-Type: multipart/mixed; boundary=zz\n\n--zz\nbroken",
        "From: =?utf-8?q?=00?=\nSubject: \x00\n\n\x00\x00",
    ],
)
def test_garbage_mime_is_kept_unparsed_with_a_200(client, raw):
    response = post_email(client, {"email": raw})
    assert response.status_code == 200
    assert _answer(response)["status"] == "unparsed"
    submission = Submission.objects.get()
    assert submission.status == "rejected"
    assert "No lead found" in json.loads(submission.error)["email"][0]
    assert "\x00" not in json.dumps(submission.data)  # stored, NUL replaced


def test_nul_bytes_in_the_fields_are_stored_and_the_lead_still_made(client, alex, inbox):
    data = fields_post(eml("zillow_tour_request.eml"))
    data["text"] = data["text"].replace("Jordan Ellis\n", "Jor\x00dan Ellis\n")
    data["subject"] += "\x00"
    response = post_email(client, data)
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == ("Jordan", "Ellis")
    assert "\ufffd" in lead.submissions.get().data["subject"]


def test_a_huge_post_is_kept_unread_with_its_head(client, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 50_000
    data = fields_post(eml("zillow_tour_request.eml"))
    data["html"] = "<p>" + "x" * 100_000 + "</p>"
    response = post_email(client, data)
    assert response.status_code == 200
    assert _answer(response)["status"] == "too_large"
    submission = Submission.objects.get()
    assert submission.status == "rejected"
    assert "over the 50000-byte limit" in submission.error
    assert len(submission.data["body_head"]) <= 64 * 1024
    assert submission.mapped["found"]["subject"] == "Jordan Ellis wants to tour 48 Harbor View Dr"


def test_fields_over_djangos_memory_limit_are_kept_with_a_200(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    data = raw_post(eml("zillow_tour_request.eml") + b"\n" + b"y" * 20_000)
    response = post_email(client, data)
    assert response.status_code == 200
    assert _answer(response)["status"] == "too_large"
    assert Submission.objects.get().status == "rejected"


def test_a_broken_multipart_body_is_a_400_and_kept(client):
    response = client.generic(
        "POST",
        inbox_url(),
        b"--nope\r\nContent-Disposition: form-data\r\n\r\nx",
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400
    assert Submission.objects.get().status == "rejected"


def test_a_parser_bug_keeps_the_email(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(services, "lead_read", broken)
    response = post_email(client, raw_post(eml("zillow_tour_request.eml")))
    assert response.status_code == 200
    assert _answer(response)["status"] == "unparsed"
    assert "parser bug" in Submission.objects.get().error


def test_a_processing_failure_is_kept_and_still_answered_200(client, alex, inbox, monkeypatch):
    def broken(*args, **kwargs):
        raise IntegrityError("routing is down")

    monkeypatch.setattr("leads.intake.lead_segment", broken)
    response = post_email(client, raw_post(eml("zillow_tour_request.eml")))
    assert response.status_code == 200
    assert _answer(response)["status"] == "failed"
    assert Submission.objects.get().status == "failed"


# --- The broker's screen ---------------------------------------------------------------------------


def _unparsed(client, name="unparsed_personal.eml") -> Submission:
    post_email(client, raw_post(eml(name)))
    return Submission.objects.get(status="rejected")


def test_an_unparsed_email_is_listed_for_a_broker(client, inbox, broker):
    submission = _unparsed(client)
    client.force_login(broker)
    body = client.get(reverse("integrations:inbox")).content.decode()
    assert 'data-testid="inbox-count">1<' in body
    assert "Saw your sign on Maple Ave" in body
    assert "dana.kim@example.com" in body and "413-555-0119" in body
    assert reverse("integrations:inbox-email", args=[submission.pk]) in body
    today = client.get(reverse("leads:today")).content.decode()
    assert 'data-testid="inbound-emails-count">1<' in today
    assert reverse("integrations:inbox") in today


def test_the_list_is_newest_first_a_page_at_a_time(client, broker):
    for n in range(27):
        post_email(client, {"email": f"Subject: note {n}\nMessage-ID: <n{n}@x>\n\nhello"})
    client.force_login(broker)
    first = client.get(reverse("integrations:inbox")).content.decode()
    assert first.count('class="inbox-row"') == 25
    assert first.index("note 26") < first.index("note 25") < first.index("note 10")
    assert "note 1<" not in first and "note 0<" not in first
    second = client.get(reverse("integrations:inbox") + "?page=2").content.decode()
    assert second.count('class="inbox-row"') == 2 and "note 0<" in second
    assert client.get(reverse("integrations:inbox") + "?page=999").status_code == 200


def test_the_form_is_prefilled_with_what_was_found(client, inbox, broker):
    submission = _unparsed(client)
    client.force_login(broker)
    page = client.get(reverse("integrations:inbox-email", args=[submission.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["first_name"] == "Dana" and form.initial["last_name"] == "Kim"
    assert form.initial["email"] == "dana.kim@example.com"
    assert form.initial["phone"] == "(413) 555-0119"
    body = page.content.decode()
    assert "Could someone call me about it?" in body  # the email itself, to read
    assert 'name="csrfmiddlewaretoken"' in body


def test_make_a_lead_creates_a_routed_lead_and_opens_it(client, inbox, broker, alex, sam):
    submission = _unparsed(client)
    client.force_login(broker)
    response = client.post(
        reverse("integrations:inbox-email", args=[submission.pk]),
        {
            "first_name": "Dana",
            "last_name": "Kim",
            "email": "Dana.Kim@example.com",
            "phone": "413-555-0119",
            "source": "listing_ad",
            "timeline": "within_3_months",
            "side": "buyer",
            "property_address": "14 Maple Ave, Springfield, MA",
            "message": "Saw the sign.",
            "owner": sam.pk,
        },
    )
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])
    assert (lead.email, lead.phone, lead.owner) == ("dana.kim@example.com", "+14135550119", sam)
    assert (lead.source, lead.channel, lead.intent) == ("listing_ad", "email", "hot")
    assert Message.objects.filter(lead=lead, purpose=Message.Purpose.ACKNOWLEDGMENT).exists()
    assert Alert.objects.filter(lead=lead, agent=sam).exists()
    note = lead.events.get(kind=LeadEvent.Kind.NOTE)
    assert note.actor == broker and "no parser could read" in note.summary
    submission.refresh_from_db()
    assert (submission.status, submission.lead) == ("accepted", lead)
    assert submission.mapped["found"]["subject"] == "Saw your sign on Maple Ave"
    assert (
        'data-testid="inbox-count">0<' in client.get(reverse("integrations:inbox")).content.decode()
    )


def test_bad_answers_show_field_errors_and_make_nothing(client, inbox, broker):
    submission = _unparsed(client)
    client.force_login(broker)
    url = reverse("integrations:inbox-email", args=[submission.pk])
    response = client.post(url, {"phone": "12", "email": "not-an-email", "source": "nope"})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "phone" in errors and "email" in errors and "source" in errors
    assert "valid phone number" in response.content.decode()
    nothing = client.post(url, {"source": "website", "side": "unknown"})
    assert nothing.status_code == 422
    assert "Give an email address or a phone number" in nothing.content.decode()
    assert Lead.objects.count() == 0
    assert Submission.objects.get().status == "rejected"


def test_agents_are_refused_the_screen_and_the_form(client, inbox, agent):
    submission = _unparsed(client)
    assert client.get(reverse("integrations:inbox")).status_code == 404
    url = reverse("integrations:inbox-email", args=[submission.pk])
    assert client.get(url).status_code == 404
    posted = client.post(url, {"email": "a@example.com", "source": "website", "side": "unknown"})
    assert posted.status_code == 404
    assert Lead.objects.count() == 0
    assert "inbound-emails-count" not in client.get(reverse("leads:today")).content.decode()


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get(reverse("integrations:inbox"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_form_needs_the_csrf_token(inbox, broker):
    csrf_client = Client(enforce_csrf_checks=True)
    submission = _unparsed(csrf_client)
    csrf_client.force_login(broker)
    response = csrf_client.post(
        reverse("integrations:inbox-email", args=[submission.pk]),
        {"email": "a@example.com", "source": "website", "side": "unknown"},
    )
    assert response.status_code == 403
    assert Lead.objects.count() == 0


def test_a_lead_made_already_is_not_made_twice(client, inbox, broker):
    submission = _unparsed(client)
    client.force_login(broker)
    url = reverse("integrations:inbox-email", args=[submission.pk])
    answers = {"email": "dana.kim@example.com", "source": "website", "side": "unknown"}
    assert client.post(url, answers).status_code == 302
    assert client.post(url, answers).status_code == 404  # off the list
    lead, why = services.inbound_email_make_lead(
        submission, {"email": "x@example.com"}, source="website"
    )
    assert lead == Lead.objects.get() and why == ""


def test_a_broker_dismisses_what_is_no_lead(client, inbox, broker):
    submission = _unparsed(client)
    client.force_login(broker)
    response = client.post(reverse("integrations:inbox-dismiss", args=[submission.pk]))
    assert response.status_code == 302
    assert (
        'data-testid="inbox-count">0<' in client.get(reverse("integrations:inbox")).content.decode()
    )
    submission.refresh_from_db()
    assert submission.status == "rejected" and submission.mapped["dismissed"]["by"] == broker.pk


def test_a_portal_email_missing_its_contact_prefills_what_the_portal_gave(client, inbox, broker):
    message = (
        "From: Zillow <no-reply@mail.zillow.com>\nTo: leads@inbox.harborandmain.example\n"
        "Subject: Sam Ortiz wants to tour 9 Pine St\nMessage-ID: <t1@mail.zillow.com>\n\n"
        "Sam Ortiz is requesting a tour of 9 Pine St, Amherst, MA 01002.\n\nName: Sam Ortiz\n"
        "Timeframe: 3-6 months\n"
    )
    post_email(client, {"email": message})
    submission = Submission.objects.get()
    client.force_login(broker)
    form = client.get(reverse("integrations:inbox-email", args=[submission.pk])).context["form"]
    assert (form.initial["first_name"], form.initial["last_name"]) == ("Sam", "Ortiz")
    assert form.initial["source"] == "listing_ad"
    assert form.initial["timeline"] == "3_to_6_months"
    assert form.initial["property_address"] == "9 Pine St, Amherst, MA 01002"
    assert submission.origin == "Zillow"


def test_a_plus_address_prefills_the_owner(client, inbox, broker, alex):
    post_email(
        client,
        raw_post(
            eml("unparsed_personal.eml"), envelope_to=["leads+alex@inbox.harborandmain.example"]
        ),
    )
    client.force_login(broker)
    submission = Submission.objects.get()
    form = client.get(reverse("integrations:inbox-email", args=[submission.pk])).context["form"]
    assert form.initial["owner"] == alex.pk


def test_a_stranded_email_is_processed_by_the_sweep(client, alex, inbox, monkeypatch):
    """Stored, then the process died before intake: the sweep reads `mapped` and goes on."""
    monkeypatch.setattr(services, "channel_submission_process", lambda submission: None)
    post_email(client, raw_post(eml("redfin_question.eml")))
    submission = Submission.objects.get()
    assert submission.status == "received" and Lead.objects.count() == 0
    Submission.objects.update(created_at=submission.created_at.replace(year=2020))
    assert submissions_process_stranded() == 1
    assert Lead.objects.get().origin == "Redfin"


def test_an_agent_of_the_same_username_but_inactive_is_not_named(client, inbox):
    AgentFactory(user__username="alex", active=False)
    AgentFactory(user__username="sam")
    post_email(
        client,
        raw_post(
            eml("redfin_question.eml"), envelope_to=["leads+alex@inbox.harborandmain.example"]
        ),
    )
    assert Lead.objects.get().owner.username == "sam"

"""The hosted intake forms, as a prospect uses them."""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from leads import intake
from leads.forms import INTAKE_FORMS, intake_token
from leads.models import ConsentRecord, Lead, LeadEvent, Submission
from tests.factories import AgentFactory
from tests.helpers import answers, post_intake

pytestmark = pytest.mark.django_db

SOURCE_OF = {
    "valuation": "valuation",
    "listing-ad": "listing_ad",
    "giveaway": "giveaway",
    "open-house": "open_house",
    "website": "website",
    "reactivation": "reactivation",
}


@pytest.mark.parametrize("slug", INTAKE_FORMS)
def test_every_form_renders_with_the_timeline_question_and_consent(client, slug):
    response = client.get(reverse("leads:intake", args=[slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "When are you thinking of making a move?" in html
    for label in ("Within 3 months", "3 to 6 months", "6 to 18 months", "Just curious"):
        assert label in html
    assert 'name="sms_consent"' in html
    assert "Reply STOP to opt out" in html
    assert "Msg &amp; data rates may apply" in html
    assert "Harbor &amp; Main Realty" in html


@pytest.mark.parametrize("slug", INTAKE_FORMS)
def test_valid_post_stores_the_lead_and_thanks_the_prospect(client, slug):
    response = post_intake(client, slug, timeline="within_3_months")
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:intake-thanks", args=[slug])

    lead = Lead.objects.get()
    assert lead.source == SOURCE_OF[slug]
    assert lead.timeline == "within_3_months"
    assert lead.intent == "hot"
    assert lead.phone == "+14135550187"
    assert lead.email == "ada@example.com"
    assert lead.nurture_track is not None
    assert lead.submissions.get().data["phone"] == "(413) 555-0187"
    assert lead.events.filter(kind=LeadEvent.Kind.CREATED).count() == 1
    assert Submission.objects.get().status == Submission.Status.ACCEPTED

    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert b"Thank you" in thanks.content


def test_source_comes_from_the_form_not_the_post(client):
    post_intake(client, "giveaway", source="valuation", timeline="just_curious")
    lead = Lead.objects.get()
    assert lead.source == "giveaway"
    assert lead.intent == "long_term"


def test_giveaway_entrant_moving_within_3_months_is_hot(client):
    post_intake(client, "giveaway", timeline="within_3_months")
    lead = Lead.objects.get()
    assert (lead.intent, lead.nurture_track.key) == ("hot", "hot_seller")
    assert lead.routing_rule.alert is True


def test_each_form_sets_side_and_what_was_asked(client):
    post_intake(client, "valuation", email="v@example.com", phone="")
    post_intake(client, "listing-ad", email="l@example.com", phone="", asked_for_showing="on")
    post_intake(client, "open-house", email="o@example.com", phone="", side="")
    post_intake(client, "open-house", email="n@example.com", phone="", side="unknown")
    post_intake(client, "website", email="w@example.com", phone="", inquiry_type="selling")
    leads = {lead.email: lead for lead in Lead.objects.all()}

    valuation = leads["v@example.com"]
    assert (valuation.side, valuation.bedrooms, str(valuation.bathrooms)) == ("seller", 3, "2.5")
    assert leads["l@example.com"].side == "buyer"
    assert leads["l@example.com"].asked_for_showing is True
    assert leads["l@example.com"].intent == "hot"  # a showing request is a hot signal
    assert "o@example.com" not in leads  # the open-house question is required
    assert (leads["n@example.com"].side, leads["n@example.com"].inquiry_type) == (
        "unknown",
        "neighbour",
    )
    assert leads["w@example.com"].side == "seller"


def test_listing_and_open_house_are_prefilled_from_the_link(client):
    listing = client.get(
        reverse("leads:intake", args=["listing-ad"]) + "?listing=48+Harbor+View+Dr"
    )
    assert b'value="48 Harbor View Dr"' in listing.content
    event = client.get(reverse("leads:intake", args=["open-house"]) + "?event=Sunday+open+house")
    assert b'value="Sunday open house"' in event.content


def test_utm_parameters_from_the_page_are_kept(client):
    post_intake(
        client,
        "valuation",
        query="utm_source=facebook&utm_medium=paid&utm_campaign=spring-valuation",
    )
    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == (
        "facebook",
        "paid",
        "spring-valuation",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "", "Please tell us your first name."),
        ("timeline", "", "Please choose when you are thinking of making a move."),
        ("timeline", "yesterday", "Please choose one of the options."),
        ("email", "not-an-email", "Please enter a valid email address"),
        ("phone", "12345", "Please enter a valid phone number with its area code"),
        ("first_name", "A" * 101, "Ensure this value has at most 100 characters"),
        ("first_name", "Ada\x07", "Please remove the special (control) characters"),
        ("property_address", "", "Please enter the address of the home to value."),
        ("bedrooms", "three", "Please enter a number of bedrooms"),
        ("bedrooms", "99", "Ensure this value is less than or equal to 20."),
    ],
)
def test_invalid_field_gets_its_message_keeps_the_input_and_stores_nothing(
    client, field, value, message
):
    response = post_intake(client, "valuation", **{field: value}, last_name="Kept-As-Typed")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'value="Kept-As-Typed"' in html
    assert Lead.objects.count() == 0
    assert Submission.objects.count() == 0


def test_a_way_to_reach_them_is_required(client):
    response = post_intake(client, "giveaway", email="", phone="")
    assert "Please give us an email address or a phone number" in response.content.decode()
    assert Lead.objects.count() == 0


def test_ticking_sms_consent_without_a_phone_is_explained(client):
    response = post_intake(client, "giveaway", phone="", sms_consent="on")
    assert "Add your mobile number to get texts" in response.content.decode()
    assert Lead.objects.count() == 0


def test_sms_consent_is_recorded_with_its_evidence(client):
    post_intake(client, "valuation", sms_consent="on", HTTP_USER_AGENT="ignored")
    lead = Lead.objects.get()
    assert lead.can_text
    record = ConsentRecord.objects.get(lead=lead)
    assert record.wording_version == lead.sms_consent_version == "sms-2026-11-v1"
    assert "Reply STOP to opt out" in record.wording
    assert record.ip == "203.0.113.7"
    assert record.form_url == "http://testserver/intake/valuation/"


def test_unticked_consent_means_no_texts(client):
    post_intake(client, "valuation")
    lead = Lead.objects.get()
    assert lead.sms_consent_at is None
    assert not lead.can_text
    assert not ConsentRecord.objects.exists()


def test_unicode_names_are_kept_as_typed_and_html_is_plain_text(client):
    decomposed = "Zoe\u0308"  # Zoë typed with a combining diaeresis
    post_intake(client, "website", first_name=decomposed, message="<script>alert(1)</script>")
    lead = Lead.objects.get()
    assert lead.first_name == "Zoë" == "Zo\u00eb"
    assert lead.message == "<script>alert(1)</script>"


def test_html_in_a_rejected_form_is_shown_escaped(client):
    response = post_intake(client, "valuation", first_name="<b>bold</b>", timeline="")
    html = response.content.decode()
    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_phone_numbers_in_any_common_format_become_e164(client):
    post_intake(client, "giveaway", phone="413.555.0142", email="")
    post_intake(client, "giveaway", phone="+44 20 7946 0958", email="")
    assert set(Lead.objects.values_list("phone", flat=True)) == {"+14135550142", "+442079460958"}


@pytest.mark.parametrize("slug", INTAKE_FORMS)
def test_nul_bytes_anywhere_in_the_request_are_stored_replaced_and_the_prospect_thanked(
    client, slug
):
    """PostgreSQL cannot store NUL in text or JSON: each is kept as U+FFFD, never a 500."""
    url = reverse("leads:intake", args=[slug]) + "?ref%00=ad&utm_source=face%00book"
    response = client.post(
        url,
        answers(slug, last_name="Love\x00lace"),
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="Mozilla/5.0\x00(X11)",
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:intake-thanks", args=[slug])
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.ACCEPTED
    assert submission.query == {"ref\ufffd": "ad", "utm_source": "face\ufffdbook"}
    assert submission.user_agent == "Mozilla/5.0\ufffd(X11)"
    assert submission.data["last_name"] == "Love\ufffdlace"  # as received, marked
    lead = Lead.objects.get()
    assert (lead.last_name, lead.utm_source) == ("Lovelace", "face\ufffdbook")


@pytest.mark.parametrize(
    "email",
    [
        # 152 characters as typed, 282 lower-cased: "İ" lower-cases to "i" + a combining dot.
        "ada" + "\u0130" * 130 + "@example.com",
        # 231 characters as typed, 255 with the domain in its IDNA (xn--) form, as it is sent.
        "ada@" + ("\u00fc" * 55 + ".") * 4 + "com",
    ],
)
def test_an_email_too_long_once_normalised_is_refused_at_the_form(client, email):
    response = post_intake(client, "giveaway", email=email, phone="")
    assert response.status_code == 200
    assert "This email address is too long for us to use" in response.content.decode()
    assert Submission.objects.count() == 0
    assert Lead.objects.count() == 0


class TestSpam:
    def test_honeypot_is_quarantined_and_answered_like_success(self, client):
        response = post_intake(client, "valuation", company_website="http://spam.example")
        assert response.status_code == 302
        assert Lead.objects.count() == 0
        submission = Submission.objects.get()
        assert (submission.status, submission.spam_reason) == ("spam", "honeypot")

    def test_a_fast_but_human_looking_submission_becomes_a_lead_marked_for_review(self, client):
        # Browser autofill sends a complete form within a second: a signal, not a verdict.
        response = post_intake(client, "valuation", form_token=intake_token("valuation"))
        assert response.status_code == 302
        lead = Lead.objects.get()
        submission = lead.submissions.get()
        assert submission.status == Submission.Status.ACCEPTED
        assert submission.spam_reason.startswith("filled too fast (")
        review = lead.events.get(kind=LeadEvent.Kind.NOTE)
        assert review.summary.startswith("Check this is a real person: the form was filled too")
        assert review.data["review"] == submission.spam_reason
        assert lead.messages.filter(purpose="acknowledgment").exists()  # answered like anyone

    def test_a_fast_honeypot_submission_is_quarantined(self, client):
        post_intake(
            client, "valuation", form_token=intake_token("valuation"), company_website="x.example"
        )
        assert Lead.objects.count() == 0
        assert Submission.objects.get().spam_reason == "honeypot"

    @pytest.mark.parametrize(
        ("token", "reason"), [("", "missing form token"), ("forged", "forged form token")]
    )
    def test_a_post_without_the_signed_token_is_quarantined(self, client, token, reason):
        post_intake(client, "valuation", form_token=token)
        assert Lead.objects.count() == 0
        assert Submission.objects.get().spam_reason == reason

    def test_nul_bytes_in_a_bot_post_are_stored_safely(self, client):
        url = reverse("leads:intake", args=["valuation"]) + "?x%00=y"
        data = answers("valuation", company_website="x", message="a\x00b")
        response = client.post(url, data, HTTP_USER_AGENT="bot\x00")
        assert response.status_code == 302
        submission = Submission.objects.get()
        assert (submission.status, submission.data["message"]) == ("spam", "a\ufffdb")
        assert (submission.query, submission.user_agent) == ({"x\ufffd": "y"}, "bot\ufffd")

    def test_rate_limit_answers_429_with_a_clear_page(self, client, settings):
        settings.INTAKE_RATE_LIMIT = "3/10m"
        for n in range(3):
            assert (
                post_intake(client, "giveaway", email=f"p{n}@example.com", phone="").status_code
                == 302
            )
        response = post_intake(client, "giveaway", email="p4@example.com", phone="")
        assert response.status_code == 429
        assert b"Please wait a few minutes" in response.content
        assert Lead.objects.count() == 3
        # Reading the form is never limited.
        assert client.get(reverse("leads:intake", args=["giveaway"])).status_code == 200

    def post_from(self, client, address: str, n: int):
        url = reverse("leads:intake", args=["giveaway"])
        data = answers("giveaway", email=f"p{n}@example.com", phone="")
        return client.post(url, data, REMOTE_ADDR=address).status_code

    def test_an_ipv4_client_seen_through_an_ipv6_socket_is_one_client(self, client, settings):
        settings.INTAKE_RATE_LIMIT = "2/10m"
        assert self.post_from(client, "203.0.113.7", 1) == 302
        assert self.post_from(client, "::ffff:203.0.113.7", 2) == 302
        assert self.post_from(client, "::ffff:203.0.113.7", 3) == 429
        assert self.post_from(client, "203.0.113.7", 4) == 429
        assert set(Submission.objects.values_list("ip", flat=True)) == {"203.0.113.7"}
        assert self.post_from(client, "::ffff:203.0.113.8", 5) == 302  # another client

    def test_addresses_in_one_ipv6_slash_64_share_one_limit(self, client, settings):
        settings.INTAKE_RATE_LIMIT = "2/10m"
        assert self.post_from(client, "2001:db8:1:2::1", 1) == 302
        assert self.post_from(client, "2001:db8:1:2:ffff:ffff:ffff:9", 2) == 302
        assert self.post_from(client, "2001:db8:1:2::77", 3) == 429
        assert self.post_from(client, "2001:db8:1:3::1", 4) == 302  # the next /64 is another
        # The submission keeps the address itself, not the network it was counted in.
        assert sorted(Submission.objects.values_list("ip", flat=True)) == [
            "2001:db8:1:2::1",
            "2001:db8:1:2:ffff:ffff:ffff:9",
            "2001:db8:1:3::1",
        ]

    def test_the_rate_limit_page_of_a_framed_form_may_be_framed(self, client, settings):
        settings.INTAKE_RATE_LIMIT = "1/10m"
        settings.INTAKE_FRAME_ANCESTORS = ["https://www.harborandmain.example"]
        post_intake(client, "giveaway", query="embed=1")
        response = post_intake(client, "giveaway", query="embed=1", email="p2@example.com")
        assert response.status_code == 429
        assert "X-Frame-Options" not in response
        assert "https://www.harborandmain.example" in response["Content-Security-Policy"]


class TestDuplicates:
    def test_same_email_updates_the_lead_and_records_a_reinquiry(self, client):
        post_intake(client, "giveaway", timeline="just_curious", phone="")
        post_intake(
            client, "listing-ad", timeline="just_curious", phone="", email="ADA@example.com"
        )
        lead = Lead.objects.get()
        assert lead.source == "giveaway"  # the source it arrived by stays
        assert lead.inquiry_count == 2
        assert lead.property_address == "48 Harbor View Drive"  # what they ask about now
        reinquiry = lead.events.get(kind=LeadEvent.Kind.REINQUIRY)
        assert reinquiry.data["source"] == "listing_ad"
        assert Submission.objects.filter(lead=lead).count() == 2

    def test_same_phone_in_another_format_is_the_same_person(self, client):
        post_intake(client, "giveaway", email="", phone="413-555-0187")
        post_intake(client, "website", email="ada@example.com", phone="+1 (413) 555 0187")
        lead = Lead.objects.get()
        assert lead.email == "ada@example.com"  # a blank is filled in

    def test_a_hotter_timeline_raises_intent_and_moves_the_track(self, client):
        post_intake(client, "giveaway", timeline="just_curious")
        post_intake(client, "giveaway", timeline="within_3_months")
        lead = Lead.objects.get()
        assert (lead.intent, lead.nurture_track.key) == ("hot", "hot_seller")
        change = lead.events.get(kind=LeadEvent.Kind.INTENT_CHANGED)
        assert change.data == {"from": "long_term", "to": "hot"}

    def test_a_cooler_answer_does_not_cool_the_lead_down(self, client):
        post_intake(client, "valuation", timeline="within_3_months")
        post_intake(client, "valuation", timeline="just_curious")
        lead = Lead.objects.get()
        assert lead.intent == "hot"
        assert lead.timeline == "within_3_months"  # as recorded: the new answer is proposed
        proposed = lead.events.get(kind=LeadEvent.Kind.REINQUIRY).data["proposed"]
        assert proposed == {"timeline": ["within_3_months", "just_curious"]}

    def test_email_of_one_lead_and_phone_of_another_updates_the_email_match(self, client):
        post_intake(client, "giveaway", email="first@example.com", phone="")
        post_intake(client, "giveaway", email="", phone="(413) 555-0111")
        post_intake(client, "website", email="first@example.com", phone="(413) 555-0111")
        assert Lead.objects.count() == 2
        assert Lead.objects.get(email="first@example.com").inquiry_count == 2


def test_a_processing_failure_keeps_the_submission_and_still_thanks_the_prospect(
    client, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("routing is down")

    monkeypatch.setattr(intake, "lead_segment", broken)
    response = post_intake(client, "valuation")
    assert response.status_code == 302
    assert Lead.objects.count() == 0
    submission = Submission.objects.get()
    assert submission.status == "failed"
    assert "routing is down" in submission.error
    assert submission.data["email"] == "ada@example.com"


def test_a_solo_agent_owns_every_lead(client):
    agent = AgentFactory()
    post_intake(client, "valuation")
    lead = Lead.objects.get()
    assert lead.owner == agent.user
    assert lead.events.filter(kind=LeadEvent.Kind.ASSIGNED).exists()


def test_embed_variant_drops_the_chrome_and_may_be_framed_by_the_brokerage(client, settings):
    settings.INTAKE_FRAME_ANCESTORS = ["https://www.harborandmain.example"]
    url = reverse("leads:intake", args=["valuation"])
    page = client.get(url)
    assert page["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in page

    embedded = client.get(url + "?embed=1")
    assert "X-Frame-Options" not in embedded
    assert embedded["Content-Security-Policy"] == (
        "frame-ancestors 'self' https://www.harborandmain.example"
    )
    assert b"public-header" not in embedded.content
    response = client.post(url + "?embed=1", answers("valuation"), REMOTE_ADDR="203.0.113.9")
    assert response["Location"].endswith("/thanks/?embed=1")


def test_unknown_form_is_a_404(client):
    assert client.get("/intake/mailer/").status_code == 404


class TestFormToken:
    """The public forms carry no session: the signed form token, not the CSRF cookie, protects
    them (bound to its form, expiring), with the honeypot and the rate limit."""

    def test_a_post_without_the_csrf_cookie_but_with_a_good_token_is_accepted(self):
        browser = Client(enforce_csrf_checks=True)  # a framed form gets no CSRF cookie
        response = post_intake(browser, "giveaway")
        assert response.status_code == 302
        assert Lead.objects.get().source == "giveaway"

    def test_the_form_sets_no_csrf_cookie(self, client):
        response = client.get(reverse("leads:intake", args=["giveaway"]) + "?embed=1")
        assert "csrftoken" not in response.cookies
        assert "csrfmiddlewaretoken" not in response.content.decode()

    @pytest.mark.parametrize(
        ("token", "says"),
        [
            (
                lambda: intake_token("valuation", issued_at=time.time() - 25 * 3600),
                "This form was open for a long time",
            ),
            (
                lambda: intake_token("giveaway", issued_at=time.time() - 60),
                "the details of another of our forms",
            ),
        ],
        ids=["expired", "other form"],
    )
    def test_an_expired_or_other_forms_token_is_refused_and_the_answers_kept(self, token, says):
        browser = Client(enforce_csrf_checks=True)
        response = post_intake(browser, "valuation", first_name="Grace", form_token=token())
        assert response.status_code == 200  # the form again, never a bare 403
        page = response.content.decode()
        assert says in page
        assert 'value="Grace"' in page and 'value="12 Elm Street, Springfield"' in page
        assert Lead.objects.count() == 0 and Submission.objects.count() == 0
        # Sending it again, as shown, works: a fresh token for this form.
        fresh = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
        response = post_intake(browser, "valuation", first_name="Grace", form_token=fresh)
        assert response.status_code == 302
        lead = Lead.objects.get()
        assert lead.first_name == "Grace"
        # The fill time still counts from when the form was first shown: nothing to review.
        assert not lead.events.filter(kind=LeadEvent.Kind.NOTE).exists()

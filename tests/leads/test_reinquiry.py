"""A re-inquiry adds to a lead and may raise its intent; it never overwrites what is recorded.

A public form is open to anyone: a POST with someone's email or phone must not be able to rewrite
their lead. What the new submission says differently is kept as proposed changes on the
re-inquiry event, shown to the agent beside the recorded values, and applied in one click.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from alerts.models import Alert
from leads.models import Lead, LeadEvent
from realtycrm.flows.inbound import text_receive
from sequences.models import Suppression
from tests.factories import AgentFactory
from tests.helpers import post_intake
from tests.moments import AFTERNOON

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "lead"}


@pytest.fixture
def clock_start():
    return AFTERNOON


@pytest.fixture
def submit(client, django_capture_on_commit_callbacks):
    """Post an intake form the way a browser would; what commits is dispatched."""

    def submit(slug, **answers):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_intake(client, slug, **answers)
        assert response.status_code == 302

    return submit


def reinquiry(lead) -> LeadEvent:
    return lead.events.filter(kind=LeadEvent.Kind.REINQUIRY).latest("occurred_at", "id")


def accept_url(lead, event):
    return reverse("leads:reinquiry-accept", args=[lead.pk, event.pk])


def test_a_post_with_someones_email_leaves_their_lead_as_recorded(client, submit):
    submit("valuation", timeline="6_to_18_months")
    submit(
        "valuation",
        first_name="Mallory",
        last_name="Intruder",
        phone="(413) 555-0199",
        property_address="1 Other Road",
        timeline="just_curious",
    )
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == ("Ada", "Lovelace")
    assert lead.phone == "+14135550187"
    assert lead.property_address == "12 Elm Street, Springfield"
    assert lead.timeline == "6_to_18_months"
    assert lead.inquiry_count == 2
    assert reinquiry(lead).data["proposed"] == {
        "first_name": ["Ada", "Mallory"],
        "last_name": ["Lovelace", "Intruder"],
        "phone": ["+14135550187", "+14135550199"],
        "property_address": ["12 Elm Street, Springfield", "1 Other Road"],
        "timeline": ["6_to_18_months", "just_curious"],
    }


def test_a_blank_is_filled_but_another_leads_phone_is_never_proposed(client, submit):
    submit("giveaway", email="", phone="(413) 555-0111")  # someone else's lead
    submit("giveaway", phone="")
    submit("listing-ad", phone="(413) 555-0111")
    lead = Lead.objects.get(email="ada@example.com")
    assert lead.phone == ""
    assert lead.property_address == "48 Harbor View Drive"  # was blank: filled, not overwritten
    assert "phone" not in reinquiry(lead).data.get("proposed", {})


def test_the_agent_sees_the_new_answers_and_accepts_them_in_one_click(client, agent, submit):
    submit("valuation", timeline="6_to_18_months")
    submit("valuation", phone="(413) 555-0199", property_address="1 Other Road", bedrooms="4")
    lead = Lead.objects.get()
    page = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "New answers from Home valuation funnel" in page
    assert "12 Elm Street, Springfield" in page and "1 Other Road" in page

    event = reinquiry(lead)
    response = client.post(accept_url(lead, event), headers=HTMX)
    assert response.status_code == 200
    assert "New answers accepted." in response.content.decode()
    lead.refresh_from_db()
    assert (lead.phone, lead.property_address, lead.bedrooms) == ("+14135550199", "1 Other Road", 4)
    update = lead.events.get(kind=LeadEvent.Kind.CONTACT_UPDATED)
    assert update.actor == agent
    assert update.data["changed"]["property_address"] == [
        "12 Elm Street, Springfield",
        "1 Other Road",
    ]
    event.refresh_from_db()
    assert event.data["resolved"]["by"] == agent.pk
    page = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "New answers from" not in page
    # Accepting twice changes nothing more.
    assert client.post(accept_url(lead, event), headers=HTMX).status_code == 422


def test_accepting_a_new_timeline_reclassifies_the_lead(client, agent, submit):
    submit("valuation", timeline="within_3_months")
    submit("valuation", timeline="just_curious")
    lead = Lead.objects.get()
    assert (lead.timeline, lead.intent) == ("within_3_months", "hot")
    client.post(accept_url(lead, reinquiry(lead)), headers=HTMX)
    lead.refresh_from_db()
    assert lead.timeline == "just_curious"
    assert lead.intent == "long_term"  # an agent's call, so it may cool the lead down
    change = lead.events.get(kind=LeadEvent.Kind.TIMELINE_CHANGED)
    assert change.actor == agent


def test_the_agent_may_keep_the_recorded_answers(client, agent, submit):
    submit("valuation")
    submit("valuation", property_address="1 Other Road")
    lead = Lead.objects.get()
    event = reinquiry(lead)
    response = client.post(
        reverse("leads:reinquiry-dismiss", args=[lead.pk, event.pk]), headers=HTMX
    )
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.property_address == "12 Elm Street, Springfield"
    event.refresh_from_db()
    assert event.data["resolved"]["accepted"] is False


def test_only_an_agent_who_sees_the_lead_may_accept(client, submit):
    owner = AgentFactory()
    submit("valuation")
    submit("valuation", property_address="1 Other Road")
    lead = Lead.objects.get()
    assert lead.owner == owner.user
    other = AgentFactory()
    client.force_login(other.user)
    assert client.post(accept_url(lead, reinquiry(lead))).status_code == 404
    lead.refresh_from_db()
    assert lead.property_address == "12 Elm Street, Springfield"


def test_a_hotter_timeline_still_raises_intent_and_alerts_without_overwriting(client, submit):
    agent = AgentFactory()
    submit("giveaway", timeline="just_curious")
    submit("giveaway", timeline="within_3_months")
    lead = Lead.objects.get()
    assert lead.timeline == "just_curious"  # as recorded, until the agent accepts
    assert (lead.intent, lead.nurture_track.key) == ("hot", "hot_seller")
    assert reinquiry(lead).data["proposed"] == {"timeline": ["just_curious", "within_3_months"]}
    assert Alert.objects.get(lead=lead).agent == agent.user
    assert lead.intent_reason == "Asked again: said they are moving: within 3 months"


def test_a_seller_who_asks_about_buying_is_both(client, submit):
    submit("valuation")
    assert Lead.objects.get().side == "seller"
    submit("listing-ad")
    lead = Lead.objects.get()
    assert lead.side == "both"
    assert reinquiry(lead).data["changed"]["side"] == "both"
    submit("reactivation", side="seller")
    assert Lead.objects.get().side == "both"  # both stays both


def test_the_reinquiry_acknowledgment_names_the_property_just_asked_about(
    client, submit, clock, mailoutbox, settings
):
    settings.SEQUENCES_REACK_WINDOW_HOURS = 72
    submit("listing-ad", property_address="48 Harbor View Drive")
    clock.move_to(AFTERNOON + timedelta(days=4))
    submit("listing-ad", property_address="7 Birch Road")
    lead = Lead.objects.get()
    assert lead.property_address == "48 Harbor View Drive"
    assert mailoutbox[-1].subject == "7 Birch Road: the details you asked for"


def test_consent_with_another_number_never_lifts_the_leads_stop(
    client, submit, django_capture_on_commit_callbacks
):
    submit("valuation")
    lead = Lead.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        text_receive(from_number=lead.phone, body="STOP")
    submit("valuation", phone="(413) 555-0199", sms_consent="on")
    lead.refresh_from_db()
    assert lead.phone == "+14135550187"
    assert lead.sms_opted_out_at is not None
    assert Suppression.objects.filter(channel="sms", address=lead.phone).exists()
    assert not lead.consents.exists()

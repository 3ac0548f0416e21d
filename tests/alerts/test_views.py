"""The live feed every open tab polls, and answering an alert from the browser."""

import pytest
from django.urls import reverse

from alerts.models import Alert
from tests.factories import AlertFactory, ClaimOfferFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_feed_carries_what_an_agent_needs_to_act(client, agent):
    lead = LeadFactory(
        owner=agent, hot=True, first_name="Grace", last_name="Hopper", phone="+14135550187"
    )
    alert = AlertFactory(lead=lead, agent=agent)
    AlertFactory(lead=LeadFactory(owner=agent), agent=agent, closed_at=lead.created_at)  # answered
    data = client.get(reverse("alerts:feed")).json()
    assert data["count"] == 1
    (item,) = data["alerts"]
    assert item["lead"]["name"] == "Grace Hopper"
    assert item["lead"]["phone"] == "+14135550187"
    assert item["lead"]["phone_display"] == "(413) 555-0187"
    assert (item["lead"]["timeline"], item["lead"]["intent"]) == ("Within 3 months", "Hot")
    assert item["open_url"] == reverse("alerts:open", args=[alert.pk])
    assert item["urgent"] is True


def test_opening_the_lead_from_the_alert_acknowledges_it(client, agent):
    lead = LeadFactory(owner=agent, hot=True)
    alert = AlertFactory(lead=lead, agent=agent)
    response = client.get(reverse("alerts:open", args=[alert.pk]))
    assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])
    alert.refresh_from_db()
    lead.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert lead.alert_acknowledged_at == alert.acknowledged_at
    assert lead.events.filter(kind="alert_acknowledged").count() == 1
    client.get(reverse("alerts:open", args=[alert.pk]))  # a second visit changes nothing
    assert lead.events.filter(kind="alert_acknowledged").count() == 1


def test_the_inbox_lists_open_alerts_and_how_fast_they_were_answered(client, agent):
    lead = LeadFactory(owner=agent, first_name="Waiting")
    AlertFactory(lead=lead, agent=agent, reason=Alert.Reason.REPLY)
    page = client.get(reverse("alerts:inbox")).content.decode()
    assert "Waiting" in page
    assert "Lead replied" in page
    assert "I'm on it" in page


def test_availability_pauses_new_leads_with_a_clear_message_for_bad_hours(client, agent):
    url = reverse("alerts:availability")
    response = client.post(
        url, {"paused": "on", "paused_reason": "Vacation", "work_start": "09:00"}
    )
    assert response.status_code == 200
    assert "Give both ends of your working hours, or neither." in response.content.decode()
    response = client.post(
        url,
        {"paused": "on", "paused_reason": "Vacation", "work_days": ["0", "1", "2"]},
    )
    assert response.status_code == 302
    agent.agent.refresh_from_db()
    assert (agent.agent.paused, agent.agent.work_days) == (True, "012")


def test_a_user_without_an_agent_profile_has_no_availability_page(client):
    client.force_login(UserFactory(is_superuser=True))
    assert client.get(reverse("alerts:availability")).status_code == 404


def test_today_puts_open_alerts_first_and_im_on_it_clears_them(client, agent):
    lead = LeadFactory(owner=agent, hot=True, first_name="Urgent")
    alert = AlertFactory(lead=lead, agent=agent)
    page = client.get(reverse("leads:today")).content.decode()
    assert page.index('id="alerts"') < page.index('id="hot-queue"')
    assert "Urgent" in page[page.index('id="alerts"') : page.index('id="hot-queue"')]
    response = client.post(
        reverse("alerts:acknowledge", args=[alert.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert "lead-changed" in response["HX-Trigger"]
    section = client.get(reverse("leads:today-section", args=["alerts"])).content.decode()
    assert "Urgent" not in section


def test_today_alerts_run_a_bounded_number_of_queries(client, agent, django_assert_max_num_queries):
    for _ in range(15):
        AlertFactory(lead=LeadFactory(owner=agent, hot=True), agent=agent)
    with django_assert_max_num_queries(6):
        client.get(reverse("leads:today-section", args=["alerts"]))


def test_an_offered_lead_opens_with_a_claim_button_and_claiming_makes_it_yours(client, agent):
    lead = LeadFactory(owner=None, hot=True, first_name="Offered")
    ClaimOfferFactory(lead=lead, agent=agent)
    offer = AlertFactory(lead=lead, agent=agent, reason=Alert.Reason.CLAIM)
    response = client.get(reverse("alerts:open", args=[offer.pk]))
    assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Claim this lead" in page
    offer.refresh_from_db()
    assert offer.closed_at is None  # opening an offer is not claiming it
    response = client.post(reverse("alerts:claim", args=[offer.pk]))
    assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])
    lead.refresh_from_db()
    assert lead.owner == agent

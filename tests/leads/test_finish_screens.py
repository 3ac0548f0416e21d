"""What a paying broker notices on the screens: every answer a prospect gave on the lead page, no
internal keys, US English, human durations and linked names on the alerts page, money as money,
each error message once."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Channel, Lead, LeadEvent
from sequences.models import Task
from tests.factories import AlertFactory, LeadFactory, TaskFactory
from tests.helpers import post_intake

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def visible_text(html: str) -> str:
    """The words a person sees: no tags, attributes, scripts or styles."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return " ".join(unescape(re.sub(r"(?s)<[^>]+>", " ", html)).split())


def lead_page(client, lead) -> str:
    response = client.get(reverse("leads:lead-detail", args=[lead.pk]))
    assert response.status_code == 200
    return visible_text(response.content.decode())


def test_every_answer_the_prospect_gave_is_on_the_lead_page(agent, client):
    lead = LeadFactory(
        owner=agent,
        source=Lead.Source.WEBSITE,
        timeline=Lead.Timeline.MONTHS_3_TO_6,
        property_address="48 Harbor View Drive",
        postal_code="01108",
        bedrooms=3,
        bathrooms=Decimal("2.5"),
        open_house="Sunday 1-3pm, 48 Harbor View Drive",
        inquiry_type=Lead.InquiryType.NEIGHBOURHOOD,
        message="Is Forest Park walkable?\nWe have two kids and a dog.",
        asked_for_showing=True,
        neighbourhood="Forest Park",
    )
    text = lead_page(client, lead)
    for label, value in [
        ("Moving", "3 to 6 months"),
        ("Property address", "48 Harbor View Drive"),
        ("ZIP code", "01108"),
        ("Bedrooms", "3"),
        ("Bathrooms", "2.5"),
        ("Open house", "Sunday 1-3pm, 48 Harbor View Drive"),
        ("Asked about", "A neighborhood"),
        ("Message", "Is Forest Park walkable? We have two kids and a dog."),
        ("Showing", "Asked to see the home"),
        ("Neighborhood", "Forest Park"),
    ]:
        assert f"{label} {value}" in text, label


def test_answers_not_given_are_not_listed(agent, client):
    lead = LeadFactory(owner=agent, bedrooms=None, bathrooms=Decimal("2.0"), message="")
    html = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert 'data-answer="Bedrooms"' not in html and 'data-answer="Message"' not in html
    assert 'data-answer="Bathrooms">2<' in html  # not "2.0"


def test_no_internal_key_shows_on_a_new_leads_page(client, broker_client):
    post_intake(client, "valuation", timeline="within_3_months")
    lead = Lead.objects.get()
    assert lead.nurture_track.key == "hot_seller"
    created = lead.events.get(kind=LeadEvent.Kind.CREATED)
    assert "Hot seller" in created.summary and "hot_seller" not in created.summary
    text = lead_page(broker_client, lead)
    assert "Hot seller" in text
    keys = set(re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", text))
    assert keys == set(), keys  # hot_seller, within_3_months, listing_ad, personal_call …


def test_us_english_on_the_forms_and_the_dashboard(client, agent):
    website = visible_text(client.get(reverse("leads:intake", args=["website"])).content.decode())
    assert "A neighborhood" in website and "neighborhoods we know" in website
    LeadFactory(owner=agent, neighbourhood="Old Hill")
    listing = visible_text(client.get(reverse("leads:lead-list")).content.decode())
    assert "Neighborhood" in listing
    for text in (website, listing):
        assert "neighbour" not in text.lower()
    assert str(Lead._meta.get_field("neighbourhood").verbose_name) == "neighborhood"
    assert Task.Status.CANCELLED.label == "Canceled"


def test_the_alerts_page_says_how_long_in_words_and_links_each_lead(broker_client, alex):
    now = timezone.now()
    lead = LeadFactory(owner=alex, first_name="Dana", last_name="Whitfield")
    Lead.objects.filter(pk=lead.pk).update(first_personal_contact_at=now - timedelta(minutes=51))
    AlertFactory(
        lead=lead,
        agent=alex,
        created_at=now - timedelta(hours=1),
        acknowledged_at=now - timedelta(minutes=56),
        closed_at=now - timedelta(minutes=56),
    )
    html = broker_client.get(reverse("alerts:inbox")).content.decode()
    assert f'<a href="{reverse("leads:lead-detail", args=[lead.pk])}">Dana Whitfield</a>' in html
    text = visible_text(html)
    assert "Alex Rivera 4 min 9 min" in text
    assert "0:04:00" not in text and "0:09:00" not in text


def test_a_listing_price_from_a_channel_shows_as_money(agent, client):
    lead = LeadFactory(
        owner=agent,
        channel=Channel.API,
        attribution={"system": "IDX", "property": {"price": 450000.0, "mlsNumber": "73012345"}},
    )
    text = lead_page(client, lead)
    assert "$450,000" in text and "450000.0" not in text


def test_a_form_level_error_is_said_once_at_the_top(client):
    response = post_intake(client, "giveaway", email="", phone="")
    html = response.content.decode()
    assert html.count("Please give us an email address or a phone number") == 1
    assert html.index("Please give us an email address") < html.index('name="first_name"')


def test_a_field_error_is_said_once_under_its_field(client):
    response = post_intake(client, "giveaway", email="not-an-address")
    html = response.content.decode()
    assert html.count("Please enter a valid email address") == 1
    assert "Please check the highlighted fields below." in html


def test_a_task_error_is_said_once_under_the_task(agent, client):
    lead = LeadFactory(owner=agent)
    task = TaskFactory(lead=lead, status=Task.Status.DONE, done_at=timezone.now())
    response = client.post(
        reverse("leads:task-snooze", args=[lead.pk, task.pk]),
        {"until": "1h"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="lead",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert html.count("This task is already closed.") == 1
    assert 'data-testid="task-error">This task is already closed.' in html

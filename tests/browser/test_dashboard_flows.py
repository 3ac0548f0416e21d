"""The flows an agent clicks through, in a real browser. Kept few: each one is a whole journey.

UPDATE_SCREENSHOTS=1 also saves the screenshots docs/ and README.md show.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from leads.models import Lead
from leads.routing import lead_route, lead_segment
from leads.services import lead_log_contact
from tests.factories import PASSWORD, AgentFactory, LeadFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DOCS = Path(__file__).resolve().parents[2] / "docs"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"

PEOPLE = [
    # first, last, source, timeline, side, address, minutes ago
    ("Maya", "Okafor", "valuation", "within_3_months", "seller", "48 Harbor View Drive", 95),
    ("Liam", "Kowalski", "listing_ad", "3_to_6_months", "buyer", "12 Chestnut Lane", 31),
    ("Sofia", "García", "giveaway", "within_3_months", "unknown", "", 9),
    ("Noah", "Patel", "open_house", "6_to_18_months", "buyer", "7 Mill Pond Way", 60 * 26),
    ("Emma", "Lefebvre", "website", "just_curious", "unknown", "", 60 * 50),
    (
        "Kenji",
        "Haddad",
        "reactivation",
        "6_to_18_months",
        "seller",
        "230 Summit Avenue",
        60 * 24 * 9,
    ),
]


def shoot(page, name):
    if UPDATE_SCREENSHOTS:
        page.screenshot(path=str(DOCS / name), full_page=False)


@pytest.fixture
def agent():
    return AgentFactory(
        user__username="alex", user__first_name="Alex", user__last_name="Rivera"
    ).user


@pytest.fixture
def leads(agent):
    now = timezone.now()
    made = {}
    for index, (first, last, source, timeline, side, address, ago) in enumerate(PEOPLE):
        lead = LeadFactory(
            owner=agent,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}@example.com",
            phone=f"+1413555{index:04d}",
            source=source,
            timeline=timeline,
            side=side,
            property_address=address,
            neighbourhood="Forest Park" if index % 2 else "Old Hill",
            created_at=now - timedelta(minutes=ago),
            sms_consent_at=now - timedelta(minutes=ago),
        )
        made[first] = lead_route(lead, lead_segment(lead), is_new=True)
    lead_log_contact(made["Kenji"], channel="call", actor=agent, note="Wants to list in spring")
    return made


def sign_in(page, base_url, username="alex"):
    page.goto(f"{base_url}/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def hot_queue_names(page) -> list[str]:
    return page.locator("#hot-queue [data-lead] a.fw-semibold").all_inner_texts()


def test_an_agent_calls_the_oldest_hot_lead_and_it_leaves_the_queue(page, live_server, leads):
    sign_in(page, live_server.url)
    assert hot_queue_names(page) == ["Maya Okafor", "Liam Kowalski", "Sofia García"]
    assert "waiting 1 h 35 min" in page.locator("#hot-queue [data-lead]").first.inner_text()
    shoot(page, "screenshot-today.png")

    page.click("text=Maya Okafor")
    page.wait_for_selector("#lead")
    assert "Said they are moving: within 3 months" in page.inner_text("#why-card")
    page.fill("#id_log_note", "Booked a valuation visit for Thursday")
    page.click("button[value=call]")
    page.wait_for_selector("[data-testid=notice]")
    assert page.inner_text("[data-testid=notice]") == "Call logged."
    assert "Call: Booked a valuation visit for Thursday" in page.inner_text("#timeline")
    shoot(page, "screenshot-lead.png")

    page.click("nav >> text=Today")
    assert hot_queue_names(page) == ["Liam Kowalski", "Sofia García"]
    # A quick log from Today: the row goes without a page load (htmx refreshes the section).
    page.locator("#hot-queue [data-lead]").first.locator("button[value=call]").click()
    page.wait_for_function("document.querySelectorAll('#hot-queue [data-lead]').length === 1")
    assert hot_queue_names(page) == ["Sofia García"]
    assert Lead.objects.get(pk=leads["Liam"].pk).first_personal_contact_at is not None


def test_an_agent_filters_the_list_and_saves_it_as_a_smart_list(page, live_server, leads):
    sign_in(page, live_server.url)
    page.click("nav >> text=Leads")
    assert page.inner_text("[data-testid=result-count]") == "6 leads"
    page.select_option("#id_intent", "hot")
    page.check("#id_never_contacted")
    page.click("#filter-form button[type=submit]")
    page.wait_for_url("**/leads/?*intent=hot*")
    assert page.inner_text("[data-testid=result-count]") == "3 leads"
    page.fill("#id_save_name", "Hot, nobody called yet")
    page.click("#save-filter button[type=submit]")
    page.wait_for_selector("h1:text('Hot, nobody called yet')")
    assert "Hot, nobody called yet" in page.inner_text("#smart-lists")
    shoot(page, "screenshot-leads.png")
    page.click("nav >> text=Today")
    assert "Hot, nobody called yet" in page.inner_text("#my-lists")


def test_the_dashboard_works_on_a_phone(phone_page, live_server, leads):
    page = phone_page
    sign_in(page, live_server.url)
    no_sideways_scroll = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_sideways_scroll)
    assert hot_queue_names(page)[0] == "Maya Okafor"
    page.click("button.navbar-toggler")
    page.click("nav >> text=Leads")
    page.wait_for_selector("[data-testid=result-count]")
    assert page.evaluate(no_sideways_scroll)
    page.click("text=Sofia García")
    page.click("button[value=sms]")
    page.wait_for_selector("[data-testid=notice]")
    assert page.evaluate(no_sideways_scroll)
    assert Lead.objects.get(pk=leads["Sofia"].pk).last_personal_contact_at is not None

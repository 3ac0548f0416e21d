"""The screens fit: at phone width (390 px) Today, the leads list and a lead scroll only up and
down, every column of the list is there (stacked), taps land on targets of 44 px; at 1280 px the
lead table and the report show every column without a scrollbar. And a closed toast stays closed.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alerts.models import Alert
from leads.models import Lead
from leads.routing import lead_segment
from realtycrm.flows.routing import lead_route
from tests.factories import LeadFactory

from .test_dashboard_flows import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"
# Every visible button, link-button and pager link on the page shorter than 44 px.
SMALL_TARGETS = """() => [...document.querySelectorAll('main .btn, main .page-link, nav .navbar-toggler')]
  .filter(el => el.offsetParent !== null)
  .map(el => [el.textContent.trim(), el.getBoundingClientRect().height])
  .filter(([, height]) => height < 44)"""
LONG_LINK = (
    "https://www.zillow.com/homedetails/48-Harbor-View-Dr-Springfield-MA-01108/"
    "123456789_zpid/?utm_source=copy_and_paste_from_the_portal_without_a_single_space"
)


@pytest.fixture
def leads(alex, sam):
    now = timezone.now()
    made = []
    for index, (first, last, source, timeline, owner) in enumerate(
        [
            ("Maya", "Okafor", "valuation", "within_3_months", alex),
            ("Liam", "Kowalski", "listing_ad", "3_to_6_months", alex),
            ("Bartholomew", "Featherstonehaugh-Worthington", "website", "6_to_18_months", alex),
            ("Noah", "Patel", "open_house", "just_curious", sam),
        ]
    ):
        lead = LeadFactory(
            owner=owner,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}.with.a.very.long.address@example.com",
            phone=f"+1413555{index:04d}",
            source=source,
            timeline=timeline,
            property_address="48 Harbor View Drive",
            postal_code="01108",
            bedrooms=3,
            bathrooms=Decimal("2.5"),
            neighbourhood="Forest Park",
            message=f"Saw it here: {LONG_LINK}",
            origin="Meta · Harbor & Main Realty · Home valuation form",
            created_at=now - timedelta(minutes=10 + 60 * index),
            sms_consent_at=now,
        )
        made.append(lead_route(lead, lead_segment(lead), is_new=True))
    return made


def test_today_the_leads_list_and_a_lead_fit_a_phone(phone_page, live_server, leads):
    page = phone_page
    sign_in(page, live_server.url)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.locator("#hot-queue").get_by_text("Maya Okafor").is_visible()
    assert page.evaluate(SMALL_TARGETS) == []

    page.goto(f"{live_server.url}/leads/")
    page.wait_for_selector("[data-testid=result-count]")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    row = page.locator("tr[data-lead]").first
    # Every column is there, each cell labelled (the header row's words, on the cell).
    cells = row.locator("td")
    labels = [
        cells.nth(index).evaluate("td => getComputedStyle(td, '::before').content")
        for index in range(cells.count())
    ]
    assert labels == [
        "none",  # the selection's checkbox, beside the name (bulk actions)
        "none",  # the name leads the card
        '"Intent"',
        '"Source"',
        '"Timeline"',
        '"Stage"',
        '"Last contact"',
        '"Created"',
    ]
    for index in range(cells.count()):
        box = cells.nth(index).bounding_box()
        assert cells.nth(index).is_visible() and box["x"] + box["width"] <= 390, index
    assert "Meta · Harbor & Main Realty · Home valuation form" in row.inner_text()
    assert page.evaluate(SMALL_TARGETS) == []

    page.locator("#results").get_by_role(
        "link", name="Bartholomew Featherstonehaugh-Worthington"
    ).click()
    page.wait_for_selector("#contact-card")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    card = page.locator("#contact-card")
    for answer in ("Bedrooms", "Bathrooms", "ZIP code", "Message", "Neighborhood"):
        assert card.locator(f"[data-answer='{answer}']").is_visible(), answer
    message = card.locator("[data-answer='Message']")
    assert message.evaluate("dd => dd.scrollWidth <= dd.clientWidth")  # the long link wraps
    assert page.evaluate(SMALL_TARGETS) == []


def test_the_lead_table_and_the_report_fit_1280_pixels(page, live_server, leads, broker):
    sign_in(page, live_server.url, username=broker.username)
    page.goto(f"{live_server.url}/leads/")
    page.wait_for_selector("[data-testid=result-count]")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    table = page.locator("#results .table-responsive")
    assert table.evaluate("box => box.scrollWidth <= box.clientWidth")
    headers = page.locator("#results thead th")
    names = [headers.nth(index).inner_text().strip(" ▲▼") for index in range(headers.count())]
    assert names == [
        "",  # the selection's checkbox (bulk actions)
        "Name",
        "Intent",
        "Source",
        "Timeline",
        "Stage",
        "Owner",
        "Last contact",
        "Created",
    ]
    for index in range(headers.count()):
        box = headers.nth(index).bounding_box()
        assert headers.nth(index).is_visible() and box["x"] + box["width"] <= 1280, names[index]

    page.goto(f"{live_server.url}/reports/")
    page.wait_for_selector("table.report")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.evaluate(
        "() => [...document.querySelectorAll('.report-table .table-responsive')]"
        ".every(box => box.scrollWidth <= box.clientWidth)"
    )


def test_the_sms_consent_box_is_a_thumb_sized_target(phone_page, live_server):
    page = phone_page
    page.goto(f"{live_server.url}/intake/valuation/")
    consent = page.locator("#div_id_sms_consent")
    label = consent.locator("label")
    box = page.locator("#id_sms_consent").bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    assert label.bounding_box()["height"] >= 44
    label.click(position={"x": 40, "y": 10})  # the label's words tick it, like the box
    assert page.locator("#id_sms_consent").is_checked()
    radios = page.locator(".form-check:has(input[name=timeline])")
    for index in range(radios.count()):
        assert radios.nth(index).bounding_box()["height"] >= 44
    assert page.evaluate(NO_SIDEWAYS_SCROLL)


def test_a_closed_toast_stays_closed_in_this_tab_and_the_next(
    browser, live_server, settings, leads, alex
):
    settings.ALERT_POLL_SECONDS = 1
    lead = Lead.objects.get(first_name="Maya")
    Alert.objects.all().delete()  # only this one open
    Alert.objects.create(lead=lead, agent=alex, reason=Alert.Reason.HOT_LEAD)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url)
    toast = page.locator("#alert-toasts .toast", has_text="Maya Okafor")
    toast.wait_for(state="visible", timeout=8_000)
    toast.locator(".btn-close").click()
    assert toast.count() == 0

    page.reload()
    page.wait_for_timeout(2_500)  # two polls
    assert page.locator("#alert-toasts .toast").count() == 0
    other = context.new_page()  # a new tab: its own sessionStorage, the same browser
    other.goto(f"{live_server.url}/leads/")
    other.wait_for_timeout(2_500)
    assert other.locator("#alert-toasts .toast").count() == 0
    assert other.locator("#alert-badge").inner_text() == "1"  # the alert itself is still open
    context.close()

"""The flows an agent clicks through, in a real browser. Kept few: each one is a whole journey.

UPDATE_SCREENSHOTS=1 also saves the screenshots docs/ and README.md show (from the demo data), at
1280 px and at a phone's 390 px (the *-phone.png ones).
"""

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from alerts.models import Alert
from leads.management.commands.seed_demo import DEMO_PASSWORD
from leads.models import Lead
from leads.routing import lead_segment
from realtycrm.flows.contacts import contact_log
from realtycrm.flows.inbound import text_receive
from realtycrm.flows.routing import lead_route
from sequences.models import Message, Task
from sequences.outbox import sms_allowed_from
from sequences.selectors import enrollment_for_display
from tests.factories import PASSWORD, LeadFactory

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
def leads(alex):
    now = timezone.now()
    made = {}
    for index, (first, last, source, timeline, side, address, ago) in enumerate(PEOPLE):
        lead = LeadFactory(
            owner=alex,
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
    contact_log(made["Kenji"], channel="call", actor=alex, note="Wants to list in spring")
    return made


def sign_in(page, base_url, username="alex", password=PASSWORD):
    page.goto(f"{base_url}/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def hot_queue_names(page) -> list[str]:
    return page.locator("#hot-queue [data-lead] a.fw-semibold").all_inner_texts()


def test_an_agent_calls_the_oldest_hot_lead_and_it_leaves_the_queue(page, live_server, leads):
    sign_in(page, live_server.url)
    assert hot_queue_names(page) == ["Maya Okafor", "Liam Kowalski", "Sofia García"]
    assert "waiting 1 h 35 min" in page.locator("#hot-queue [data-lead]").first.inner_text()

    page.click("text=Maya Okafor")
    page.wait_for_selector("#lead")
    assert "Said they are moving: within 3 months" in page.inner_text("#why-card")
    page.fill("#id_log_note", "Booked a valuation visit for Thursday")
    page.click("button[value=call]")
    page.wait_for_selector("[data-testid=notice]")
    assert page.inner_text("[data-testid=notice]") == "Call logged."
    assert "Call: Booked a valuation visit for Thursday" in page.inner_text("#timeline")

    page.click("nav >> text=Today")
    assert hot_queue_names(page) == ["Liam Kowalski", "Sofia García"]
    # A quick log from Today: the row goes without a page load (htmx refreshes the section).
    page.locator("#hot-queue [data-lead]").first.locator("button[value=call]").click()
    # A function, not an expression: Playwright evaluates a bare expression with eval(), which
    # the dashboard's CSP refuses.
    page.wait_for_function("() => document.querySelectorAll('#hot-queue [data-lead]').length === 1")
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


def test_an_agent_texts_a_lead_from_its_page_and_sees_it_in_the_messages_panel(
    page, live_server, leads
):
    lead = leads["Liam"]
    sign_in(page, live_server.url)
    page.click("#hot-queue >> text=Liam Kowalski")
    page.wait_for_selector("#one-off-sms-form")
    page.fill("#id_sms_body", "Hi Liam, it's Alex. Still keen on 12 Chestnut Lane?")
    page.click("#one-off-sms-form button[type=submit]")
    page.wait_for_selector("[data-testid=notice]")
    newest = page.locator("#messages .message-row").first
    assert "Still keen on 12 Chestnut Lane?" in newest.inner_text()
    assert "One-off from an agent · Alex Rivera" in newest.inner_text()
    # The worker (synchronous here) sends it at once, unless it is night where Liam lives.
    held = sms_allowed_from(lead.phone, timezone.now()) > timezone.now()
    page.wait_for_function(
        "s => document.querySelector('#messages .message-row').dataset.status === s",
        arg="queued" if held else "sent",
    )
    message = Message.objects.get(lead=lead, purpose=Message.Purpose.ONE_OFF)
    assert message.body.startswith("Hi Liam, it's Alex. Still keen on 12 Chestnut Lane?")
    assert page.input_value("#id_sms_body") == ""  # a fresh form for the next one


def test_the_demo_data_shows_tasks_replies_and_messages(browser, live_server):
    """The demo (seed_demo: enrolments, sent messages, open and overdue tasks) through the
    screens; with UPDATE_SCREENSHOTS=1 these are the screenshots in docs/."""
    call_command("seed_demo", leads=150, stdout=io.StringIO())
    alex = Lead.objects.filter(owner__username="alex")
    texter = alex.filter(sms_consent_at__isnull=False, stage="contacted").order_by("-created_at")[0]
    text_receive(from_number=texter.phone, body="Yes! Could we talk Thursday after 5?")
    context = browser.new_context(viewport={"width": 1280, "height": 1400}, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, password=DEMO_PASSWORD)

    assert page.locator("#tasks [data-task]").count() > 0
    assert "Yes! Could we talk Thursday after 5?" in page.inner_text("#replies")
    shoot(page, "screenshot-today.png")

    page.click("nav >> text=Leads")
    page.wait_for_selector("[data-testid=result-count]")
    shoot(page, "screenshot-leads.png")

    # A lead with a task to do and the answers a valuation form asks (bedrooms, bathrooms).
    open_tasks = Task.objects.filter(lead__in=alex, status=Task.Status.OPEN).order_by("due_at")
    open_task = open_tasks.filter(lead__bedrooms__isnull=False).first() or open_tasks[0]
    page.goto(f"{live_server.url}/leads/{open_task.lead_id}/")
    assert open_task.title in page.inner_text("#tasks")
    assert page.locator("#messages .message-row").count() > 0
    enrollment = enrollment_for_display(open_task.lead)
    automation = page.inner_text("#automation-card")
    assert str(enrollment.track) in automation and enrollment.get_status_display() in automation
    shoot(page, "screenshot-lead.png")

    page.goto(f"{live_server.url}/reports/")
    page.wait_for_selector("table.report")
    shoot(page, "reports-screenshot.png")
    context.close()

    # A phone: the same screens at 390 px, and the hot lead that arrived minutes ago interrupting
    # its owner (Today's alerts and the toast).
    alert = Alert.objects.filter(closed_at=None, reason=Alert.Reason.HOT_LEAD)
    alert = alert.select_related("agent", "lead").get()
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    sign_in(page, live_server.url, password=DEMO_PASSWORD)
    shoot(page, "screenshot-today-phone.png")
    page.goto(f"{live_server.url}/leads/")
    page.wait_for_selector("[data-testid=result-count]")
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    shoot(page, "screenshot-leads-phone.png")
    page.goto(f"{live_server.url}/leads/{open_task.lead_id}/")
    page.locator("#contact-card").scroll_into_view_if_needed()
    shoot(page, "screenshot-lead-phone.png")
    phone.close()
    for size, name in (
        ({"width": 1280, "height": 900}, "screenshot-alert.png"),
        ({"width": 390, "height": 844}, "screenshot-alert-phone.png"),
    ):
        context = browser.new_context(viewport=size, locale="en-US", is_mobile=size["width"] < 500)
        page = context.new_page()
        sign_in(page, live_server.url, username=alert.agent.username, password=DEMO_PASSWORD)
        page.locator("#alert-toasts .toast", has_text=str(alert.lead)).wait_for(timeout=8_000)
        assert str(alert.lead) in page.inner_text("#alerts")
        shoot(page, name)
        context.close()


def test_every_dashboard_page_runs_under_its_csp_without_a_console_error(page, live_server, leads):
    """The CSP refuses inline scripts and styles; nothing on these pages needs them."""
    errors = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    sign_in(page, live_server.url)
    lead = leads["Maya"]
    for path in (
        "/",
        "/leads/",
        f"/leads/{lead.pk}/",
        "/alerts/",
        "/alerts/availability/",
        "/reports/",
    ):
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "private, no-store"
        page.wait_for_load_state("networkidle")
    # The pages' scripts ran: the collapsible filters and the alert badge's feed work.
    page.goto(live_server.url + "/leads/")
    assert errors == []

"""Where leads come from, in a real browser, on the demo data: the integrations screen a broker
connects sources on, a Meta lead's page naming its campaign and ad, and an email the inbox
received that nobody could read, one form away from a lead.

UPDATE_SCREENSHOTS=1 also saves docs/screenshot-integrations.png and docs/screenshot-inbox.png
(docs/channels.md shows them).
"""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from leads.management.commands.seed_demo import DEMO_PASSWORD
from leads.models import Channel, Integration, Lead, Submission
from tests.integrations.email_helpers import eml, post_email, raw_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DOCS = Path(__file__).resolve().parents[2] / "docs"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_a_broker_sees_the_demo_integrations_and_a_meta_leads_campaign(browser, live_server):
    call_command("seed_demo", leads=120, stdout=io.StringIO())
    context = browser.new_context(viewport={"width": 1280, "height": 500}, locale="en-US")
    # The admin's navigation sidebar closed, as a broker who closed it once sees it: the
    # integrations' columns get the width.
    context.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server.url, "broker")

    page.goto(f"{live_server.url}/admin/leads/integration/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == Integration.objects.count() == 4
    listed = page.inner_text("#result_list")
    for text in ("harborandmain.com IDX site", "Zillow inbox", "Realtor.com inbox", "Meta"):
        assert text in listed
    assert "Alex Rivera" in listed  # the Zillow inbox's default owner, by name
    if UPDATE_SCREENSHOTS:
        page.screenshot(path=str(DOCS / "screenshot-integrations.png"), full_page=False)

    meta = Lead.objects.filter(channel=Channel.META).order_by("-created_at").first()
    page.goto(f"{live_server.url}/leads/{meta.pk}/")
    why = page.inner_text("#why-card").casefold()  # headings are shown in capitals
    assert "channel: meta lead ads" in why and meta.origin.casefold() in why
    assert meta.attribution["ad_name"].casefold() in why

    page.goto(f"{live_server.url}/leads/?origin=Zillow")
    page.wait_for_selector("[data-testid=result-count]")
    origins = set(page.locator("#results [data-testid=origin]").all_inner_texts())
    assert origins == {"Zillow"}
    context.close()
    assert errors == []


# The brokerage's general address (on its yard signs), which no integration names: an email to
# it is still read, and one nobody can parse waits for a broker like any other.
SIGN_ADDRESS = b"leads@leads.harborandmain.com"


def test_a_broker_finds_an_email_nobody_could_read_and_its_make_a_lead_form(page, live_server):
    call_command("seed_demo", leads=120, stdout=io.StringIO())
    message = eml("unparsed_personal.eml").replace(
        b"leads@inbox.harborandmain.example", SIGN_ADDRESS
    )
    answer = post_email(Client(), raw_post(message, envelope_to=[SIGN_ADDRESS.decode()]))
    assert answer.json()["status"] == "unparsed"
    sign_in(page, live_server.url, "broker")

    assert page.inner_text("[data-testid=inbound-emails-count]") == "1"
    page.click("text=Read and make leads")
    page.wait_for_url(f"{live_server.url}/integrations/inbox/")
    assert page.inner_text("[data-testid=inbox-count]") == "1"
    row = page.locator(".inbox-row")
    assert row.count() == 1
    listed = row.inner_text()
    for text in ("Saw your sign on Maple Ave", "dana.kim@example.com", "No lead found"):
        assert text in listed

    row.locator("text=Make a lead from this").click()
    submission = Submission.objects.get(channel=Channel.EMAIL, status=Submission.Status.REJECTED)
    page.wait_for_url(f"{live_server.url}/integrations/inbox/{submission.pk}/")
    assert "Could someone call me about it?" in page.inner_text("[data-testid=inbox-body]")
    assert "No lead found in this email" in page.inner_text("[data-testid=inbox-why]")
    assert page.input_value("#id_first_name") == "Dana"
    assert page.input_value("#id_last_name") == "Kim"
    assert page.input_value("#id_email") == "dana.kim@example.com"
    assert page.input_value("#id_phone") == "(413) 555-0119"
    assert page.input_value("#id_source") == "website"
    assert page.get_by_role("button", name="Make the lead").is_visible()
    assert page.get_by_role("button", name="Not a lead: dismiss").is_visible()
    if UPDATE_SCREENSHOTS:
        page.screenshot(path=str(DOCS / "screenshot-inbox.png"), full_page=True)
    assert not Lead.objects.filter(email="dana.kim@example.com").exists()

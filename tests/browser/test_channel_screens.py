"""Where leads come from, in a real browser, on the demo data: the integrations screen a broker
connects sources on, and a Meta lead's page naming its campaign and ad.

UPDATE_SCREENSHOTS=1 also saves docs/screenshot-integrations.png (docs/channels.md shows it).
"""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from leads.management.commands.seed_demo import DEMO_PASSWORD
from leads.models import Channel, Integration, Lead

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

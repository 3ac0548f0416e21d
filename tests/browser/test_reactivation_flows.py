"""A broker's reactivation campaign, start to finish, in a real browser: the smart list and its
count, the preview for a real contact, send; then the contact follows the link in the email,
finds the form filled in, says they move within 3 months, and is a hot lead of their agent.

UPDATE_SCREENSHOTS=1 also saves the screenshots docs/reactivation.md shows.
"""

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from alerts.models import Alert
from leads.models import Lead
from sequences.models import CampaignRecipient
from tests.factories import PASSWORD
from tests.reactivation import dormant_contact

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DOCS = Path(__file__).resolve().parents[2] / "docs"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"


def shoot(page, name):
    if UPDATE_SCREENSHOTS:
        page.screenshot(path=str(DOCS / name), full_page=True)


@pytest.fixture
def old_database(alex, sam, settings):
    """Alex's and Sam's past clients, imported: three tagged "pool", one of them Dana."""
    settings.SMS_SENDING_HOURS = "00:00-24:00"  # whenever the test runs
    settings.SMS_SENDING_HOURS_BY_STATE = ""
    dana = dormant_contact(
        owner=alex,
        first_name="Dana",
        last_name="Whitfield",
        email="dana@example.com",
        phone="+14135550142",
        texting=True,
        tags=["pool"],
    )
    dormant_contact(owner=alex, first_name="Omar", last_name="Reyes", tags=["pool"])
    dormant_contact(owner=sam, first_name="Ines", last_name="Moreau", tags=["pool"])
    dormant_contact(owner=sam, first_name="Theo", last_name="Grant", tags=["vip"])
    return dana


def sign_in(page, base_url, username, password=PASSWORD):
    page.goto(f"{base_url}/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_a_campaign_reaches_a_contact_who_re_engages_as_a_hot_lead(
    page, browser, live_server, broker, alex, old_database
):
    dana = old_database
    base = live_server.url
    sign_in(page, base, "morgan")

    # The smart list, counted as it is narrowed.
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    page.fill("#id_name", "Spring check-in")
    count = page.get_by_test_id("audience-count")
    assert "4 dormant contacts match" in count.inner_text()
    page.select_option("#id_tags", label="pool")
    expect(page.get_by_test_id("audience-count")).to_contain_text("3 dormant contacts match")
    page.select_option("#id_owner", label="Alex Rivera")
    expect(page.get_by_test_id("audience-count")).to_contain_text("2 dormant contacts match")
    shoot(page, "reactivation-new.png")
    page.get_by_role("button", name="Save and preview").click()

    # The preview, for a real contact of the list.
    preview = page.get_by_test_id("preview")
    assert "It's been a while, Dana" in page.get_by_test_id("preview-subject").inner_text()
    assert "Unsubscribe with one click" in page.get_by_test_id("preview-email").inner_text()
    assert "Tell me here:" in page.get_by_test_id("preview-sms").inner_text()
    assert preview.is_visible()
    shoot(page, "reactivation-preview.png")
    page.get_by_role("button", name="Send to 2 contacts").click()
    assert "Sending “Spring check-in” to 2 contacts." in page.content()
    assert page.locator("#campaign-progress").get_attribute("data-status") == "sent"

    # Dana opens the email's personal link: the form knows her.
    email = next(message for message in mail.outbox if message.to == ["dana@example.com"])
    link = re.search(r"http://testserver(/intake/reactivation/\?r=\S+)", email.body).group(1)
    contact = browser.new_context(locale="en-US", viewport={"width": 600, "height": 1000})
    form = contact.new_page()
    form.goto(f"{base}{link}")
    assert form.input_value("#id_first_name") == "Dana"
    assert form.input_value("#id_email") == "dana@example.com"
    assert form.input_value("#id_phone") == "(413) 555-0142"
    form.check("input[name=side][value=seller]")
    form.fill("#id_message", "The kids have moved out: we want something smaller.")
    form.check("input[name=timeline][value=within_3_months]")
    shoot(form, "reactivation-form.png")
    form.get_by_role("button", name="Update my details").click()
    form.wait_for_url(f"{base}/intake/reactivation/thanks/")
    contact.close()

    # She is a hot lead of Alex's again, and the campaign's report says so.
    dana = Lead.objects.get(pk=dana.pk)
    assert (dana.dormant, dana.intent, dana.owner, dana.nurture_track.key) == (
        False,
        "hot",
        alex,
        "reactivation",
    )
    assert Alert.objects.filter(lead=dana, agent=alex, reason="hot_lead").exists()
    assert CampaignRecipient.objects.get(lead=dana).reengaged_at is not None
    page.reload()
    total = page.get_by_test_id("campaign-report").locator("tr.total")
    assert total.locator("[data-figure=reengaged]").inner_text().startswith("1")
    assert total.locator("[data-figure=hot]").inner_text().startswith("1")
    assert total.locator("[data-figure=clicked]").inner_text().startswith("1")
    shoot(page, "reactivation-report.png")

    page.goto(f"{base}/leads/{dana.pk}/")
    assert "Re-engaged via the database reactivation form" in page.content()

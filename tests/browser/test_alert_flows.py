"""A hot lead interrupts an agent's open tab: the badge, a toast, one tap to the lead."""

import pytest

from alerts.models import Alert
from leads.models import Lead

from .test_dashboard_flows import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_prospects_hot_submission_pops_up_in_the_agents_open_tab(
    browser, page, live_server, settings, alex
):
    settings.ALERT_POLL_SECONDS = 1
    settings.INTAKE_MIN_FILL_SECONDS = 0
    sign_in(page, live_server.url)
    badge = page.locator("#alert-badge")
    assert badge.is_hidden()

    prospect = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    form = prospect.new_page()
    form.goto(f"{live_server.url}/intake/giveaway/")
    form.fill("#id_first_name", "Grace")
    form.fill("#id_last_name", "Hopper")
    form.fill("#id_phone", "(413) 555-0199")
    form.check("input[name=timeline][value=within_3_months]")
    form.click("button[type=submit]")
    form.wait_for_url("**/thanks/")
    prospect.close()

    toast = page.locator("#alert-toasts .toast", has_text="Grace Hopper")
    toast.wait_for(state="visible", timeout=8_000)
    assert "Giveaway" in toast.inner_text()
    assert toast.locator("a[href='tel:+14135550199']").count() == 1
    assert badge.inner_text() == "1"

    toast.get_by_role("link", name="Open").click()
    page.wait_for_url(f"**/leads/{Lead.objects.get().pk}/")
    assert Alert.objects.get().acknowledged_at is not None
    page.locator("#alert-badge").wait_for(state="hidden", timeout=8_000)

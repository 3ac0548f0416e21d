"""A broker opens the report in a real browser: both charts draw from the vendored Chart.js."""

import shutil

import pytest
from django.db import connections
from django.urls import reverse

from tests.factories import PASSWORD

from .conftest import END, START

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def page(live_server, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip("needs Debian's chromium")
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are the
    # test's own set-up, not async code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
        # Database calls made inside Playwright's event loop got a connection of their own:
        # close it, or dropping the test database finds it still open.
        connections.close_all()
        assert errors == []


def test_a_broker_sees_the_charts_and_the_numbers_beneath(page, live_server, month, people):
    page.goto(live_server.url + reverse("login"))
    page.fill("input[name=username]", people["broker"].username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}{reverse('reports:segment-report')}?start={START}&end={END}")

    page.wait_for_function("() => window.Chart && Chart.getChart('trend-chart')")
    weeks = page.evaluate("() => Chart.getChart('trend-chart').data.labels.length")
    assert weeks == page.locator("#table-trend tbody tr").count() == 6
    sources = page.evaluate("() => Chart.getChart('source-chart').data.labels")
    assert sources[-1] == "All sources"
    page.click("text=Reports")  # the nav link leads back to the report
    assert page.locator("h1").inner_text() == "Segment report"

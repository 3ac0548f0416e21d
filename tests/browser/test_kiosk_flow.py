"""The open-house tablet at the door (kiosk mode), in real Chromium: two visitors sign in one
after the other; the second sees an empty form (none of the first one's answers, not even by
going back), the open house is kept, and both are leads. The page runs under its strict CSP
(the page fixture fails the test on anything it refuses).

UPDATE_SCREENSHOTS=1 also saves docs/screenshot-kiosk.png (the README's kiosk paragraph).
"""

import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from tests.browser.conftest import _page_in_new_context

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EVENT = "48 Harbor View Drive, Sunday 1-3pm"
KIOSK = "/intake/open-house/?kiosk=1&event=48+Harbor+View+Drive%2C+Sunday+1-3pm"
TAP_TARGET = 44  # px, the least a finger hits reliably
TEXT_FIELDS = ("#id_first_name", "#id_last_name", "#id_email", "#id_phone")
DOCS = Path(__file__).resolve().parents[2] / "docs"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"


@pytest.fixture
def tablet(browser):
    """A tablet in portrait, touch only, as it stands on the table by the door."""
    yield from _page_in_new_context(
        browser, viewport={"width": 820, "height": 1180}, is_mobile=True, has_touch=True
    )


@pytest.fixture
def kiosk_settings(settings):
    settings.INTAKE_KIOSK_RESET_SECONDS = 2  # the live server reads the same settings
    settings.INTAKE_MIN_FILL_SECONDS = 0  # a script types faster than any visitor
    return settings


def visitor_signs_in(page, first, last, email, phone):
    page.locator("label", has_text="Looking to buy").tap()
    page.fill("#id_first_name", first)
    page.fill("#id_last_name", last)
    page.fill("#id_email", email)
    page.fill("#id_phone", phone)
    page.locator("label", has_text="Within 3 months").tap()
    page.locator("#id_sms_consent").check()
    page.get_by_role("button", name="Sign in").tap()


def assert_empty_form(page):
    for selector in TEXT_FIELDS:
        expect(page.locator(selector)).to_have_value("")
    expect(page.locator("#id_open_house")).to_have_value(EVENT)
    assert page.locator("input[type=radio]:checked").count() == 0
    expect(page.locator("#id_sms_consent")).not_to_be_checked()


def test_two_visitors_sign_in_one_after_the_other(tablet, live_server, kiosk_settings):
    page = tablet
    page.goto(f"{live_server.url}{KIOSK}")
    expect(page.locator("#id_open_house")).to_have_value(EVENT)
    # Large tap targets: the fields, each choice's whole row and the button.
    for locator in (
        page.locator("#id_first_name"),
        page.locator(".form-check", has_text="Looking to buy"),
        page.locator(".form-check", has_text="Within 3 months"),
        page.get_by_role("button", name="Sign in"),
    ):
        assert locator.bounding_box()["height"] >= TAP_TARGET
    if UPDATE_SCREENSHOTS:
        page.screenshot(path=str(DOCS / "screenshot-kiosk.png"), full_page=True)

    visitor_signs_in(page, "Ada", "Lovelace", "ada@example.com", "(413) 555-0187")
    page.get_by_text("Thanks for visiting.").wait_for()
    page.get_by_text("Ready for the next visitor in").wait_for()
    # The thank-you page goes back to the form by itself.
    page.wait_for_url(re.compile(r"/intake/open-house/\?kiosk=1&event="), timeout=8_000)
    assert_empty_form(page)
    assert "Ada" not in page.content() and "ada@example.com" not in page.content()

    # Going back to the first visitor's page shows an empty form too, never their answers.
    page.go_back()
    page.wait_for_load_state()
    assert_empty_form(page)

    visitor_signs_in(page, "Grace", "Hopper", "grace@example.com", "(413) 555-0199")
    page.get_by_text("Thanks for visiting.").wait_for()
    page.get_by_role("link", name="Next visitor").tap()  # without waiting, too
    page.wait_for_url(re.compile(r"/intake/open-house/\?kiosk=1&event="))
    assert_empty_form(page)

    leads = list(Lead.objects.order_by("id"))
    assert [(lead.first_name, lead.email, lead.open_house) for lead in leads] == [
        ("Ada", "ada@example.com", EVENT),
        ("Grace", "grace@example.com", EVENT),
    ]
    assert all(lead.side == "buyer" and lead.intent == "hot" for lead in leads)
    assert all(lead.sms_consent_at for lead in leads)


BROKERAGE_SITE_HOST = "127.0.0.2"  # another site than localhost, as the brokerage's own is


@pytest.fixture
def brokerage_site(live_server):
    """The brokerage's own page on another origin, with the kiosk framed in it."""
    page = (
        "<!doctype html><html><head><title>Open house</title></head><body>"
        f'<iframe id="kiosk" src="{live_server.url}{KIOSK}&embed=1" width="760" height="1400">'
        "</iframe></body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # http.server calls it by this name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((BROKERAGE_SITE_HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{BROKERAGE_SITE_HOST}:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_framed_kiosk_resets_for_the_next_visitor(page, brokerage_site, kiosk_settings):
    kiosk_settings.INTAKE_FRAME_ANCESTORS = [brokerage_site]
    page.goto(f"{brokerage_site}/")
    frame = page.frame_locator("#kiosk")
    frame.locator("label", has_text="Looking to buy").click()
    frame.locator("#id_first_name").fill("Ada")
    frame.locator("#id_email").fill("ada@example.com")
    frame.locator("label", has_text="Just curious").click()
    frame.get_by_role("button", name="Sign in").click()
    frame.get_by_text("Thanks for visiting.").wait_for()
    expect(frame.locator("#id_first_name")).to_have_value("", timeout=8_000)
    expect(frame.locator("#id_open_house")).to_have_value(EVENT)
    assert Lead.objects.get().first_name == "Ada"


def test_a_form_left_half_filled_empties_itself(tablet, live_server, kiosk_settings):
    kiosk_settings.INTAKE_KIOSK_IDLE_SECONDS = 2
    page = tablet
    page.goto(f"{live_server.url}{KIOSK}")
    page.fill("#id_first_name", "Walked")
    page.fill("#id_email", "walked@example.com")
    expect(page.locator("#id_first_name")).to_have_value("", timeout=8_000)
    assert_empty_form(page)
    assert not Lead.objects.exists()

"""A prospect fills a form where they find it: framed by the brokerage's own site."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from leads.models import Lead

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Another site (not just another port: 127.0.0.2 is another site than localhost), so the browser
# treats the framed form as cross-site, as it does for www.your-brokerage.com.
BROKERAGE_SITE_HOST = "127.0.0.2"


@pytest.fixture
def brokerage_site(live_server):
    """The brokerage's own page, on another origin, with the ?embed=1 form in an iframe."""
    form_url = f"{live_server.url}/intake/giveaway/?embed=1&utm_source=homepage"
    page = (
        "<!doctype html><html><head><title>Harbor &amp; Main: enter our giveaway</title></head>"
        "<body><h1>Our giveaway</h1>"
        f'<iframe id="intake" src="{form_url}" width="600" height="1100"></iframe>'
        "</body></html>"
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


def test_a_form_framed_by_the_brokerages_own_site_creates_the_lead(
    page, live_server, brokerage_site, settings
):
    settings.INTAKE_FRAME_ANCESTORS = [brokerage_site]
    page.goto(f"{brokerage_site}/")
    frame = page.frame_locator("#intake")
    frame.locator("#id_first_name").fill("Grace")
    frame.locator("#id_last_name").fill("Hopper")
    frame.locator("#id_email").fill("grace@example.com")
    frame.locator("input[name=timeline][value=just_curious]").check()
    frame.get_by_role("button", name="Enter").click()
    frame.get_by_text("You are entered.").wait_for()
    assert "Thank you" in frame.locator("body").inner_text()
    lead = Lead.objects.get()
    assert (lead.first_name, lead.source, lead.utm_source) == ("Grace", "giveaway", "homepage")
    assert lead.messages.filter(purpose="acknowledgment").exists()

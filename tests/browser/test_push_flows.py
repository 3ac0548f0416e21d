"""A hot lead reaches a subscribed page as a notification, in real Chromium.

The agent enables notifications on the availability page; a prospect's hot submission makes the
server push to the browser's endpoint; the service worker shows the notification; its Claim
button acknowledges the alert and opens the lead.

What headless Chromium cannot do here, and what stands in for it:
- `pushManager.subscribe()` needs the browser's push service (Google's, for Chromium). In an
  off-the-record context, which Playwright's are, Chromium refuses it ("AbortError: Registration
  failed - permission denied"); in a persistent profile it waits on the network forever. So the
  page's `PushManager.subscribe` is replaced by one that returns a subscription whose keys this
  test made and whose endpoint is the local fake push service: our page script, the subscribe
  endpoint and the server's encryption all run for real against it.
- The push service's delivery to Chromium is what CDP's `ServiceWorker.deliverPushMessage` does:
  it hands the service worker the payload the server encrypted for this browser (decrypted here
  with the browser's own key, as Chromium would), and the worker's real `push` handler shows it.
- A tap on a notification cannot be made headless (there is no notification UI): the worker's
  own click handler is called in the worker, as the tap would, with the shown notification.
"""

import base64
import json

import pytest
from django.urls import resolve

from alerts.calls import call_link_alert
from alerts.models import Alert, PushSubscription
from leads.models import Lead
from tests.factories import AssignmentRuleFactory
from tests.push import FakePushService, new_browser, push_on

from .test_dashboard_flows import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# The page's PushManager, as the real one would answer with a push service behind it.
FAKE_PUSH_MANAGER = """
(() => {
  const fake = %s;
  const kept = "test.push.subscribed";  // a browser keeps its subscription across pages
  function subscription(key) {
    return {
      endpoint: fake.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: key },
      toJSON: () => fake,
      unsubscribe: async () => { localStorage.removeItem(kept); return true; },
    };
  }
  PushManager.prototype.subscribe = async function (options) {
    const key = Array.from(new Uint8Array(options.applicationServerKey));
    localStorage.setItem(kept, JSON.stringify(key));
    return subscription(new Uint8Array(key).buffer);
  };
  PushManager.prototype.getSubscription = async function () {
    const key = localStorage.getItem(kept);
    return key ? subscription(new Uint8Array(JSON.parse(key)).buffer) : null;
  };
})();
"""

NOTIFICATIONS = """
async () => {
  const registration = await navigator.serviceWorker.ready;
  const shown = await registration.getNotifications();
  return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data,
                             actions: n.actions.map((a) => [a.action, a.title]) }));
}
"""


@pytest.fixture
def push_service():
    with FakePushService() as fake:
        yield fake


def worker_registration(cdp, page) -> str:
    """The service worker's registration id, once it is activated (what CDP delivers to)."""
    registrations, activated = {}, set()
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.update(
            {r["registrationId"]: r["scopeURL"] for r in event["registrations"]}
        ),
    )
    cdp.on(
        "ServiceWorker.workerVersionUpdated",
        lambda event: activated.update(
            v["registrationId"] for v in event["versions"] if v["status"] == "activated"
        ),
    )
    cdp.send("ServiceWorker.enable")
    for _ in range(100):
        if activated & set(registrations):
            return next(iter(activated & set(registrations)))
        page.wait_for_timeout(100)
    raise AssertionError(f"no activated service worker: {registrations}")


def running_worker(page):
    """The service worker as Playwright sees it (it may have been stopped while idle; it starts
    again for the push it just handled)."""
    for _ in range(100):
        workers = [w for w in page.context.service_workers if w.url.endswith("/sw.js")]
        if workers:
            return workers[-1]
        page.wait_for_timeout(100)
    raise AssertionError("the service worker is not running")


def test_a_hot_lead_reaches_a_subscribed_page_as_a_notification(
    browser, page, live_server, settings, alex, push_service
):
    push_on(settings)
    settings.INTAKE_MIN_FILL_SECONDS = 0
    AssignmentRuleFactory(name="Alex first", position=1, members=[alex])
    phone = new_browser(push_service.url)
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    page.add_init_script(FAKE_PUSH_MANAGER % json.dumps(phone.subscription_json()))

    # Today offers it; the availability page turns it on for this device.
    sign_in(page, live_server.url)
    offer = page.locator("[data-push-device][data-push-compact]")
    offer.wait_for(state="visible")
    page.goto(f"{live_server.url}/alerts/availability/")
    card = page.locator("[data-push-device]")
    card.get_by_role("button", name="Enable notifications on this device").click()
    card.get_by_text("Notifications are on for this device.").wait_for()
    stored = PushSubscription.objects.get()
    assert (stored.user, stored.endpoint) == (alex, phone.endpoint)
    assert stored.device == "Chrome on Linux"
    # The browser was asked to subscribe with our VAPID public key, byte for byte.
    server_key = settings.VAPID_PUBLIC_KEY
    server_key = base64.urlsafe_b64decode(server_key + "=" * (-len(server_key) % 4))
    assert page.evaluate("JSON.parse(localStorage['test.push.subscribed'])") == list(server_key)
    page.goto(f"{live_server.url}/")
    page.wait_for_function(
        "document.querySelector('[data-push-compact] [data-push-status]').textContent !== ''"
    )
    assert offer.locator("[data-push-status]").text_content() == (
        "Notifications are on for this device."
    )
    assert offer.is_hidden()  # on for this device: Today no longer offers it

    # A prospect asks for a valuation and is moving within 3 months: hot.
    prospect = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    form = prospect.new_page()
    form.goto(f"{live_server.url}/intake/valuation/")
    form.fill("#id_first_name", "Dana")
    form.fill("#id_last_name", "Whitfield")
    form.fill("#id_phone", "(413) 555-0187")
    form.fill("#id_property_address", "48 Harbor View Drive")
    form.check("input[name=timeline][value=within_3_months]")
    form.click("button[type=submit]")
    form.wait_for_url("**/thanks/")
    prospect.close()

    # The server pushed it, encrypted to this browser's keys, to its push service.
    lead = Lead.objects.get()
    alert = Alert.objects.get(reason=Alert.Reason.HOT_LEAD)
    (request,) = push_service.to(phone.endpoint)
    payload = phone.decrypt(request)
    assert payload["title"] == "Hot valuation lead: Dana Whitfield"

    # The push service delivers it; the service worker shows it.
    cdp = page.context.new_cdp_session(page)
    registration = worker_registration(cdp, page)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": registration, "data": json.dumps(payload)},
    )
    shown = []
    for _ in range(100):
        shown = page.evaluate(NOTIFICATIONS)
        if shown:
            break
        page.wait_for_timeout(100)
    (notification,) = shown
    assert notification["title"] == "Hot valuation lead: Dana Whitfield"
    assert notification["body"] == "48 Harbor View Drive · moving within 3 months\n(413) 555-0187"
    assert notification["tag"] == f"alert-{alert.pk}"
    assert notification["actions"] == [["claim", "Claim"], ["call", "Call"]]
    actions = notification["data"]["actions"]
    assert actions["claim"] == f"/alerts/{alert.pk}/ack/"
    # Call: the alert's own signed call-connect link, good for its agent only.
    token = resolve(actions["call"]).kwargs["token"]
    assert call_link_alert(token, alert.agent) == alert

    # Claim, as the tap would: the alert is acknowledged and the page shows the lead.
    worker = running_worker(page)
    worker.evaluate(
        """async () => {
          const [shown] = await self.registration.getNotifications();
          shown.close();
          await notificationClicked(shown.data, "claim");
        }"""
    )
    page.wait_for_url(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_text("Got it: Dana Whitfield is yours to work.").wait_for()
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None


def test_not_now_keeps_todays_offer_away_on_this_device(page, live_server, settings, alex):
    push_on(settings)
    sign_in(page, live_server.url)
    offer = page.locator("[data-push-device][data-push-compact]")
    offer.wait_for(state="visible")

    offer.get_by_role("button", name="Not now").click()
    assert offer.is_hidden()
    page.reload()
    page.wait_for_function(
        "document.querySelector('[data-push-compact] [data-push-status]').textContent !== ''"
    )
    assert offer.is_hidden()


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
)


def test_an_iphone_in_the_browser_is_told_to_add_the_app_to_its_home_screen(
    browser, live_server, settings, alex
):
    """Safari on iOS has Web Push only for an app added to the Home Screen; in a browser tab
    there is no PushManager at all (as here: Chromium made to look like it)."""
    push_on(settings)
    context = browser.new_context(user_agent=IPHONE, viewport={"width": 390, "height": 844})
    context.add_init_script("delete window.PushManager;")
    page = context.new_page()
    sign_in(page, live_server.url)

    offer = page.locator("[data-push-device][data-push-compact]")
    offer.wait_for(state="visible")
    assert "tap Share, then Add to Home Screen" in offer.inner_text()
    assert offer.get_by_role("button", name="Enable notifications on this device").is_hidden()
    context.close()


def test_signing_out_turns_this_browsers_notifications_off(
    page, live_server, settings, alex, push_service
):
    """A shared computer: after the agent signs out, neither the server nor the browser keeps
    the subscription, so the next person at it is not shown the agent's hot leads."""
    push_on(settings)
    shared = new_browser(push_service.url)
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    page.add_init_script(FAKE_PUSH_MANAGER % json.dumps(shared.subscription_json()))
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/alerts/availability/")
    card = page.locator("[data-push-device]")
    card.get_by_role("button", name="Enable notifications on this device").click()
    card.get_by_text("Notifications are on for this device.").wait_for()
    assert PushSubscription.objects.filter(user=alex).count() == 1

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/**")

    assert page.evaluate("localStorage.getItem('test.push.subscribed')") is None
    assert not PushSubscription.objects.exists()

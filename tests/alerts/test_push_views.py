"""The installable app and "Enable notifications on this device": the manifest and service worker
a phone installs, the subscribe / unsubscribe endpoints a browser calls (signed in, CSRF, only
real push services, clear errors), the card on the agent's pages, the VAPID settings check, and
a notification's Claim button answering the service worker."""

import json
import struct

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from alerts.checks import vapid_settings
from alerts.models import Alert, PushSubscription
from alerts.vapid import vapid_key_pair
from tests.factories import AlertFactory, ClaimOfferFactory, LeadFactory, PushSubscriptionFactory

pytestmark = pytest.mark.django_db
SUBSCRIBE = reverse("alerts:push-subscribe")
UNSUBSCRIBE = reverse("alerts:push-unsubscribe")
PIXEL = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Mobile Safari/537.36"
)


def post_json(client, url, data, **headers):
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


@pytest.fixture
def csrf_client(alex):
    """A browser as Django's CSRF protection sees it: no token, no write."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(alex)
    return client


def token_of(client) -> str:
    return client.get(reverse("alerts:push-csrf")).json()["csrf_token"]


# --- The installable app -------------------------------------------------------------------------


def png_size(path) -> tuple[int, int]:
    with open(path, "rb") as image:
        head = image.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_the_manifest_installs_the_dashboard_as_the_brokerages_app(client, settings):
    settings.BROKERAGE_NAME = "Harbor & Main Realty"
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    assert "no-store" not in response["Cache-Control"]  # public: browsers fetch it cookieless
    manifest = response.json()
    assert manifest["name"] == manifest["short_name"] == "Harbor & Main Realty"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert manifest["theme_color"] == "#1f4e79"
    sizes = {}
    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        sizes[icon.get("purpose", "any"), icon["sizes"]] = png_size(path)
    assert sizes == {
        ("any", "192x192"): (192, 192),
        ("any", "512x512"): (512, 512),
        ("maskable", "512x512"): (512, 512),
    }


def test_the_short_name_under_the_icon_can_be_set(client, settings):
    settings.WEBAPP_SHORT_NAME = "Harbor"
    assert client.get("/manifest.webmanifest").json()["short_name"] == "Harbor"


def test_the_service_worker_covers_the_whole_site_and_caches_nothing(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    assert response["Content-Security-Policy"] == "default-src 'self'"
    script = response.content.decode()
    assert 'addEventListener("push"' in script
    assert 'addEventListener("notificationclick"' in script
    # No fetch handler and no Cache Storage: lead pages are never kept on the device.
    assert 'addEventListener("fetch"' not in script and "caches." not in script
    assert f'const CSRF_URL = "{reverse("alerts:push-csrf")}"' in script


def test_every_signed_in_page_links_the_manifest_and_registers_the_worker(client, agent):
    page = client.get(reverse("leads:today")).content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'src="/static/js/push.js" data-service-worker="/sw.js"' in page
    assert '<meta name="theme-color" content="#1f4e79">' in page


# --- The card ------------------------------------------------------------------------------------


def test_the_card_shows_where_push_is_set_up(client, agent, sam, vapid):
    PushSubscriptionFactory(user=agent, user_agent=PIXEL)
    PushSubscriptionFactory(user=sam, user_agent=PIXEL)

    page = client.get(reverse("alerts:availability")).content.decode()
    assert "Enable notifications on this device" in page
    assert f'data-vapid-key="{vapid.VAPID_PUBLIC_KEY}"' in page
    assert page.count("Chrome on Android") == 1  # their own device, not the other user's

    today = client.get(reverse("leads:today")).content.decode()
    assert "data-push-compact hidden" in today  # shown by push.js while this browser could
    assert "Chrome on Android" not in today


def test_without_vapid_keys_there_is_no_card_and_subscribing_says_why(client, agent):
    for name in ("alerts:availability", "leads:today"):
        assert b"data-push-device" not in client.get(reverse(name)).content
    response = post_json(client, SUBSCRIBE, {})
    assert response.status_code == 409
    assert response.json() == {"errors": {"push": "Notifications are not set up here."}}


# --- Subscribing ---------------------------------------------------------------------------------


def test_enabling_notifications_stores_this_browser(csrf_client, alex, vapid, new_browser):
    browser = new_browser()

    refused = post_json(csrf_client, SUBSCRIBE, browser.subscription_json())
    assert refused.status_code == 403  # no CSRF token
    response = post_json(
        csrf_client,
        SUBSCRIBE,
        browser.subscription_json(),
        **{"X-CSRFToken": token_of(csrf_client), "User-Agent": PIXEL},
    )

    assert response.status_code == 201
    stored = PushSubscription.objects.get()
    assert response.json() == {"id": stored.pk, "device": "Chrome on Android"}
    assert (stored.user, stored.endpoint) == (alex, browser.endpoint)
    assert (stored.p256dh, stored.auth) == (browser.keys["p256dh"], browser.keys["auth"])


def test_the_same_browser_again_is_one_subscription_and_moves_to_whoever_enabled_it(
    client, alex, sam, vapid, new_browser
):
    browser = new_browser()
    client.force_login(alex)
    post_json(client, SUBSCRIBE, browser.subscription_json())
    post_json(client, SUBSCRIBE, browser.subscription_json())
    client.force_login(sam)
    post_json(client, SUBSCRIBE, browser.subscription_json())

    assert list(PushSubscription.objects.values_list("user__username", flat=True)) == ["sam"]


def test_a_renewed_subscription_replaces_the_old_one(client, agent, vapid, new_browser):
    old, new = new_browser(), new_browser()
    post_json(client, SUBSCRIBE, old.subscription_json())
    post_json(client, SUBSCRIBE, {**new.subscription_json(), "old_endpoint": old.endpoint})

    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [new.endpoint]


def test_past_the_device_limit_the_oldest_browser_goes(client, agent, vapid, new_browser, settings):
    settings.PUSH_DEVICES_PER_USER = 2
    browsers = [new_browser() for _ in range(3)]
    for browser in browsers:
        post_json(client, SUBSCRIBE, browser.subscription_json())

    kept = set(PushSubscription.objects.values_list("endpoint", flat=True))
    assert kept == {browsers[1].endpoint, browsers[2].endpoint}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"endpoint": "https://push.attacker.example/x"}, "endpoint"),
        ({"endpoint": "https://fcm.googleapis.com.attacker.example/x"}, "endpoint"),
        ({"endpoint": "http://fcm.googleapis.com/fcm/send/x"}, "endpoint"),  # not HTTPS
        ({"endpoint": "https://user:pw@fcm.googleapis.com/fcm/send/x"}, "endpoint"),
        ({"endpoint": 42}, "endpoint"),
        ({"keys": {"p256dh": "BAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "p256dh"),
        # 65 bytes, but not a point on the curve
        ({"keys": {"p256dh": "BA" + "A" * 85, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "p256dh"),
        ({"keys": {"p256dh": None, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "p256dh"),
        ({"auth": "too-short"}, "auth"),
        ({"auth": "!!!!!!!!!!!!!!!!!!!!!!"}, "auth"),
        ({"keys": "none"}, "p256dh"),
    ],
)
def test_a_subscription_that_is_not_a_browsers_is_refused_with_the_reason(
    client, agent, vapid, new_browser, change, field
):
    data = new_browser().subscription_json()
    if "auth" in change:
        data["keys"]["auth"] = change["auth"]
    else:
        data.update(change)

    response = post_json(client, SUBSCRIBE, data)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"x"', b"\xff\xfe"])
def test_a_body_that_is_not_a_subscription_is_a_400(client, agent, vapid, body):
    response = client.post(SUBSCRIBE, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "errors": {"subscription": "Send the browser's subscription as JSON."}
    }


def test_the_real_push_services_are_accepted(client, agent, vapid, new_browser):
    data = new_browser().subscription_json()
    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://wns2-par02p.notify.windows.com/w/?token=abc",
        "https://web.push.apple.com/QGv7abc",
    ):
        assert post_json(client, SUBSCRIBE, {**data, "endpoint": endpoint}).status_code == 201
    assert PushSubscription.objects.count() == 4


# --- Turning it off ------------------------------------------------------------------------------


def test_turning_notifications_off_forgets_this_browser_only_if_it_is_yours(
    client, alex, sam, vapid
):
    mine = PushSubscriptionFactory(user=alex)
    theirs = PushSubscriptionFactory(user=sam)
    client.force_login(alex)

    assert post_json(client, UNSUBSCRIBE, {"endpoint": theirs.endpoint}).json() == {"removed": 0}
    assert post_json(client, UNSUBSCRIBE, {"endpoint": mine.endpoint}).json() == {"removed": 1}
    assert list(PushSubscription.objects.all()) == [theirs]
    assert post_json(client, UNSUBSCRIBE, {"endpoint": 5}).status_code == 400


def test_a_device_is_removed_from_the_list(client, agent, vapid):
    device = PushSubscriptionFactory(user=agent)
    response = client.post(UNSUBSCRIBE, {"id": device.pk}, follow=True)
    assert response.redirect_chain == [(reverse("alerts:availability"), 302)]
    assert "That device gets no more notifications." in response.content.decode()
    assert not PushSubscription.objects.exists()
    assert client.post(UNSUBSCRIBE, {"id": "x"}).status_code == 302  # nothing to remove


# --- A notification's buttons, as the service worker presses them --------------------------------


def test_claim_from_a_notification_claims_and_says_so_on_the_page_it_opens(csrf_client, alex):
    lead = LeadFactory(owner=None, hot=True, first_name="Dana", last_name="Whitfield")
    ClaimOfferFactory(lead=lead, agent=alex)
    offer = AlertFactory(lead=lead, agent=alex, reason=Alert.Reason.CLAIM)

    response = csrf_client.post(
        reverse("alerts:claim", args=[offer.pk]),
        headers={"X-CSRFToken": token_of(csrf_client), "Accept": "application/json"},
    )

    assert response.json() == {"next": f"/leads/{lead.pk}/"}
    lead.refresh_from_db()
    assert lead.owner == alex
    page = csrf_client.get(response.json()["next"]).content.decode()
    assert "Dana Whitfield is yours. Call them now." in page


def test_a_claim_someone_else_won_sends_the_notification_to_the_inbox(client, alex, monkeypatch):
    lead = LeadFactory(owner=None, hot=True)
    ClaimOfferFactory(lead=lead, agent=alex)
    offer = AlertFactory(lead=lead, agent=alex, reason=Alert.Reason.CLAIM)
    # Two taps at the same instant: the other agent's conditional update won
    # (tests/alerts/test_claim_race.py races it for real).
    monkeypatch.setattr("alerts.views.lead_claim", lambda lead, agent: False)
    client.force_login(alex)

    response = client.post(
        reverse("alerts:claim", args=[offer.pk]), headers={"Accept": "application/json"}
    )
    assert response.json() == {"next": reverse("alerts:inbox")}
    page = client.get(response.json()["next"]).content.decode()
    assert "Someone else claimed this lead first." in page


def test_im_on_it_from_a_notification_acknowledges(client, agent):
    alert = AlertFactory(lead=LeadFactory(owner=agent, hot=True), agent=agent)
    response = client.post(
        reverse("alerts:acknowledge", args=[alert.pk]), headers={"Accept": "application/json"}
    )
    assert response.json() == {"next": f"/leads/{alert.lead_id}/"}
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None


# --- VAPID keys ----------------------------------------------------------------------------------


def test_vapid_keys_prints_a_pair_that_passes_the_check(settings, capsys):
    call_command("vapid_keys")
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    assert set(lines) == {"VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "VAPID_SUBJECT"}
    assert lines["VAPID_SUBJECT"] == f"mailto:{settings.BROKERAGE_EMAIL}"
    for name, value in lines.items():
        setattr(settings, name, value)
    assert vapid_settings() == []


def test_no_vapid_settings_is_fine_and_half_or_wrong_ones_are_errors(settings):
    assert vapid_settings() == []
    public, private = vapid_key_pair()
    other_public, _ = vapid_key_pair()
    cases = {
        (public, "", ""): "alerts.E001",
        (public, "not-a-key", "mailto:it@example.com"): "alerts.E002",
        (other_public, private, "mailto:it@example.com"): "alerts.E003",
        (public, private, "it@example.com"): "alerts.E004",
    }
    for (public_key, private_key, subject), expected in cases.items():
        settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = public_key, private_key
        settings.VAPID_SUBJECT = subject
        assert [error.id for error in vapid_settings()] == [expected]


def test_signing_out_forgets_the_browsers_this_session_enabled(client, alex, vapid, new_browser):
    """A shared computer: after Alex signs out, the next person at it does not see Alex's hot
    alerts. His phone (enabled in another session) keeps getting them."""
    shared, phone = new_browser(), new_browser()
    on_phone = Client()
    on_phone.force_login(alex)
    assert post_json(on_phone, SUBSCRIBE, phone.subscription_json()).status_code == 201
    client.force_login(alex)
    assert post_json(client, SUBSCRIBE, shared.subscription_json()).status_code == 201

    assert client.post(reverse("logout")).status_code == 302

    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [phone.endpoint]


def test_the_sign_out_button_lets_the_page_turn_this_browsers_notifications_off(client, agent):
    page = client.get(reverse("leads:today")).content.decode()
    assert "data-sign-out" in page  # static/js/push.js unsubscribes the browser on submit

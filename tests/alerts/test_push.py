"""A hot lead reaches its owner's phone as a Web Push notification, beside the text: encrypted to
each of the owner's browsers, signed with our VAPID key, after the intake commits, and never to
anyone else. A browser the push service forgot is forgotten; passing failures are retried; with
no VAPID keys nothing is pushed and nothing else changes."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import http_ece
import pytest
from django.urls import resolve

from alerts.calls import call_link_alert
from alerts.models import Alert, PushSubscription
from alerts.push import push_send
from alerts.services import alert_acknowledge, alert_raise, alerts_escalate
from leads.models import Lead
from sequences.models import Message
from tests.factories import (
    AssignmentRuleFactory,
    ClaimOfferFactory,
    LeadFactory,
    PushSubscriptionFactory,
)
from tests.helpers import post_intake
from tests.push import vapid_claims

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=NY)  # a Wednesday
LATE_EVENING = datetime(2026, 11, 25, 23, 0, tzinfo=NY)

DANA = {
    "first_name": "Dana",
    "last_name": "Whitfield",
    "email": "dana@example.com",
    "phone": "(413) 555-0187",
    "timeline": "within_3_months",
    "property_address": "48 Harbor View Drive",
}


@pytest.fixture
def clock_start():
    return NOON


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run a call as its own committed transaction would: what it queued after commit runs."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def team(people):
    """Alex owns every lead (a rule says so); Sam is the colleague; Morgan is the broker."""
    AssignmentRuleFactory(name="Alex first", position=1, members=[people["alex"]])
    return people


def test_a_hot_lead_is_pushed_to_each_of_its_owners_browsers_and_nobody_elses(
    client, clock, team, vapid, subscribe, push_service, sent, sms_outbox
):
    phone, laptop = subscribe(team["alex"]), subscribe(team["alex"])
    sams = subscribe(team["sam"])

    sent(post_intake, client, "valuation", **DANA)

    lead = Lead.objects.get()
    alert = Alert.objects.get(reason=Alert.Reason.HOT_LEAD)
    assert [len(push_service.to(b.endpoint)) for b in (phone, laptop, sams)] == [1, 1, 0]
    (request,) = push_service.to(phone.endpoint)
    headers = request["headers"]
    assert headers["TTL"] == "1800"
    assert headers["Content-Encoding"] == "aes128gcm"
    assert headers["Urgency"] == "high"
    assert headers["Topic"] == f"alert{alert.pk}"
    claims = vapid_claims(headers["Authorization"], vapid.VAPID_PUBLIC_KEY)
    assert claims["aud"] == push_service.url
    assert claims["sub"] == "mailto:it@harborandmain.example"
    assert claims["exp"] > NOON.timestamp()

    payload = phone.decrypt(request)
    assert payload["title"] == "Hot valuation lead: Dana Whitfield"
    assert payload["body"] == "48 Harbor View Drive · moving within 3 months\n(413) 555-0187"
    assert payload["url"] == f"/leads/{lead.pk}/"
    assert payload["open_url"] == f"/alerts/{alert.pk}/open/"
    claim, call = payload["actions"]
    assert claim == {"action": "claim", "title": "Claim", "url": f"/alerts/{alert.pk}/ack/"}
    # Call: the alert's own signed call-connect link (the text's), good for its agent only.
    assert (call["action"], call["title"]) == ("call", "Call")
    assert call_link_alert(resolve(call["url"]).kwargs["token"], alert.agent) == alert
    assert payload["tag"] == f"alert-{alert.pk}"
    assert payload["renotify"] is False
    assert payload["icon"] == "/static/webapp/icon-192.png"

    # Each browser's copy is encrypted to that browser's keys alone.
    (to_laptop,) = push_service.to(laptop.endpoint)
    assert laptop.decrypt(to_laptop)["title"] == payload["title"]
    with pytest.raises(http_ece.ECEException):
        phone.decrypt(to_laptop)

    # Beside the text, not instead of it.
    assert any(sms.to == team["alex"].agent.phone for sms in sms_outbox)
    phone.row.refresh_from_db()
    assert phone.row.last_success_at is not None and phone.row.failures == 0


def test_the_push_is_sent_only_after_the_intake_commits(
    client, clock, team, vapid, subscribe, push_service, django_capture_on_commit_callbacks
):
    phone = subscribe(team["alex"])
    with django_capture_on_commit_callbacks() as after_commit:
        post_intake(client, "valuation", **DANA)
        assert Alert.objects.filter(reason=Alert.Reason.HOT_LEAD).exists()
    assert push_service.requests == []  # the intake's transaction never waits on a push service

    for callback in after_commit:
        callback()
    assert len(push_service.to(phone.endpoint)) == 1


@pytest.mark.parametrize("status", [404, 410])
def test_a_browser_the_push_service_forgot_is_forgotten(
    client, clock, team, vapid, subscribe, push_service, sent, sms_outbox, status
):
    browsers = [subscribe(team["alex"]), subscribe(team["alex"])]
    push_service.answer(status)  # to whichever browser is pushed first

    sent(post_intake, client, "valuation", **DANA)

    assert len(push_service.requests) == 2
    first = push_service.requests[0]["path"]
    (forgotten,) = [b for b in browsers if push_service.to(b.endpoint)[0]["path"] == first]
    (kept,) = [b for b in browsers if b is not forgotten]
    assert list(PushSubscription.objects.values_list("pk", flat=True)) == [kept.row.pk]
    assert any(sms.to == team["alex"].agent.phone for sms in sms_outbox)


def test_a_passing_failure_is_tried_again_and_goes(clock, alex, vapid, subscribe, push_service):
    phone = subscribe(alex)
    push_service.answer(503)
    push_service.answer(429)

    assert push_send(phone.row, {"title": "Hot lead"}) == "sent"

    assert len(push_service.requests) == 3
    phone.row.refresh_from_db()
    assert phone.row.failures == 0 and phone.row.last_success_at is not None


def test_a_push_service_down_through_every_retry_counts_one_failure(
    clock, alex, vapid, subscribe, push_service
):
    phone = subscribe(alex)
    push_service.answer(500, times=3)

    assert push_send(phone.row, {"title": "Hot lead"}) == "failed"

    assert len(push_service.requests) == 3  # the first try and PUSH_RETRY_DELAYS_SECONDS (2)
    phone.row.refresh_from_db()
    assert phone.row.failures == 1 and phone.row.last_success_at is None


@pytest.mark.parametrize("status", [400, 403, 413])
def test_a_refused_push_is_not_retried_and_the_browser_is_kept(
    clock, alex, vapid, subscribe, push_service, status
):
    phone = subscribe(alex)
    push_service.answer(status)

    assert push_send(phone.row, {"title": "Hot lead"}) == "failed"

    assert len(push_service.requests) == 1
    phone.row.refresh_from_db()
    assert phone.row.failures == 1


def test_an_unreachable_push_service_is_retried_then_given_up(clock, alex, vapid, push_service):
    nowhere = PushSubscriptionFactory(user=alex, endpoint="http://127.0.0.1:9/push/nobody-home")

    assert push_send(nowhere, {"title": "Hot lead"}) == "failed"

    nowhere.refresh_from_db()
    assert nowhere.failures == 1


def test_without_vapid_keys_nothing_is_pushed_and_nothing_breaks(
    client, clock, team, subscribe, push_service, sent, sms_outbox, mailoutbox
):
    subscribe(team["alex"])

    response = sent(post_intake, client, "valuation", **DANA)

    assert response.status_code == 302
    assert Alert.objects.filter(reason=Alert.Reason.HOT_LEAD).count() == 1
    assert any(sms.to == team["alex"].agent.phone for sms in sms_outbox)
    assert any(team["alex"].email in mail.to for mail in mailoutbox)
    assert push_service.requests == []


def test_a_hot_alert_is_pushed_in_the_agents_quiet_hours_like_its_text(
    clock, alex, vapid, subscribe, push_service, sent
):
    alex.agent.alert_quiet_start, alex.agent.alert_quiet_end = time(22), time(7)
    alex.agent.save()
    clock.move_to(LATE_EVENING)
    phone = subscribe(alex)
    lead = LeadFactory(owner=alex, hot=True, first_name="Dana", last_name="Whitfield")

    sent(alert_raise, lead, alex, Alert.Reason.HOT_LEAD)

    assert len(push_service.to(phone.endpoint)) == 1


def test_a_reply_or_a_warm_lead_is_not_pushed(clock, alex, vapid, subscribe, push_service, sent):
    subscribe(alex)
    lead = LeadFactory(owner=alex)

    sent(alert_raise, lead, alex, Alert.Reason.REPLY, detail="Sounds good")
    sent(alert_raise, lead, alex, Alert.Reason.WARM_OUTREACH, channels=("email",))

    assert Alert.objects.count() == 2
    assert push_service.requests == []


def test_the_hourly_cap_on_alert_texts_does_not_hold_pushes_back(
    clock, alex, vapid, subscribe, push_service, sent, settings
):
    settings.ALERT_SMS_PER_AGENT_PER_HOUR = 1
    phone = subscribe(alex)
    first, second = LeadFactory(owner=alex, hot=True), LeadFactory(owner=alex, hot=True)

    sent(alert_raise, first, alex, Alert.Reason.HOT_LEAD)
    sent(alert_raise, second, alex, Alert.Reason.HOT_LEAD)

    assert Alert.objects.get(lead=second).text_digest is not None  # its text waits in the digest
    tags = [phone.decrypt(request)["tag"] for request in push_service.to(phone.endpoint)]
    assert tags == [f"alert-{alert.pk}" for alert in Alert.objects.order_by("pk")]


def test_a_claim_offer_is_pushed_to_every_member_with_the_claim_button(
    clock, alex, sam, vapid, subscribe, push_service, sent
):
    lead = LeadFactory(
        owner=None, hot=True, source="valuation", first_name="Dana", last_name="Whitfield"
    )
    ClaimOfferFactory(lead=lead, agent=alex)
    ClaimOfferFactory(lead=lead, agent=sam)
    alexs, sams = subscribe(alex), subscribe(sam)

    for agent in (alex, sam):
        sent(alert_raise, lead, agent, Alert.Reason.CLAIM)

    for browser, agent in ((alexs, alex), (sams, sam)):
        (request,) = push_service.to(browser.endpoint)
        payload = browser.decrypt(request)
        offer = Alert.objects.get(agent=agent)
        assert payload["title"] == "Hot valuation lead to claim: Dana Whitfield"
        assert payload["actions"][0] == {
            "action": "claim",
            "title": "Claim",
            "url": f"/alerts/{offer.pk}/claim/",
        }


def test_an_alert_closed_before_its_push_went_is_not_pushed(
    clock, alex, vapid, subscribe, push_service, django_capture_on_commit_callbacks
):
    subscribe(alex)
    lead = LeadFactory(owner=alex, hot=True)
    with django_capture_on_commit_callbacks() as after_commit:
        alert = alert_raise(lead, alex, Alert.Reason.HOT_LEAD)
        alert_acknowledge(alert, by=alex, how="I'm on it")
    for callback in after_commit:
        callback()

    assert push_service.requests == []


def test_the_five_minute_reminder_rings_the_same_notification_again(
    clock, alex, vapid, subscribe, push_service, sent
):
    phone = subscribe(alex)
    lead = LeadFactory(owner=alex, hot=True, first_name="Dana", last_name="Whitfield")
    sent(alert_raise, lead, alex, Alert.Reason.HOT_LEAD)

    clock.move_to(NOON + timedelta(minutes=6))
    sent(alerts_escalate)

    first, reminder = (phone.decrypt(r) for r in push_service.to(phone.endpoint))
    assert reminder["title"] == f"Reminder · {first['title']}"
    assert reminder["tag"] == first["tag"]
    assert (first["renotify"], reminder["renotify"]) == (False, True)
    assert Message.objects.filter(idempotency_key__endswith=":reminder:sms").exists()

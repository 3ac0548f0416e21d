"""A burst of hot leads does not become a burst of texts to one agent: past the hourly cap the
alerts are grouped into one text, and not one alert (or its email) is held back."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from alerts.models import Alert
from alerts.services import _notify, alert_raise
from leads.models import Lead
from sequences.models import Message
from sequences.outbox import messages_dispatch_due
from tests.factories import AssignmentRuleFactory, LeadFactory
from tests.helpers import answers

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=NY)  # 17:00 UTC: the hour ends at 13:00 here


@pytest.fixture
def clock_start():
    return NOON


@pytest.fixture
def alex(people):
    AssignmentRuleFactory(name="Alex first", position=1, members=[people["alex"]])
    return people["alex"]


def texts_to(sms_outbox, user):
    return [sms.body for sms in sms_outbox if sms.to == user.agent.phone]


def test_thirty_hot_leads_in_an_hour_make_ten_texts_and_one_grouped_text(
    client, clock, alex, settings, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    settings.ALERT_SMS_PER_AGENT_PER_HOUR = 10
    url = reverse("leads:intake", args=["valuation"])
    for n in range(30):
        clock.move_to(NOON + timedelta(minutes=n))
        data = answers(
            "valuation",
            timeline="within_3_months",
            email=f"buyer{n}@example.com",
            phone=f"(413) 555-{2000 + n}",
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, data, REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert response.status_code == 302

    assert Lead.objects.count() == 30
    assert Alert.objects.filter(agent=alex, reason=Alert.Reason.HOT_LEAD).count() == 30
    assert len([mail for mail in mailoutbox if alex.email in mail.to]) == 30  # every alert emailed
    texts = texts_to(sms_outbox, alex)
    assert len(texts) == 10
    assert all(text.startswith("HOT lead: ") for text in texts)
    (grouped,) = Message.objects.filter(idempotency_key__startswith="alert-digest:")
    assert grouped.status == Message.Status.QUEUED
    assert grouped.scheduled_for == NOON + timedelta(hours=1)
    assert Alert.objects.filter(text_digest=grouped).count() == 20

    clock.move_to(NOON + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        messages_dispatch_due(requeue=False)
    texts = texts_to(sms_outbox, alex)
    assert len(texts) == 11
    assert texts[-1] == "20 new hot leads — open RealtyCRM: http://testserver/alerts/"


def test_the_cap_counts_each_alert_once_and_starts_again_next_hour(clock, alex, settings):
    settings.ALERT_SMS_PER_AGENT_PER_HOUR = 2
    first, _, _, fourth = (
        alert_raise(LeadFactory(owner=alex, hot=True), alex, Alert.Reason.HOT_LEAD)
        for _ in range(4)
    )
    individual = Message.objects.filter(channel="sms", idempotency_key__startswith="alert:")
    assert individual.count() == 2
    grouped = Message.objects.get(idempotency_key__startswith="alert-digest:")
    assert grouped.body == "2 new hot leads — open RealtyCRM: http://testserver/alerts/"
    # Queuing an alert's text again (a step run twice) neither texts nor counts it twice.
    _notify(first, step="raised", channels=("sms",), now=NOON)
    _notify(fourth, step="raised", channels=("sms",), now=NOON)
    assert individual.count() == 2
    grouped.refresh_from_db()
    assert grouped.body == "2 new hot leads — open RealtyCRM: http://testserver/alerts/"

    clock.move_to(NOON + timedelta(hours=1, minutes=1))
    reply = alert_raise(LeadFactory(owner=alex), alex, Alert.Reason.REPLY, detail="Call me")
    assert reply.text_digest is None
    assert individual.count() == 3

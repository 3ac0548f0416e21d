"""The demo looks like a real brokerage's last 90 days: varied names, hot leads called within the
hour, alerts answered in minutes, a believable task list, and a funnel whose stages add up."""

import io
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from alerts.models import Alert
from leads.models import Lead, LeadEvent, Stage
from sequences.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(sms_outbox, mailoutbox):
    call_command("seed_demo", leads=150, seed=11, stdout=io.StringIO())
    assert sms_outbox == [] and mailoutbox == []  # history only: nothing sent
    return timezone.now()


def test_no_two_demo_people_share_a_name_and_emails_are_plain(demo):
    names = Counter(Lead.objects.values_list("first_name", "last_name"))
    assert names.most_common(1)[0][1] == 1
    for email in Lead.objects.values_list("email", flat=True):
        assert email.isascii() and email == email.lower(), email


def test_hot_leads_were_called_within_the_hour_but_the_few_that_just_arrived(demo):
    hot = Lead.objects.filter(intent="hot")
    assert hot.count() > 20
    waiting = hot.filter(first_personal_contact_at=None)
    assert 1 <= waiting.count() <= 3
    assert all(demo - lead.created_at < timedelta(hours=1) for lead in waiting)
    for lead in hot.exclude(first_personal_contact_at=None):
        assert lead.first_personal_contact_at - lead.created_at <= timedelta(hours=1), lead


def test_each_hot_alert_was_answered_in_minutes_before_the_call(demo):
    alerts = Alert.objects.select_related("lead")
    assert alerts.count() > 20
    assert alerts.filter(closed_at=None).count() <= 1  # the lead that arrived minutes ago
    for alert in alerts.exclude(acknowledged_at=None):
        assert alert.acknowledged_at - alert.created_at < timedelta(minutes=60)
        contact = alert.lead.first_personal_contact_at
        assert contact is None or alert.acknowledged_at <= contact
        assert alert.lead.alert_acknowledged_at is not None
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.ALERT_ACKNOWLEDGED).exists()


def test_each_agents_task_list_is_a_days_work(demo):
    for username in ("alex", "sam"):
        open_tasks = Task.objects.filter(agent__username=username, status=Task.Status.OPEN)
        assert 3 <= open_tasks.count() <= 20, username
        overdue = open_tasks.filter(due_at__lt=demo)
        assert all(demo - task.due_at < timedelta(days=2) for task in overdue), username
        titles = set(open_tasks.values_list("title", flat=True))
        assert len(titles) == open_tasks.count()  # no two alike


def test_every_step_along_the_funnel_was_a_conversation(demo):
    reached = Lead.objects.exclude(stage__in=[Stage.NEW, Stage.LOST])
    assert not reached.filter(first_personal_contact_at=None).exists()
    counts = Counter(Lead.objects.values_list("stage", flat=True))
    later = [Stage.APPOINTMENT, Stage.CLIENT, Stage.CLOSED]
    assert counts[Stage.CONTACTED] + counts[Stage.ENGAGED] > sum(counts[s] for s in later) > 0
    for lead in Lead.objects.filter(stage__in=later)[:20]:
        contacts = lead.events.filter(kind=LeadEvent.Kind.PERSONAL_CONTACT).count()
        assert contacts >= 3, lead  # contacted, engaged, and the appointment itself

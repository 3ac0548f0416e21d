"""Demo data: believable sequence history for the demo leads, and nothing sent."""

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import OrmQ

from leads.models import Lead
from sequences.models import Enrollment, Message, Task
from sequences.services.enrollment import scheduler_tick

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(sms_outbox, mailoutbox):
    call_command("seed_demo", leads=100, seed=7, stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_demo_leads_get_history_and_nothing_is_sent(demo, sms_outbox, mailoutbox):
    assert sms_outbox == [] and mailoutbox == []
    # Also the leads that came through the integrations (portal email, Events API, Meta).
    assert Lead.objects.values("channel").distinct().count() > 1
    assert not OrmQ.objects.exists()  # nothing was queued for a worker either
    leads = Lead.objects.exclude(nurture_track=None)
    assert set(leads.values_list("pk", flat=True)) == set(
        Enrollment.objects.values_list("lead", flat=True)
    )
    assert not Message.objects.filter(status__in=["queued", "sending"]).exists()
    sent = Message.objects.filter(status="sent")
    assert sent.filter(purpose="acknowledgment").count() >= leads.count()  # an email each, at least
    for lead in leads.exclude(first_automated_contact_at=None)[:10]:
        first = lead.messages.filter(status="sent").order_by("sent_at").first()
        assert lead.first_automated_contact_at == first.sent_at


def test_each_demo_agent_has_open_and_overdue_tasks(demo):
    now = timezone.now()
    for username in ("alex", "sam"):
        open_tasks = Task.objects.filter(agent__username=username, status="open")
        assert open_tasks.exists(), username
        assert open_tasks.filter(due_at__lt=now).exists(), username


def test_the_scheduler_carries_on_from_the_demo_without_resending_history(
    demo, sms_outbox, mailoutbox
):
    before = Message.objects.count()
    result = scheduler_tick()
    assert result["advanced"] == 0
    assert Message.objects.count() == before
    assert sms_outbox == [] and mailoutbox == []


def test_leads_whose_stage_stopped_automation_have_no_open_enrolment(demo):
    stopped = Lead.objects.filter(stage__in=["appointment", "client", "closed", "lost"])
    assert stopped.exists()
    assert not Enrollment.objects.filter(lead__in=stopped, status__in=["active", "paused"]).exists()

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadEvent, Submission
from leads.templatetags.dashboard_tags import waited_text
from realtycrm.flows.contacts import contact_log
from realtycrm.flows.inbound import text_receive
from sequences.models import Task
from tests.factories import (
    AgentFactory,
    LeadFactory,
    SavedFilterFactory,
    SubmissionFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _hot_queue_ids(response) -> list[int]:
    return [lead.pk for lead in response.context["leads"]]


@time_machine.travel(NOW, tick=False)
def test_the_hot_queue_lists_uncontacted_hot_leads_oldest_first_with_their_wait(client, agent):
    newer = LeadFactory(owner=agent, hot=True, created_at=NOW - timedelta(minutes=12))
    older = LeadFactory(owner=agent, hot=True, created_at=NOW - timedelta(hours=2, minutes=5))
    LeadFactory(owner=agent, created_at=NOW - timedelta(days=1))  # warm: not in the queue
    contacted = LeadFactory(owner=agent, hot=True, first_personal_contact_at=NOW)
    lost = LeadFactory(owner=agent, hot=True, stage=Lead.Stage.LOST)
    response = client.get(reverse("leads:today"))
    assert response.status_code == 200
    section = response.content.decode()
    assert section.index(str(older)) < section.index(str(newer))
    assert "waiting 2 h 5 min" in section
    assert "waiting 12 min" in section
    assert str(contacted) not in section and str(lost) not in section


def test_logging_a_call_from_today_takes_the_lead_out_of_the_hot_queue(client, agent):
    lead = LeadFactory(owner=agent, hot=True)
    section_url = reverse("leads:today-section", args=["hot-queue"])
    assert _hot_queue_ids(client.get(section_url)) == [lead.pk]
    response = client.post(
        reverse("leads:lead-log", args=[lead.pk]),
        {"kind": "call"},
        headers={"HX-Request": "true", "HX-Target": "hot-queue"},
    )
    assert response.status_code == 204
    assert "lead-changed" in response["HX-Trigger"]
    assert _hot_queue_ids(client.get(section_url)) == []


def test_without_javascript_a_quick_log_returns_to_today(client, agent):
    lead = LeadFactory(owner=agent, hot=True)
    response = client.post(
        reverse("leads:lead-log", args=[lead.pk]), {"kind": "sms", "next": reverse("leads:today")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:today")


def test_a_next_pointing_off_site_is_ignored(client, agent):
    lead = LeadFactory(owner=agent, hot=True)
    response = client.post(
        reverse("leads:lead-log", args=[lead.pk]), {"kind": "call", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])


def test_a_long_queue_shows_the_oldest_and_says_how_many_wait(client, agent):
    for minutes in range(30):
        LeadFactory(owner=agent, hot=True, created_at=timezone.now() - timedelta(minutes=minutes))
    response = client.get(reverse("leads:today"))
    assert len(response.context["leads"]) == 25
    assert "See all 30 hot leads waiting" in response.content.decode()


def test_a_broker_sees_every_agents_hot_leads_and_whose_they_are(client):
    broker = AgentFactory(broker=True)
    alex = AgentFactory(user__first_name="Alex", user__last_name="Rivera")
    lead = LeadFactory(owner=alex.user, hot=True)
    client.force_login(broker.user)
    response = client.get(reverse("leads:today"))
    assert _hot_queue_ids(response) == [lead.pk]
    assert "Alex Rivera" in response.content.decode()


def test_an_unknown_section_is_404(client, agent):
    assert client.get(reverse("leads:today-section", args=["nope"])).status_code == 404


def test_pinned_lists_show_on_today(client, agent):
    SavedFilterFactory(owner=agent, name="Sellers in Forest Park", pinned=True)
    SavedFilterFactory(owner=agent, name="Unpinned one", pinned=False)
    body = client.get(reverse("leads:today")).content.decode()
    assert "Sellers in Forest Park" in body
    assert "Unpinned one" not in body


@pytest.mark.parametrize("count", [3, 40])
def test_today_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries, count):
    broker = AgentFactory(broker=True)
    for _ in range(count):
        LeadFactory(owner=AgentFactory().user, hot=True)
    client.force_login(broker.user)
    # 8, the alerts, the quarantine, the portal emails, the day's appointments
    with django_assert_max_num_queries(12):
        assert client.get(reverse("leads:today")).status_code == 200


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "just now"),
        (4, "4 min"),
        (60, "1 h"),
        (125, "2 h 5 min"),
        (60 * 24 * 3, "3 d"),
        (60 * 28, "1 d 4 h"),
    ],
)
def test_waiting_time_reads_short(minutes, text):
    assert waited_text(timedelta(minutes=minutes, seconds=30)) == text


# --- Tasks due and replies (sequences on Today) --------------------------------------------------
# NOW, 15:00 UTC, is 10:00 in New York: the brokerage's zone, and the agents' unless set.


def _section(client, key, **params):
    return client.get(reverse("leads:today-section", args=[key]), params)


def _task_titles(response) -> list[str]:
    return [task.title for task in response.context["tasks"]]


@time_machine.travel(NOW, tick=False)
def test_tasks_due_today_and_overdue_show_oldest_due_first_with_how_late(client, agent):
    lead = LeadFactory(
        owner=agent,
        first_name="Maya",
        last_name="Okafor",
        source=Lead.Source.LISTING_AD,
        property_address="48 Harbor View Drive",
        hot=True,
    )
    TaskFactory(lead=lead, title="Call about the comps", due_at=NOW + timedelta(hours=5))
    TaskFactory(lead=lead, title="Call back", due_at=NOW - timedelta(hours=2, minutes=5))
    TaskFactory(lead=lead, title="Check in", due_at=NOW - timedelta(days=1))
    # 22:30 in New York is still today there, though tomorrow in UTC.
    TaskFactory(lead=lead, title="Late one", due_at=datetime(2026, 11, 25, 3, 30, tzinfo=UTC))
    TaskFactory(lead=lead, title="Tomorrow's", due_at=NOW + timedelta(days=1))
    TaskFactory(lead=lead, title="Done already", due_at=NOW - timedelta(hours=1), status="done")
    TaskFactory(lead=lead, title="Answer Maya's text", kind=Task.Kind.REPLY, due_at=NOW)
    TaskFactory(lead=LeadFactory(owner=AgentFactory().user), title="Someone else's", due_at=NOW)

    response = _section(client, "tasks")
    assert _task_titles(response) == ["Check in", "Call back", "Call about the comps", "Late one"]
    assert (response.context["total"], response.context["overdue"]) == (4, 2)
    body = response.content.decode()
    assert "overdue 2 h 5 min" in body and "overdue 1 d" in body
    assert "due 3:00 p.m." in body  # 20:00 UTC, on the New York clock
    assert "Listing ad · Within 3 months · 48 Harbor View Drive" in body
    assert f'href="tel:{lead.phone}"' in body


@time_machine.travel(NOW, tick=False)
def test_today_ends_at_midnight_where_the_agent_is(client):
    """01:00 tomorrow in New York is 22:00 today in Los Angeles."""
    west = AgentFactory(time_zone="America/Los_Angeles").user
    east = AgentFactory().user
    for user in (west, east):
        TaskFactory(lead=LeadFactory(owner=user), due_at=datetime(2026, 11, 25, 6, 0, tzinfo=UTC))
    client.force_login(west)
    assert _section(client, "tasks").context["total"] == 1
    client.force_login(east)
    assert _section(client, "tasks").context["total"] == 0


def test_a_task_marked_done_from_today_leaves_the_section(client, agent):
    task = TaskFactory(lead=LeadFactory(owner=agent), due_at=timezone.now())
    response = client.post(
        reverse("leads:task-done", args=[task.lead_id, task.pk]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert "lead-changed" in response["HX-Trigger"]
    assert _task_titles(_section(client, "tasks")) == []
    task.refresh_from_db()
    assert (task.status, task.done_by) == (Task.Status.DONE, agent)


@time_machine.travel(NOW, tick=False)
def test_snoozing_until_tomorrow_means_9_am_where_the_agent_is(client):
    west = AgentFactory(time_zone="America/Los_Angeles").user
    client.force_login(west)
    task = TaskFactory(lead=LeadFactory(owner=west), due_at=NOW - timedelta(hours=1))
    response = client.post(
        reverse("leads:task-snooze", args=[task.lead_id, task.pk]),
        {"until": "tomorrow"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    task.refresh_from_db()
    assert task.due_at == datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert task.snooze_count == 1
    assert _task_titles(_section(client, "tasks")) == []


@time_machine.travel(NOW, tick=False)
def test_a_task_snoozed_for_an_hour_stays_on_today_without_being_overdue(client, agent):
    task = TaskFactory(lead=LeadFactory(owner=agent), due_at=NOW - timedelta(hours=1))
    client.post(reverse("leads:task-snooze", args=[task.lead_id, task.pk]), {"until": "1h"})
    response = _section(client, "tasks")
    assert _task_titles(response) == [task.title]
    assert response.context["overdue"] == 0


def test_a_bad_snooze_from_today_answers_422_with_the_message(client, agent):
    task = TaskFactory(lead=LeadFactory(owner=agent))
    response = client.post(
        reverse("leads:task-snooze", args=[task.lead_id, task.pk]),
        {"until": "forever"},
        headers={"HX-Request": "true", "HX-Target": "tasks"},
    )
    assert response.status_code == 422
    assert response.content.decode() == "Choose when to be reminded again."


def test_a_long_task_list_comes_a_page_at_a_time(client, agent):
    lead = LeadFactory(owner=agent)
    now = timezone.now()
    for minutes in range(15):
        TaskFactory(lead=lead, title=f"task {minutes:02d}", due_at=now - timedelta(minutes=minutes))
    first = _section(client, "tasks")
    assert _task_titles(first) == [f"task {minutes:02d}" for minutes in range(14, 4, -1)]
    assert first.context["pages"] == 2
    second = _section(client, "tasks", page=2)
    assert _task_titles(second) == [f"task {minutes:02d}" for minutes in range(4, -1, -1)]
    # Refreshing itself, the section stays on its page.
    assert f"{reverse('leads:today-section', args=['tasks'])}?page=2" in second.content.decode()
    assert _task_titles(_section(client, "tasks", page=9)) == _task_titles(second)


def test_many_replies_come_a_page_at_a_time(client, agent):
    now = timezone.now()
    for minutes in range(12):
        lead = LeadFactory(owner=agent, first_name=f"Texter{minutes:02d}")
        _reply(lead, "Call me", at=now - timedelta(minutes=minutes))
    first = _section(client, "replies")
    assert (len(first.context["replies"]), first.context["total"]) == (10, 12)
    second = _section(client, "replies", page=2)
    assert [row.lead.first_name for row in second.context["replies"]] == ["Texter01", "Texter00"]
    assert second.context["total"] == 12
    assert _section(client, "replies", page=5).context["total"] == 12


def _reply(lead, text, at=None):
    """A text from the lead, as the Twilio webhook hands it over."""
    return text_receive(from_number=lead.phone, body=text, received_at=at or timezone.now())


@time_machine.travel(NOW, tick=False)
def test_a_lead_who_texted_back_shows_with_the_text_until_someone_answers(client, agent):
    lead = LeadFactory(owner=agent, texting=True, first_name="Ada")
    text_receive(from_number=lead.phone, body="<b>Yes</b> please call me after 5")
    response = _section(client, "replies")
    body = response.content.decode()
    assert [reply.lead.pk for reply in response.context["replies"]] == [lead.pk]
    assert "&lt;b&gt;Yes&lt;/b&gt; please call me after 5" in body
    assert "<b>Yes</b>" not in body
    # Its reply task is not listed twice: Today shows the reply itself.
    assert _task_titles(_section(client, "tasks")) == []

    client.post(reverse("leads:lead-log", args=[lead.pk]), {"kind": "call"})
    assert _section(client, "replies").context["replies"] == []


@time_machine.travel(NOW, tick=False)
def test_replies_show_one_row_per_lead_the_longest_waiting_first(client, agent):
    early = LeadFactory(owner=agent)
    _reply(early, "Before your call", at=NOW - timedelta(days=4))
    contact_log(early, channel="call", actor=agent, occurred_at=NOW - timedelta(days=3))
    _reply(early, "Is it still for sale?", at=NOW - timedelta(hours=3))
    _reply(early, "Hello?", at=NOW - timedelta(hours=1))
    late = LeadFactory(owner=agent)
    _reply(late, "Yes, Thursday works", at=NOW - timedelta(minutes=20))
    _reply(LeadFactory(owner=AgentFactory().user), "Not yours")
    response = _section(client, "replies")
    rows = response.context["replies"]
    assert [(row.lead.pk, row.text, row.count) for row in rows] == [
        (early.pk, "Hello?", 2),
        (late.pk, "Yes, Thursday works", 1),
    ]
    body = response.content.decode()
    assert "waiting 3 h" in body and "Before your call" not in body and "Not yours" not in body


def test_a_broker_sees_every_agents_tasks_and_replies_and_whose_they_are(client):
    broker = AgentFactory(broker=True)
    alex = AgentFactory(user__first_name="Alex", user__last_name="Rivera")
    lead = LeadFactory(owner=alex.user)
    TaskFactory(lead=lead, due_at=timezone.now())
    _reply(lead, "Call me")
    client.force_login(broker.user)
    for key in ("tasks", "replies"):
        assert "Alex Rivera" in _section(client, key).content.decode()


@pytest.mark.parametrize("count", [3, 40])
def test_today_with_tasks_and_replies_runs_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, count
):
    broker = AgentFactory(broker=True)
    for _ in range(count):
        lead = LeadFactory(owner=AgentFactory().user, hot=True)
        TaskFactory(lead=lead, due_at=timezone.now() - timedelta(hours=1))
        for text in ("Call me back", "Hello?"):  # what text_receive opens for each text
            TaskFactory(lead=lead, kind=Task.Kind.REPLY, notes=text, due_at=timezone.now())
    client.force_login(broker.user)
    # 10, the alerts, the quarantine, the portal emails, the day's appointments
    with django_assert_max_num_queries(14):
        response = client.get(reverse("leads:today"))
    assert response.status_code == 200
    assert response.content.decode().count('class="list-group-item reply-row"') == min(count, 10)
    for key in ("tasks", "replies"):
        with django_assert_max_num_queries(5):
            assert _section(client, key).status_code == 200


# --- Quarantined submissions: a count on the broker's Today, one click to release -----------------


def _quarantined(**data):
    """A person the spam checks caught: complete answers, as a browser would have sent them."""
    answers = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "phone": "(413) 555-0199",
        "timeline": "within_3_months",
        "company_website": "https://grace.example",  # autofill put her website in the honeypot
        "form_token": "",
        **data,
    }
    return SubmissionFactory(
        source="giveaway", status=Submission.Status.SPAM, spam_reason="honeypot", data=answers
    )


def test_the_broker_sees_how_many_submissions_are_quarantined(broker_client):
    for _ in range(2):
        _quarantined()
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        _quarantined()  # long ago: not counted
    body = broker_client.get(reverse("leads:today")).content.decode()
    assert 'data-testid="quarantine-count">2<' in body
    assert "Grace Hopper" in body and "caught by: honeypot" in body


def test_agents_do_not_see_the_quarantine(client, agent):
    _quarantined()
    body = client.get(reverse("leads:today")).content.decode()
    assert "quarantine-count" not in body
    submission = Submission.objects.get()
    url = reverse("leads:quarantine-release", args=[submission.pk])
    assert client.post(url).status_code == 404
    assert Lead.objects.count() == 0


def test_releasing_a_quarantined_submission_creates_the_lead(broker_client, broker):
    submission = _quarantined()
    response = broker_client.post(
        reverse("leads:quarantine-release", args=[submission.pk]), follow=True
    )
    lead = Lead.objects.get()
    assert (lead.first_name, lead.source, lead.intent) == ("Grace", "giveaway", "hot")
    assert lead.owner is not None and lead.alerts.exists()  # routed like any new lead
    assert lead.messages.filter(purpose="acknowledgment").exists()
    submission.refresh_from_db()
    assert (submission.status, submission.lead) == (Submission.Status.ACCEPTED, lead)
    review = lead.events.get(kind=LeadEvent.Kind.NOTE)
    assert (review.actor, review.data["review"]) == (broker, "honeypot")
    body = response.content.decode()
    assert "Released:" in body and "Grace Hopper" in body
    assert 'data-testid="quarantine-count">0<' in body


def test_a_submission_that_cannot_become_a_lead_stays_quarantined_and_says_why(broker_client):
    submission = _quarantined(email="", phone="")
    response = broker_client.post(
        reverse("leads:quarantine-release", args=[submission.pk]), follow=True
    )
    assert Lead.objects.count() == 0
    assert "Not released" in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SPAM

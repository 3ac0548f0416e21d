from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from leads.templatetags.dashboard_tags import waited_text
from tests.factories import AgentFactory, LeadFactory, SavedFilterFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def agent(client):
    agent = AgentFactory()
    client.force_login(agent.user)
    return agent.user


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
    with django_assert_max_num_queries(8):
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

"""Two agents clicking Claim at the same instant: exactly one owns the lead (PostgreSQL)."""

import threading

import pytest
from django.db import connections

from alerts.models import Alert
from alerts.services import alert_raise
from leads.models import Lead
from realtycrm.flows.contacts import lead_claim
from tests.factories import AgentFactory, ClaimOfferFactory, LeadFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_simultaneous_claims_give_the_lead_to_exactly_one_agent():
    alex, sam = AgentFactory().user, AgentFactory().user
    lead = LeadFactory(owner=None, hot=True)
    for agent in (alex, sam):
        ClaimOfferFactory(lead=lead, agent=agent)
        alert_raise(lead, agent, Alert.Reason.CLAIM, channels=())
    start = threading.Barrier(2, timeout=10)
    won = {}

    def claim(agent):
        try:
            start.wait()
            won[agent.pk] = lead_claim(Lead.objects.get(pk=lead.pk), agent=agent)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(agent,)) for agent in (alex, sam)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert sorted(won.values()) == [False, True]
    winner = alex if won[alex.pk] else sam
    assert Lead.objects.get(pk=lead.pk).owner == winner
    assert lead.events.filter(kind="assigned", data__how="claimed").count() == 1
    assert not Alert.objects.filter(closed_at__isnull=True).exists()

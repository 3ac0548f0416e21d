"""Two agents clicking Claim at the same instant: exactly one owns the lead (PostgreSQL)."""

import pytest

from alerts.models import Alert
from alerts.services import alert_raise
from leads.models import Lead
from realtycrm.flows.contacts import lead_claim
from tests.factories import ClaimOfferFactory, LeadFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_simultaneous_claims_give_the_lead_to_exactly_one_agent(alex, sam, run_together):
    lead = LeadFactory(owner=None, hot=True)
    for agent in (alex, sam):
        ClaimOfferFactory(lead=lead, agent=agent)
        alert_raise(lead, agent, Alert.Reason.CLAIM, channels=())

    def claim(agent):
        return lead_claim(Lead.objects.get(pk=lead.pk), agent=agent)

    alex_won, sam_won = run_together(lambda: claim(alex), lambda: claim(sam))
    won = {alex.pk: alex_won, sam.pk: sam_won}

    assert sorted(won.values()) == [False, True]
    winner = alex if won[alex.pk] else sam
    assert Lead.objects.get(pk=lead.pk).owner == winner
    assert lead.events.filter(kind="assigned", data__how="claimed").count() == 1
    assert not Alert.objects.filter(closed_at__isnull=True).exists()

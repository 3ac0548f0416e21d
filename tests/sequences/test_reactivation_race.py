"""Two workers running batches of one campaign at once take different contacts (PostgreSQL:
SELECT … FOR UPDATE SKIP LOCKED), and a campaign sent twice at once is sent once."""

from functools import partial

import pytest

from leads.models import Lead
from sequences.models import CampaignRecipient, Message, ReactivationCampaign
from sequences.services.campaigns import campaign_send, campaign_send_batch
from tests.factories import ReactivationCampaignFactory
from tests.reactivation import dormant_contact

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_side_by_side_batches_queue_each_contact_once(run_together, settings):
    settings.REACTIVATION_BATCH_SIZE = 10
    for _ in range(30):
        dormant_contact()
    campaign = ReactivationCampaignFactory(sms_body="")
    ReactivationCampaign.objects.filter(pk=campaign.pk).update(status="sending")
    CampaignRecipient.objects.bulk_create(
        CampaignRecipient(campaign=campaign, lead=lead)
        for lead in Lead.objects.filter(dormant=True)
    )
    taken = run_together(*[partial(campaign_send_batch, campaign.pk, size=10)] * 3)
    assert sorted(taken) == [10, 10, 10]
    assert CampaignRecipient.objects.filter(status="queued").count() == 30
    assert Message.objects.filter(purpose="campaign").count() == 30


def test_two_clicks_on_send_at_once_send_once(run_together):
    for _ in range(5):
        dormant_contact()
    campaign = ReactivationCampaignFactory(sms_body="")
    counts = run_together(
        partial(campaign_send, campaign, actor=None), partial(campaign_send, campaign, actor=None)
    )
    assert sorted(counts) == [0, 5]
    assert CampaignRecipient.objects.count() == 5
    assert Message.objects.filter(purpose="campaign").count() == 5

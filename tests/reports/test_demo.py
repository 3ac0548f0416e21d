from datetime import timedelta
from itertools import pairwise

import pytest
import time_machine
from django.utils import timezone

from reports.demo import DEMO_CAMPAIGNS, seed_demo_campaigns
from reports.models import Campaign, CampaignSpend

pytestmark = pytest.mark.django_db


@time_machine.travel("2026-03-20 12:00 -0400", tick=False)
def test_demo_campaigns_have_spend_for_every_month_of_the_last_90_days_once():
    seed_demo_campaigns()
    seed_demo_campaigns()  # a second run changes nothing
    assert Campaign.objects.count() == len(DEMO_CAMPAIGNS)
    today = timezone.localdate()
    for campaign in Campaign.objects.all():
        spends = list(campaign.spends.order_by("starts_on"))
        assert spends[0].starts_on <= today - timedelta(days=89)
        assert spends[-1].ends_on >= today
        # Whole calendar months, back to back.
        assert all(s.starts_on.day == 1 for s in spends)
        assert all(a.ends_on + timedelta(days=1) == b.starts_on for a, b in pairwise(spends))
    assert CampaignSpend.objects.count() == len(DEMO_CAMPAIGNS) * 4  # December to March

import pytest
from django.db import IntegrityError, transaction

from tests.factories import CampaignFactory, CampaignSpendFactory

pytestmark = pytest.mark.django_db


def test_one_campaign_per_source_and_utm_campaign_whatever_the_case():
    CampaignFactory(source="valuation", utm_campaign="spring-val")
    CampaignFactory(source="giveaway", utm_campaign="spring-val")  # another source: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(source="valuation", utm_campaign="Spring-Val")


def test_a_spend_period_cannot_end_before_it_starts():
    spend = CampaignSpendFactory.build()
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignSpendFactory(
            campaign=CampaignFactory(),
            starts_on=spend.starts_on.replace(day=2),
            ends_on=spend.starts_on,
        )

import pytest
from django.db import IntegrityError, transaction

from tests.factories import CampaignFactory, CampaignSpendFactory

pytestmark = pytest.mark.django_db


def test_one_campaign_per_source_and_utm_campaign_whatever_the_case():
    CampaignFactory(source="valuation", utm_campaign="spring-val")
    CampaignFactory(source="giveaway", utm_campaign="spring-val")  # another source: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(source="valuation", utm_campaign="Spring-Val")


def test_one_campaign_per_source_origin_and_utm_campaign_whatever_the_case():
    CampaignFactory(source="", origin="Zillow", utm_campaign="")
    CampaignFactory(source="listing_ad", origin="Zillow", utm_campaign="")  # narrower: fine
    CampaignFactory(source="", origin="Zillow", utm_campaign="spring")  # one tag of it: fine
    CampaignFactory(source="valuation", origin="", utm_campaign="spring")
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(source="", origin="ZILLOW", utm_campaign="")


@pytest.mark.parametrize(
    ("source", "origin", "utm_campaign"),
    [("valuation", "", ""), ("", "", "spring"), ("", "", "")],
    ids=["a source alone", "a utm_campaign alone", "nothing"],
)
def test_a_campaign_matches_on_an_origin_or_on_a_source_and_utm_campaign(
    source, origin, utm_campaign
):
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(source=source, origin=origin, utm_campaign=utm_campaign)


def test_a_spend_period_cannot_end_before_it_starts():
    spend = CampaignSpendFactory.build()
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignSpendFactory(
            campaign=CampaignFactory(),
            starts_on=spend.starts_on.replace(day=2),
            ends_on=spend.starts_on,
        )

"""Demo campaigns and their monthly spend, matching the utm_campaign tags of the demo leads, and
the origins (Zillow, the Meta page's form) of those that came through the integrations."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from .figures import bucket_starts
from .models import Campaign, CampaignSpend

DEMO_CAMPAIGNS = [
    # name, source ("": any), origin, utm_campaign, spend per month
    ("Spring valuation ads", "valuation", "", "spring-valuation", Decimal("1200.00")),
    ("Harbor View listing ads", "listing_ad", "", "harbor-view-listing", Decimal("800.00")),
    ("Summer giveaway", "giveaway", "", "summer-giveaway", Decimal("1500.00")),
    # Paid per month for the Zillow leads, whatever they asked about: matched by origin alone.
    # (The origins of integrations.demo's Zillow inbox and Meta page; tests hold them equal.)
    ("Zillow Premier Agent", "", "Zillow", "", Decimal("1800.00")),
    (
        "Meta home-valuation lead ads",
        "",
        "Meta · Harbor & Main Realty · Home valuation form",
        "",
        Decimal("900.00"),
    ),
]


def seed_demo_campaigns(days: int = 90) -> None:
    """Three campaigns with a spend entered for each calendar month of the last `days` days."""
    today = timezone.localdate()
    months = bucket_starts(today - timedelta(days=days - 1), today, "month")
    for name, source, origin, utm_campaign, monthly in DEMO_CAMPAIGNS:
        campaign, created = Campaign.objects.get_or_create(
            source=source, origin=origin, utm_campaign=utm_campaign, defaults={"name": name}
        )
        if created:
            CampaignSpend.objects.bulk_create(
                CampaignSpend(
                    campaign=campaign,
                    starts_on=first,
                    ends_on=_month_end(first),
                    amount=monthly,
                    note="Demo spend",
                )
                for first in months
            )


def _month_end(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)

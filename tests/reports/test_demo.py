import io
from datetime import timedelta
from itertools import pairwise

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from integrations.demo import DEMO_INTEGRATIONS, IDX_SITE, META_ORIGIN, META_PAGE
from integrations.meta import origin_for
from leads.models import Channel, Integration, Lead
from reports.demo import DEMO_CAMPAIGNS, seed_demo_campaigns
from reports.models import Campaign, CampaignSpend
from reports.selectors import Scope
from reports.tables import ReportTables

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


def test_the_demo_campaigns_on_an_origin_name_origins_the_demo_integrations_give():
    origins = {campaign[2] for campaign in DEMO_CAMPAIGNS if campaign[2]}
    assert origins == {"Zillow", META_ORIGIN}
    # A portal inbox's origin is its own; a Meta lead's is "Meta · page · form" (the adapter's).
    given = {spec["origin"] for spec in DEMO_INTEGRATIONS}
    assert "Zillow" in given
    assert origin_for(META_PAGE, "Home valuation form") == META_ORIGIN
    assert META_PAGE in given


def seed(leads=100) -> str:
    out = io.StringIO()
    call_command("seed_demo", leads=leads, seed=7, stdout=out)
    return out.getvalue()


def test_the_demo_has_integrations_and_leads_from_more_than_one_channel_and_origin():
    printed = seed()
    channels = set(Lead.objects.values_list("channel", flat=True))
    assert len(channels) > 1
    assert channels == {Channel.FORM, Channel.API, Channel.EMAIL, Channel.META}
    origins = set(Lead.objects.values_list("origin", flat=True))
    assert {"Zillow", "Realtor.com", IDX_SITE, META_ORIGIN} <= origins
    meta = Lead.objects.filter(channel=Channel.META).first()
    assert meta.source == "valuation" and meta.attribution["campaign_name"]
    assert meta.utm_campaign == ""  # Meta leads carry no utm tags
    # The Zillow inbox names Alex as its default owner: its demo leads are Alex's.
    assert set(Lead.objects.filter(origin="Zillow").values_list("owner__username", flat=True)) == {
        "alex"
    }

    kinds = dict(Integration.objects.values_list("name", "kind"))
    assert sorted(kinds.values()) == ["api", "email", "email", "meta"]
    zillow = Integration.objects.get(inbox_address="zillow@leads.harborandmain.com")
    assert (zillow.origin, zillow.default_owner.username) == ("Zillow", "alex")
    page = Integration.objects.get(kind="meta")
    assert (page.default_source, page.meta_page_token) == ("valuation", "")
    # No secret is printed: the API key is kept as a hash, and told to nobody.
    api = Integration.objects.get(kind="api")
    assert api.key_hash and api.key_prefix and api.key_hash not in printed
    assert api.key_prefix not in printed
    assert "create_api_key" in printed and "zillow@leads.harborandmain.com" in printed

    # Once only, even for the integrations.
    counts = (Lead.objects.count(), Integration.objects.count(), Campaign.objects.count())
    seed()
    assert (Lead.objects.count(), Integration.objects.count(), Campaign.objects.count()) == counts


def test_the_demo_report_shows_leads_and_cost_by_origin():
    seed(leads=150)
    today = timezone.localdate()
    broker = User.objects.get(username="broker")
    table = ReportTables(broker, Scope(today - timedelta(days=89), today)).get("origins")
    rows = {
        row.values[0]: dict(zip([c.label for c in table.columns], row.values, strict=True))
        for row in table.rows
    }
    assert {"Zillow", "Realtor.com", IDX_SITE, META_ORIGIN, "No origin"} <= set(rows)
    assert rows["Zillow"]["Spend"] > 0 and rows["Zillow"]["Cost per lead"] > 0
    assert rows["Zillow"]["Campaign leads"] == rows["Zillow"]["Leads"]  # matched by origin alone
    assert rows["Realtor.com"]["Spend"] is None  # no campaign: no cost invented


def test_an_older_demo_database_gets_the_integrations_on_the_next_run():
    seed(leads=20)
    Integration.objects.all().delete()
    seed(leads=20)
    assert Integration.objects.count() == len(DEMO_INTEGRATIONS)

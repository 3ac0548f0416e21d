"""Conversion and cost by origin (the sending system or brand) and channel, beside source × intent;
campaigns that match on origin, and the most specific campaign taking a lead two campaigns match.

A hand-built March 2026 of channel leads, every figure worked out from the table below. Runs on
SQLite and on PostgreSQL alike.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from leads.models import Channel, Lead
from reports.figures import Figures
from reports.selectors import Scope, campaign_figures, origin_figures, report_leads
from reports.tables import ReportTables
from tests.factories import CampaignFactory, CampaignSpendFactory, LeadFactory

from .conftest import END, START, local

pytestmark = pytest.mark.django_db

EMAIL, API, META, FORM = Channel.EMAIL, Channel.API, Channel.META, Channel.FORM
MEDIA = "Harbor & Main Realty · Home valuation"


@dataclass(frozen=True)
class Origin:
    name: str
    origin: str
    channel: str
    source: str
    owner: str
    reached: str = ""  # contacted, appointment, client, closed (each implies the ones before)
    utm_campaign: str = ""
    day: int = 10


STEPS = ["contacted", "appointment", "client", "closed"]
LEADS = [
    Origin("z1", "Zillow", EMAIL, "listing_ad", "alex", "appointment"),
    Origin("z2", "zillow", EMAIL, "website", "sam", "contacted"),  # another spelling
    Origin("z3", "Zillow", API, "listing_ad", "alex", "closed"),  # Zillow by another channel
    Origin("z4", "Zillow", EMAIL, "website", "sam"),
    Origin("r1", "Realtor.com", EMAIL, "listing_ad", "sam", "client"),
    Origin("h1", "harborandmain.com", API, "website", "alex", "appointment"),
    Origin("h2", "harborandmain.com", API, "valuation", "sam", "contacted", "spring-val"),
    Origin("m1", MEDIA, META, "valuation", "alex", "contacted"),
    Origin("f1", "", FORM, "valuation", "alex", "closed", "Spring-Val"),
    Origin("f2", "", FORM, "giveaway", "sam"),
]
OUTSIDE = Origin("z0", "Zillow", EMAIL, "listing_ad", "alex", "closed", day=-1)


def make(spec: Origin, people) -> Lead:
    arrived = local(2026, 3, 1, 12) + timedelta(days=spec.day)
    fields = {}
    for step, milestone in enumerate(
        STEPS[: STEPS.index(spec.reached) + 1] if spec.reached else []
    ):
        column = "first_personal_contact_at" if milestone == "contacted" else f"{milestone}_at"
        fields[column] = arrived + timedelta(hours=step + 1)
    return LeadFactory(
        first_name=spec.name,
        origin=spec.origin,
        channel=spec.channel,
        source=spec.source,
        owner=people[spec.owner],
        utm_campaign=spec.utm_campaign,
        created_at=arrived,
        **fields,
    )


@pytest.fixture
def origins(people):
    return {spec.name: make(spec, people) for spec in [*LEADS, OUTSIDE]}


@pytest.fixture
def campaigns():
    """Two campaigns on Zillow (one narrowed to listing ads: it takes those), one on the IDX
    site, the spring valuation tag (it takes h2 from the IDX site's campaign: a utm_campaign
    is more specific than an origin), and a Homes.com campaign that brought nothing."""
    spend = {
        "Zillow Premier Agent": ("", "ZILLOW", "", "900"),
        "Zillow listing boost": ("listing_ad", "Zillow", "", "300"),
        "IDX site": ("", "harborandmain.com", "", "200"),
        "Spring valuation": ("valuation", "", "spring-val", "400"),
        "Homes.com trial": ("", "Homes.com", "", "100"),
    }
    made = {}
    for name, (source, origin, utm, amount) in spend.items():
        made[name] = CampaignFactory(name=name, source=source, origin=origin, utm_campaign=utm)
        CampaignSpendFactory(
            campaign=made[name], starts_on=START, ends_on=END, amount=Decimal(amount)
        )
    return made


def march(user):
    return report_leads(user, Scope(START, END))


def rates(figures: Figures) -> tuple:
    return (figures.leads, figures.contacted, figures.appointment, figures.client, figures.closed)


def test_each_lead_counts_for_its_origin_whatever_the_case_and_channel(origins, people):
    found = origin_figures(march(people["broker"]))
    assert [group.origin for group in found.origins] == [
        "Zillow",  # 4 leads: z1, z2 ("zillow"), z3 (API), z4; z0 arrived in February
        "harborandmain.com",  # 2
        MEDIA,  # 1, then by name
        "Realtor.com",  # 1
        "",  # our own forms: last
    ]
    zillow = found.origins[0]
    assert rates(zillow.figures) == (4, 3, 2, 1, 1)
    assert {channel: rates(f) for channel, f in zillow.by_channel.items()} == {
        EMAIL: (3, 2, 1, 0, 0),
        API: (1, 1, 1, 1, 1),
    }
    assert list(zillow.by_channel) == [API, EMAIL]  # in Channel order
    assert zillow.figures.appointment_rate == 0.5
    assert {channel: f.leads for channel, f in found.by_channel.items()} == {
        FORM: 2,
        API: 3,
        EMAIL: 4,
        META: 1,
    }
    assert rates(found.overall) == (10, 8, 5, 3, 2)
    assert all(group.cost is None for group in found.origins)  # no costs asked for


def test_campaigns_match_on_origin_and_the_most_specific_takes_a_lead(origins, campaigns, people):
    costs = campaign_figures(march(people["broker"]), Scope(START, END))
    results = {
        row.label: (row.spend, row.leads, row.appointments, row.closings) for row in costs.campaigns
    }
    assert results == {
        # Any source, origin "ZILLOW" matches "Zillow" and "zillow": z2 and z4; the listing ads
        # z1 and z3 go to the campaign narrowed to them.
        "Zillow Premier Agent": (Decimal("900.00"), 2, 0, 0),
        "Zillow listing boost": (Decimal("300.00"), 2, 2, 1),
        "IDX site": (Decimal("200.00"), 1, 1, 0),  # h1; h2 carries the spring tag
        "Spring valuation": (Decimal("400.00"), 2, 1, 1),  # h2 and f1, any origin
        "Homes.com trial": (Decimal("100.00"), 0, 0, 0),
    }
    # No lead is counted twice: 7 campaign leads are 7 different leads.
    assert costs.total.leads == 7
    assert [(row.label, row.leads) for row in costs.by_source] == [
        ("Home valuation funnel", 2),
        ("Listing ad", 2),
        ("Any source", 3),  # the campaigns on an origin alone, last
    ]


def test_an_origins_cost_is_its_campaigns_spend_over_their_leads(origins, campaigns, people):
    leads = march(people["broker"])
    found = origin_figures(leads, campaign_figures(leads, Scope(START, END)))
    cost = {group.origin: group.cost for group in found.origins}
    zillow = cost["Zillow"]
    assert (zillow.spend, zillow.leads, zillow.appointments) == (Decimal("1200.00"), 4, 2)
    assert (zillow.cost_per_lead, zillow.cost_per_appointment) == (
        Decimal("300.00"),
        Decimal("600.00"),
    )
    idx = cost["harborandmain.com"]
    assert (idx.spend, idx.leads, idx.cost_per_lead, idx.cost_per_appointment) == (
        Decimal("200.00"),
        1,
        Decimal("200.00"),
        Decimal("200.00"),
    )
    assert cost["Realtor.com"] is None and cost[""] is None and cost[MEDIA] is None
    # Paid for, nothing came: listed, with no leads and no cost per lead.
    homes = next(group for group in found.origins if group.origin == "Homes.com")
    assert (homes.figures, homes.by_channel, homes.cost.spend) == (
        Figures(),
        {},
        Decimal("100.00"),
    )
    assert homes.cost.cost_per_lead is None
    assert (found.cost.spend, found.cost.leads) == (Decimal("1500.00"), 5)


def test_an_agents_origins_are_their_own_leads(origins, people):
    found = origin_figures(march(people["alex"]))
    assert {group.origin: group.figures.leads for group in found.origins} == {
        "Zillow": 2,
        "harborandmain.com": 1,
        MEDIA: 1,
        "": 1,
    }


def test_the_origin_table_takes_one_query_and_the_costs_three(
    origins, campaigns, people, django_assert_num_queries
):
    leads = march(people["broker"])
    with django_assert_num_queries(3):  # campaigns, their spend in the range, their results
        costs = campaign_figures(leads, Scope(START, END))
    with django_assert_num_queries(1):
        origin_figures(leads, costs)


def test_the_table_rows_a_broker_sees(origins, campaigns, people):
    table = ReportTables(people["broker"], Scope(START, END)).get("origins")
    assert table.title == "Conversion and cost by origin"
    assert [column.label for column in table.columns] == [
        "Origin",
        "Channel",
        "Leads",
        "% contacted",
        "% appointment",
        "% client",
        "% closed",
        "Spend",
        "Campaign leads",
        "Cost per lead",
        "Cost per appointment",
    ]
    rows = [(row.values[0], row.values[1], row.values[2], row.total) for row in table.rows]
    assert rows == [
        ("Zillow", "All channels", 4, True),
        ("Zillow", "Events API", 1, False),
        ("Zillow", "Portal email", 3, False),
        ("harborandmain.com", "Events API", 2, False),
        (MEDIA, "Meta lead ads", 1, False),
        ("Realtor.com", "Portal email", 1, False),
        ("Homes.com", "", 0, True),
        ("No origin", "Hosted form", 2, False),
        ("All origins", "Hosted form", 2, True),
        ("All origins", "Events API", 3, True),
        ("All origins", "Portal email", 4, True),
        ("All origins", "Meta lead ads", 1, True),
        ("All origins", "All channels", 10, True),
    ]
    zillow, api_only = table.rows[0].values, table.rows[1].values
    assert zillow[7:] == [Decimal("1200.00"), 4, Decimal("300.00"), Decimal("600.00")]
    assert api_only[7:] == [None, None, None, None]  # spend is the origin's, not a channel's
    assert all(row.too_few for row in table.rows)  # fewer than 20 leads each


def test_agents_see_conversion_by_origin_without_spend(origins, campaigns, people, client):
    client.force_login(people["alex"])
    response = client.get(
        reverse("reports:segment-report-csv", args=["origins"]),
        {"start": START.isoformat(), "end": END.isoformat()},
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert "Spend" not in rows[0] and "Cost per lead" not in rows[0]
    assert rows[-1]["Leads"] == str(sum(spec.owner == "alex" for spec in LEADS))
    html = client.get(
        reverse("reports:segment-report"), {"start": START.isoformat(), "end": END.isoformat()}
    ).content.decode()
    assert "Conversion by origin" in html and "harborandmain.com" in html
    assert "Realtor.com" not in html  # Sam's lead


def test_the_broker_downloads_the_origin_table_in_spreadsheet_units(
    origins, campaigns, people, client
):
    client.force_login(people["broker"])
    response = client.get(
        reverse("reports:segment-report-csv", args=["origins"]),
        {"start": START.isoformat(), "end": END.isoformat()},
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    zillow = rows[0]
    assert (zillow["Origin"], zillow["Channel"], zillow["Leads"]) == ("Zillow", "All channels", "4")
    assert zillow["% appointment"] == "50.0"
    assert (zillow["Spend"], zillow["Cost per lead"], zillow["Cost per appointment"]) == (
        "1200.00",
        "300.00",
        "600.00",
    )
    assert rows[-1]["Spend"] == "1500.00"


def test_an_origin_typed_as_a_formula_is_defused_in_the_csv(people, client):
    LeadFactory(origin='=HYPERLINK("http://x")', channel=API, created_at=local(2026, 3, 5, 9))
    client.force_login(people["broker"])
    response = client.get(
        reverse("reports:segment-report-csv", args=["origins"]),
        {"start": START.isoformat(), "end": END.isoformat()},
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["Origin"] == '\'=HYPERLINK("http://x")'


def test_a_range_without_leads_or_campaigns_has_only_the_total(people):
    table = ReportTables(people["broker"], Scope(date(2025, 1, 1), date(2025, 1, 31))).get(
        "origins"
    )
    assert [(row.values[0], row.values[1], row.values[2]) for row in table.rows] == [
        ("All origins", "All channels", 0)
    ]

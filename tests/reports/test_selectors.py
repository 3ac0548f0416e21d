"""Every figure of the report, on the hand-built month in conftest.py.

Expected values are worked out here from the fixture's table with plain Python (counting, and
percentile_cont's textbook definition), and a few are also written out by hand, so neither the
oracle nor the database can be wrong on its own. Runs on SQLite and on PostgreSQL alike.
"""

import math
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Count

from reports.figures import Figures
from reports.selectors import (
    Scope,
    agent_figures,
    campaign_figures,
    report_leads,
    segment_figures,
    track_figures,
    trend_figures,
)
from reports.sql import cube_rows
from tests.factories import CampaignFactory, CampaignSpendFactory

from .conftest import END, LEADS, MILESTONES, START, TRACK_FOR

pytestmark = pytest.mark.django_db


def percentile_cont(values, fraction):
    """PostgreSQL's definition: interpolate between the two values around fraction*(n-1)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def reached(spec, milestone):
    return bool(spec.reached) and MILESTONES.index(spec.reached) >= MILESTONES.index(milestone)


def expected(specs) -> Figures:
    personal = [s.contact_minutes * 60 for s in specs if s.contact_minutes is not None]
    automated = [s.ack_seconds for s in specs if s.ack_seconds is not None]
    hot = [s for s in specs if s.intent == "hot"]
    return Figures(
        leads=len(specs),
        contacted=len(personal),
        engaged=sum(reached(s, "engaged") for s in specs),
        appointment=sum(reached(s, "appointment") for s in specs),
        client=sum(reached(s, "client") for s in specs),
        closed=sum(reached(s, "closed") for s in specs),
        lost=sum(s.lost for s in specs),
        opted_out=sum(bool(s.opted_out) for s in specs),
        acknowledged=len(automated),
        hot=len(hot),
        hot_within_5=sum(s.contact_minutes is not None and s.contact_minutes <= 5 for s in hot),
        hot_within_60=sum(s.contact_minutes is not None and s.contact_minutes <= 60 for s in hot),
        personal_p50=percentile_cont(personal, 0.5),
        personal_p90=percentile_cont(personal, 0.9),
        automated_p50=percentile_cont(automated, 0.5),
        automated_p90=percentile_cont(automated, 0.9),
    )


def assert_figures(actual: Figures, wanted: Figures):
    for name, value in vars(wanted).items():
        got = getattr(actual, name)
        if isinstance(value, float):
            assert got == pytest.approx(value, abs=1e-3), name
        else:
            assert got == value, name


@pytest.fixture
def march(month, people):
    return report_leads(people["broker"], Scope(START, END))


def test_the_oracle_agrees_with_figures_worked_out_by_hand():
    assert percentile_cont([120, 300, 1800, 5400], 0.5) == 1050  # 300 + (1800 - 300) / 2
    assert percentile_cont([120, 300, 1800, 5400], 0.9) == pytest.approx(4320)  # 1800 + .7 × 3600
    assert percentile_cont([42], 0.9) == 42
    overall = expected(LEADS)
    assert (overall.leads, overall.contacted, overall.appointment, overall.closed) == (11, 7, 3, 1)
    assert (overall.hot, overall.hot_within_5, overall.hot_within_60) == (6, 2, 4)


def test_the_cohort_is_the_leads_that_arrived_in_the_range_both_days_included(march, month):
    names = set(march.values_list("first_name", flat=True))
    assert names == {spec.name for spec in LEADS}
    assert "before" not in names and "after" not in names


def test_every_cell_of_the_matrix(march):
    cells = segment_figures(march).cells
    keys = {(spec.source, spec.intent) for spec in LEADS}
    assert set(cells) == keys
    for source, intent in keys:
        specs = [s for s in LEADS if (s.source, s.intent) == (source, intent)]
        assert_figures(cells[(source, intent)], expected(specs))


def test_valuation_hot_cell_worked_by_hand(march):
    cell = segment_figures(march).cells[("valuation", "hot")]
    assert (cell.leads, cell.contacted, cell.engaged, cell.appointment, cell.closed) == (
        4,
        4,
        3,
        2,
        1,
    )
    assert cell.personal_p50 == pytest.approx(1050)  # contacts after 2, 5, 30 and 90 minutes
    assert cell.personal_p90 == pytest.approx(4320)
    assert cell.automated_p50 == pytest.approx(30)  # 10, 30, 60 s; v4 never acknowledged
    assert cell.automated_p90 == pytest.approx(54)  # 30 + 0.8 × 30
    # Exactly five minutes counts as within five minutes.
    assert (cell.hot_within_5, cell.hot_within_60) == (2, 3)
    assert cell.lost_rate == 0.25


def test_blended_totals_per_source_per_intent_and_overall(march):
    figures = segment_figures(march)
    for source in {s.source for s in LEADS}:
        assert_figures(
            figures.by_source[source], expected([s for s in LEADS if s.source == source])
        )
    for intent in {s.intent for s in LEADS}:
        assert_figures(
            figures.by_intent[intent], expected([s for s in LEADS if s.intent == intent])
        )
    assert_figures(figures.overall, expected(LEADS))
    # Medians do not add up: the overall one is the median of all contacts, not of the cells'.
    assert figures.overall.personal_p50 == pytest.approx(1800)


def test_rates_and_too_few_marks(march):
    overall = segment_figures(march).overall
    assert overall.contacted_rate == pytest.approx(7 / 11)
    assert overall.opted_out_rate == pytest.approx(2 / 11)
    assert overall.hot_within_5_rate == pytest.approx(2 / 6)
    assert overall.too_few  # 11 leads < 20


def test_speed_and_leaderboard_figures_by_agent(march, people):
    rows = agent_figures(march)
    assert [row.label for row in rows] == ["Alex Rivera", "Sam Chen", "Unassigned"]
    by_owner = {"alex": rows[0], "sam": rows[1], None: rows[2]}
    for owner, row in by_owner.items():
        assert_figures(row.figures, expected([s for s in LEADS if s.owner == owner]))


def test_conversion_by_track(march):
    rows = {row.key: row.figures for row in track_figures(march)}
    assert set(rows) == {"hot_seller", "homeowner_market_90", "long_term_local", None}
    for key, figures in rows.items():
        specs = (
            [s for s in LEADS if s.owner and TRACK_FOR[s.intent] == key]
            if key
            else [s for s in LEADS if not s.owner]
        )
        wanted = expected(specs)
        assert (
            figures.leads,
            figures.engaged,
            figures.appointment,
            figures.closed,
            figures.lost,
        ) == (
            wanted.leads,
            wanted.engaged,
            wanted.appointment,
            wanted.closed,
            wanted.lost,
        )


def test_trend_by_week_and_by_month(march):
    weeks = trend_figures(march, Scope(START, END, grain="week"))
    assert weeks[0][0] == date(2026, 2, 23)  # the Monday of the week holding 1 March
    assert [start.weekday() for start, _ in weeks] == [0] * len(weeks)
    for start, figures in weeks:
        specs = [s for s in LEADS if start <= s.arrived.date() < start + timedelta(days=7)]
        assert (figures.leads, figures.contacted, figures.appointment) == (
            len(specs),
            expected(specs).contacted,
            expected(specs).appointment,
        )
    months = trend_figures(march, Scope(START, END, grain="month"))
    assert [(start, figures.leads) for start, figures in months] == [(date(2026, 3, 1), 11)]


def test_an_empty_range_gives_empty_figures(month, people):
    leads = report_leads(people["broker"], Scope(date(2025, 1, 1), date(2025, 1, 31)))
    figures = segment_figures(leads)
    assert figures.overall == Figures()
    assert figures.overall.contacted_rate is None and figures.cells == {}


def test_cost_per_result_by_campaign_and_source(march):
    valuation = CampaignFactory(
        name="Spring valuation", source="valuation", utm_campaign="spring-val"
    )
    # 300 over 15 Feb..16 Mar (30 days): 16 of them in March → 160.00; plus 620 for March.
    CampaignSpendFactory(
        campaign=valuation,
        starts_on=date(2026, 2, 15),
        ends_on=date(2026, 3, 16),
        amount=Decimal("300"),
    )
    CampaignSpendFactory(campaign=valuation, starts_on=START, ends_on=END, amount=Decimal("620"))
    giveaway = CampaignFactory(name="Giveaway", source="giveaway", utm_campaign="summer")
    CampaignSpendFactory(campaign=giveaway, starts_on=date(2026, 4, 1), ends_on=date(2026, 4, 30))

    costs = campaign_figures(march, Scope(START, END))
    rows = {row.label: row for row in costs.campaigns}
    spring = rows["Spring valuation"]
    # v1, v2 and v5 (any case); g1 has the tag but came through the giveaway form.
    assert (spring.spend, spring.leads, spring.appointments, spring.closings) == (
        Decimal("780.00"),
        3,
        2,
        1,
    )
    assert (spring.cost_per_lead, spring.cost_per_appointment, spring.cost_per_closing) == (
        Decimal("260.00"),
        Decimal("390.00"),
        Decimal("780.00"),
    )
    nothing = rows["Giveaway"]
    assert (nothing.spend, nothing.leads, nothing.cost_per_lead) == (Decimal("0.00"), 0, None)
    assert [(row.label, row.spend, row.leads) for row in costs.by_source] == [
        ("Home valuation funnel", Decimal("780.00"), 3),
        ("Giveaway", Decimal("0.00"), 0),
    ]
    assert (costs.total.spend, costs.total.leads, costs.total.closings) == (Decimal("780.00"), 3, 1)


def test_an_agents_report_holds_their_own_leads_only(month, people):
    figures = segment_figures(report_leads(people["alex"], Scope(START, END)))
    assert_figures(figures.overall, expected([s for s in LEADS if s.owner == "alex"]))


def test_a_broker_can_narrow_the_report_to_one_agent(month, people):
    leads = report_leads(people["broker"], Scope(START, END, agent=people["sam"]))
    assert_figures(segment_figures(leads).overall, expected([s for s in LEADS if s.owner == "sam"]))


def test_the_one_statement_matrix_declines_sql_it_does_not_recognise(march):
    # Sorted, the query no longer ends in GROUP BY 1, 2: cube_rows must not guess.
    grouped = march.values("source", "intent").annotate(leads=Count("pk")).order_by("source")
    assert cube_rows(grouped, ["source", "intent"]) is None

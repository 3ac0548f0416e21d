"""The report page, its CSV exports and its admin page, as brokers, agents and strangers see them."""

import csv
import io

import pytest
from django.urls import reverse

from tests.factories import AgentFactory, CampaignFactory, CampaignSpendFactory, LeadFactory

from .conftest import END, LEADS, START

pytestmark = pytest.mark.django_db

MARCH = {"start": START.isoformat(), "end": END.isoformat()}
REPORT = reverse("reports:segment-report")


def export(client, table, **params):
    return client.get(reverse("reports:segment-report-csv", args=[table]), {**MARCH, **params})


def rows_of(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_strangers_are_sent_to_sign_in(client):
    response = client.get(REPORT)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert export(client, "segments").status_code == 302


def test_a_broker_sees_the_matrix_with_blended_totals_and_the_definitions(client, month, people):
    client.force_login(people["broker"])
    response = client.get(REPORT, MARCH)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Conversion by source × intent" in html
    assert "All sources" in html and "All intents" in html
    assert "A lead counts in the period it arrived" in html  # the cohort rule, on the page
    assert "Automated messages never count as contact" in html
    assert "Fewer than 20 leads" in html  # every row here is too small to compare
    assert 'id="trend-chart"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert "Cost per result by campaign" in html


def test_the_report_page_makes_the_same_few_queries_however_many_leads(
    client, month, people, django_assert_max_num_queries
):
    client.force_login(people["broker"])
    CampaignSpendFactory(campaign=CampaignFactory(utm_campaign="spring-val"), starts_on=START)
    with django_assert_max_num_queries(30) as few:
        client.get(REPORT, MARCH)
    # More leads, agents, segments and tracks: not one query more.
    arrived = month["v3"].created_at
    for agent in AgentFactory.create_batch(3):
        LeadFactory.create_batch(5, owner=agent.user, created_at=arrived, source="website")
    LeadFactory.create_batch(10, created_at=arrived, hot=True, source="open_house")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(REPORT, MARCH)


def test_an_agent_sees_their_own_leads_only_and_no_agent_filter_or_cost(client, month, people):
    client.force_login(people["alex"])
    response = client.get(REPORT, {**MARCH, "agent": people["sam"].pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="agent"' not in html
    assert "Cost per result by campaign" not in html
    rows = rows_of(export(client, "segments", agent=people["sam"].pk))
    overall = rows[-1]
    assert (overall["Source"], overall["Intent"]) == ("All sources", "All intents")
    assert int(overall["Leads"]) == sum(spec.owner == "alex" for spec in LEADS)
    assert export(client, "campaigns").status_code == 404


def test_a_broker_narrows_to_one_agent(client, month, people):
    client.force_login(people["broker"])
    rows = rows_of(export(client, "speed-agents", agent=people["sam"].pk))
    assert [row["Agent"] for row in rows] == ["Sam Chen", "All leads"]
    assert int(rows[0]["Leads"]) == sum(spec.owner == "sam" for spec in LEADS)


def test_every_table_exports_as_csv(client, month, people):
    client.force_login(people["broker"])
    for table in [
        "segments",
        "speed-segments",
        "speed-agents",
        "leaderboard",
        "tracks",
        "trend",
        "campaigns",
        "campaign-sources",
    ]:
        response = export(client, table)
        assert response.status_code == 200, table
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert f"realtycrm-{table}-2026-03-01-to-2026-03-31.csv" in response["Content-Disposition"]
        assert rows_of(response) or table.startswith("campaign"), table


def test_the_segments_csv_holds_the_figures_in_spreadsheet_units(client, month, people):
    client.force_login(people["broker"])
    rows = rows_of(export(client, "segments"))
    valuation_hot = next(
        r for r in rows if (r["Source"], r["Intent"]) == ("Home valuation funnel", "Hot")
    )
    assert valuation_hot["Leads"] == "4"
    assert valuation_hot["% contacted"] == "100.0"
    assert valuation_hot["Median to contact (minutes)"] == "17.5"  # 1,050 s
    assert valuation_hot["% closed"] == "25.0"
    assert valuation_hot["Too few leads"] == "yes"
    giveaway_long = next(r for r in rows if (r["Source"], r["Intent"]) == ("Giveaway", "Long-term"))
    assert giveaway_long["% contacted"] == "33.3"


def test_campaign_names_cannot_smuggle_a_formula_into_the_csv(client, month, people):
    client.force_login(people["broker"])
    CampaignFactory(name="=cmd|' /C calc'!A0", utm_campaign="spring-val")
    rows = rows_of(export(client, "campaigns"))
    assert rows[0]["Campaign"] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-03-31", "end": "2026-03-01"}, "The end date is before the start date"),
        ({"start": "2026-13-01"}, "Enter a valid date."),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "Pick a range of at most 1098 days"),
        ({"grain": "decade"}, "Select a valid choice."),
        ({"start": "9999-12-30", "end": "9999-12-31"}, "Pick a date from 1 January 2000"),
        ({"start": "0001-01-01", "end": "0001-01-02"}, "Pick a date from 1 January 2000"),
    ],
)
def test_bad_filters_answer_with_a_clear_message_never_an_error_page(
    client, people, params, message
):
    client.force_login(people["broker"])
    response = client.get(REPORT, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    exported = client.get(reverse("reports:segment-report-csv", args=["segments"]), params)
    assert exported.status_code == 400 and message in exported.content.decode()


def test_a_broker_cannot_pick_someone_who_is_not_an_agent(client, people):
    client.force_login(people["broker"])
    stranger = LeadFactory().pk + 10_000
    response = client.get(REPORT, {"agent": stranger})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_an_unknown_table_is_not_found(client, people):
    client.force_login(people["broker"])
    assert export(client, "passwords").status_code == 404


def test_the_nav_links_to_the_report(client, people):
    client.force_login(people["alex"])
    assert f'href="{REPORT}"' in client.get(REPORT).content.decode()

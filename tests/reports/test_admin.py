"""The segment report in the Django admin, linked from the Lead changelist; campaigns and spend."""

from datetime import date

import pytest
from django.urls import reverse

from reports.models import Campaign

from .conftest import END, LEADS, START

pytestmark = pytest.mark.django_db

ADMIN_REPORT = reverse("admin:reports_segmentreport_changelist")


def test_the_lead_changelist_links_to_the_report(broker_client):
    html = broker_client.get(reverse("admin:leads_lead_changelist")).content.decode()
    assert f'href="{ADMIN_REPORT}"' in html


def test_the_admin_report_shows_the_same_figures(broker_client, month):
    response = broker_client.get(ADMIN_REPORT, {"start": START.isoformat(), "end": END.isoformat()})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Conversion by source × intent" in html and "What the numbers mean" in html
    assert f"<strong>{len(LEADS)}</strong> leads" in html
    assert "Segment report" in broker_client.get(reverse("admin:index")).content.decode()


def test_the_admin_report_answers_bad_dates_with_a_message(broker_client):
    response = broker_client.get(ADMIN_REPORT, {"start": "2026-03-31", "end": "2026-03-01"})
    assert response.status_code == 400
    assert "The end date is before the start date" in response.content.decode()


def test_only_staff_reach_the_admin_report(client, people):
    client.force_login(people["alex"])  # an agent without admin access
    response = client.get(ADMIN_REPORT)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_a_staff_agent_sees_only_their_own_leads_there(client, month, people):
    alex = people["alex"]
    alex.is_staff = True
    alex.save()
    client.force_login(alex)
    html = client.get(
        ADMIN_REPORT, {"start": START.isoformat(), "end": END.isoformat()}
    ).content.decode()
    assert f"<strong>{sum(s.owner == 'alex' for s in LEADS)}</strong> leads" in html


def test_a_broker_enters_a_campaign_with_its_spend(broker_client):
    response = broker_client.post(
        reverse("admin:reports_campaign_add"),
        {
            "name": "Spring valuation",
            "source": "valuation",
            "utm_campaign": "spring-val",
            "spends-TOTAL_FORMS": "1",
            "spends-INITIAL_FORMS": "0",
            "spends-0-starts_on": "2026-03-01",
            "spends-0-ends_on": "2026-03-31",
            "spends-0-amount": "620.00",
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert [(s.starts_on, s.amount) for s in campaign.spends.all()] == [(date(2026, 3, 1), 620)]
    listing = broker_client.get(reverse("admin:reports_campaign_changelist")).content.decode()
    assert "$620" in listing


def _campaign_form(**fields):
    return {
        "name": "Zillow Premier Agent",
        "source": "",
        "origin": "Zillow",
        "utm_campaign": "",
        "spends-TOTAL_FORMS": "0",
        "spends-INITIAL_FORMS": "0",
        **fields,
    }


def test_a_broker_enters_a_campaign_on_an_origin_alone(broker_client):
    response = broker_client.post(reverse("admin:reports_campaign_add"), _campaign_form())
    assert response.status_code == 302
    assert Campaign.objects.get().origin == "Zillow"
    listing = broker_client.get(reverse("admin:reports_campaign_changelist")).content.decode()
    assert "Zillow" in listing and "Any source" in listing


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"origin": "", "source": "valuation"}, "Give the campaign an origin, or a source and a"),
        ({"origin": "ZILLOW"}, "A campaign with this source, origin and utm_campaign already"),
    ],
)
def test_a_campaign_that_matches_nothing_or_twice_is_refused_with_a_message(
    broker_client, fields, message
):
    broker_client.post(reverse("admin:reports_campaign_add"), _campaign_form())
    response = broker_client.post(
        reverse("admin:reports_campaign_add"), _campaign_form(name="Another", **fields)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Campaign.objects.count() == 1


def test_no_one_adds_or_deletes_a_segment_report(broker_client):
    assert broker_client.get(ADMIN_REPORT + "add/").status_code == 404
    assert broker_client.get(ADMIN_REPORT + "1/delete/").status_code == 404

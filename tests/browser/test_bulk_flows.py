"""A broker reassigns a filtered list in a real browser: tick the page, "select all N matching
this filter", choose the new owner, confirm, and every matching lead (on every page) is the
other agent's, each with its timeline event. A big selection runs in the background: the job's
page polls its progress while the test plays the django-q2 worker, a chunk at a time.

UPDATE_SCREENSHOTS=1 also saves the screenshot docs/dashboard.md shows.
"""

import os
from pathlib import Path

import pytest

from leads.models import BulkJob, Lead, LeadEvent
from realtycrm.flows import bulk as bulk_flow
from tests.factories import PASSWORD, LeadFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DOCS = Path(__file__).resolve().parents[2] / "docs"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"


@pytest.fixture
def leads(alex):
    """27 giveaway leads of Alex's (more than one page of 25) and 3 others."""
    giveaway = [
        LeadFactory(
            owner=alex,
            source=Lead.Source.GIVEAWAY,
            first_name=f"Giveaway{index:02d}",
            last_name="Entrant",
        )
        for index in range(27)
    ]
    others = [LeadFactory(owner=alex, source=Lead.Source.VALUATION) for _ in range(3)]
    return giveaway, others


def sign_in(page, base_url, username="morgan"):
    page.goto(f"{base_url}/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def select_all_giveaway_leads(page, base_url):
    page.goto(f"{base_url}/leads/")
    page.select_option("#id_source", "giveaway")
    page.click("#filter-form button[type=submit]")
    page.wait_for_url("**/leads/?*source=giveaway*")
    assert page.inner_text("[data-testid=result-count]") == "27 leads"
    assert not page.is_visible("#bulk-controls")  # nothing ticked: no actions yet
    page.check("[data-testid=bulk-page]")
    assert page.inner_text("[data-testid=bulk-count]") == "25 selected"
    page.click("[data-testid=bulk-select-all]")  # Gmail's banner: every page, not just this one
    assert page.inner_text("[data-testid=bulk-count]") == (
        "All 27 leads matching this filter are selected."
    )
    page.select_option("[data-testid=bulk-action]", "reassign")
    assert page.is_visible("[data-testid=bulk-owner]")
    assert not page.is_visible("[data-testid=bulk-tag]")  # only the chosen action's fields
    page.select_option("[data-testid=bulk-owner]", label="Sam Chen")


def test_a_broker_reassigns_every_lead_matching_a_filter(page, live_server, broker, sam, leads):
    giveaway, others = leads
    sign_in(page, live_server.url)
    select_all_giveaway_leads(page, live_server.url)
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    if UPDATE_SCREENSHOTS:
        page.screenshot(path=str(DOCS / "bulk-actions.png"), full_page=False)
    page.click("[data-testid=bulk-apply]")
    page.wait_for_selector("text=Bulk: Reassign to Sam Chen: 27 leads changed.")
    assert asked == ["Reassign to Sam Chen: all 27 leads matching this filter?"]
    assert "source=giveaway" in page.url  # back on the same filtered list
    assert {lead.owner for lead in Lead.objects.filter(pk__in=[g.pk for g in giveaway])} == {sam}
    assert {lead.owner.username for lead in Lead.objects.filter(pk__in=[o.pk for o in others])} == {
        "alex"
    }
    events = LeadEvent.objects.filter(kind=LeadEvent.Kind.REASSIGNED, data__has_key="bulk")
    assert events.count() == 27
    assert set(events.values_list("summary", flat=True)) == {
        "Bulk: Reassigned to Sam Chen from Alex Rivera: by Morgan Blake"
    }


def test_a_big_reassign_runs_in_the_background_and_the_page_follows_it(
    page, live_server, broker, sam, leads, settings, monkeypatch
):
    settings.BULK_SYNC_LIMIT = 5
    settings.BULK_CHUNK_SIZE = 10
    monkeypatch.setattr(bulk_flow, "bulk_job_queue", lambda pk: None)  # the test is the worker
    giveaway, _others = leads
    sign_in(page, live_server.url)
    select_all_giveaway_leads(page, live_server.url)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=bulk-apply]")
    page.wait_for_selector("[data-testid=bulk-progress]")
    assert page.inner_text("[data-testid=bulk-counts]") == "0 of 27 leads"
    job = BulkJob.objects.get()

    bulk_flow.bulk_job_work(job.pk, budget_seconds=0)  # one chunk: ten leads
    page.wait_for_selector("text=10 of 27 leads")  # the page polled its progress
    assert page.get_attribute("progress.bulk-progress", "value") == "37"
    page.click("text=← Leads")  # leave, and come back from the list
    assert "10 of 27 leads so far" in page.inner_text("[data-testid=bulk-job-running]")
    while bulk_flow.bulk_job_work(job.pk, budget_seconds=0):
        pass
    page.click("[data-testid=bulk-job-running] >> text=See its progress")
    page.wait_for_selector("[data-testid=bulk-done]")
    assert "Bulk: Reassign to Sam Chen: 27 leads changed." in page.inner_text(
        "[data-testid=bulk-done]"
    )
    assert {lead.owner for lead in Lead.objects.filter(pk__in=[g.pk for g in giveaway])} == {sam}

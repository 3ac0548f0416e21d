"""A broker imports an old database in a real browser: upload → map (a guess corrected) → dry run
→ import with the progress bar → report. The test plays the django-q2 worker, a chunk at a time
(conftest's import_worker), so the page is seen polling its progress bar between chunks.

UPDATE_SCREENSHOTS=1 also saves the screenshots docs/database.md shows.
"""

import csv
import os
from pathlib import Path

import pytest

from leads.models import ImportBatch, Lead
from tests.factories import PASSWORD, LeadFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DOCS = Path(__file__).resolve().parents[2] / "docs"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"
HEADER = ["Contact", "E-mail", "Cell Phone", "Home", "Zip Code", "Type", "Last Contacted", "Notes"]
ROWS = [
    [
        "Okafor, Maya",
        "maya@example.com",
        "(413) 555-0187",
        "48 Harbor View Drive",
        "01103",
        "Past Client",
        "03/15/2023",
        "Sold 48 Harbor View in 2019",
    ],
    [
        "Liam Kowalski",
        "liam@example.com",
        "413.555.0142",
        "12 Chestnut Lane",
        "01108",
        "SOI",
        "2024-01-05",
        "",
    ],
    ["Sofia García", "sofia@example", "", "", "", "Lead", "", ""],
    [
        "Noah Patel",
        "noah@example.com",
        "",
        "7 Mill Pond Way",
        "01109",
        "Old lead",
        "11/02/2022",
        "Asked about schools",
    ],
    ["Emma Lefebvre", "emma@example.com", "", "", "", "", "", ""],
    ["Maya O.", "MAYA@example.com", "", "", "", "", "", ""],
]


def shoot(page, name):
    if UPDATE_SCREENSHOTS:
        page.screenshot(path=str(DOCS / name), full_page=True)


def test_a_broker_imports_an_old_database(page, live_server, broker, alex, import_worker, tmp_path):
    LeadFactory(first_name="Emma", last_name="Lefebvre", email="emma@example.com", owner=alex)
    path = tmp_path / "old-crm-export.csv"
    with path.open("w", newline="") as out:
        csv.writer(out).writerows([HEADER, *ROWS])

    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "morgan")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=Import")
    page.set_input_files("#id_file", str(path))
    page.click("[data-testid=upload-form] button[type=submit]")

    page.wait_for_selector("[data-testid=mapping-form]")
    assert page.input_value("tr[data-header='E-mail'] select") == "email"
    assert page.input_value("tr[data-header='Contact'] select") == "full_name"
    assert page.input_value("tr[data-header='Home'] select") == ""  # not a header we know
    page.select_option("tr[data-header='Home'] select", "property_address")  # the correction
    page.select_option("#id_owner", label="Alex Rivera")
    shoot(page, "import-mapping.png")
    page.click("[data-testid=mapping-form] button[type=submit]")

    batch = ImportBatch.objects.get()
    page.wait_for_selector("[data-testid=import-progress]")
    assert "Dry run in progress" in page.inner_text("[data-testid=progress-status]")
    import_worker(batch.pk)  # rows 2-3
    page.wait_for_selector("text=2 of 6 rows")
    while import_worker(batch.pk):
        pass
    page.wait_for_selector("[data-testid=dry-run]")  # the page reloaded itself
    assert page.inner_text("[data-testid=count-new]") == "3"
    assert page.inner_text("[data-testid=count-match]") == "1"
    assert page.inner_text("[data-testid=count-duplicate]") == "1"
    assert page.inner_text("[data-testid=count-error]") == "1"
    assert "Email “sofia@example” is not a valid address" in page.inner_text("[data-testid=rows]")
    assert Lead.objects.count() == 1  # a dry run writes nothing
    shoot(page, "import-dry-run.png")

    page.click("[data-testid=start-import]")
    page.wait_for_selector("[data-testid=import-progress]")
    assert "Waiting for a worker" in page.inner_text("[data-testid=progress-status]")
    import_worker(batch.pk)
    page.wait_for_selector("text=2 of 6 rows")
    assert page.get_attribute("progress.import-progress", "value") == "33"
    while import_worker(batch.pk):
        pass
    page.wait_for_selector("[data-testid=report]")
    assert page.inner_text("[data-testid=report-counts]") == (
        "3 created, 0 updated, 2 skipped, 1 errors"
    )
    assert page.is_visible("[data-testid=failed-csv]") and page.is_visible("[data-testid=undo]")
    maya = Lead.objects.get(email="maya@example.com")
    assert (maya.first_name, maya.last_name, maya.property_address) == (
        "Maya",
        "Okafor",
        "48 Harbor View Drive",
    )
    assert maya.dormant and maya.owner == alex and maya.relationship == "past_client"

    page.click("nav >> text=Leads")
    page.select_option("#id_dormant", "true")
    page.click("#filter-form button[type=submit]")
    page.wait_for_url("**/leads/?*dormant=true*")
    assert page.inner_text("[data-testid=result-count]") == "3 leads"

"""The import pages: brokers only, clear errors for a file we cannot take, the mapping shown and
corrected, the dry run's rows, the import in the background with its progress, the report, the
failed rows as CSV, and undo."""

import csv
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from leads.imports import services as imports
from leads.models import ImportBatch, Lead
from realtycrm.flows.contacts import contact_log
from realtycrm.flows.imports import batch_run_here
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def csv_file(rows, header=("Name", "E-mail", "Mobile", "Type"), name="contacts.csv"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


ROWS = [
    ["Ann Lee", "ann@example.com", "413-555-0101", "Past client"],
    ["Bob Stone", "not-an-email", "", ""],
    ["Ann again", "ANN@example.com", "", ""],
]


def upload(client, file=None):
    return client.post(reverse("leads:import-upload"), {"file": file or csv_file(ROWS)})


def test_agents_are_refused_every_import_page(client, agent, broker):
    batch = ImportBatch.objects.create(file_name="x.csv", file_type="csv", content=b"Email\n")
    pages = [reverse("leads:import-upload")] + [
        reverse(f"leads:import-{name}", args=[batch.pk])
        for name in ("detail", "map", "progress", "failed")
    ]
    for url in pages:
        assert client.get(url).status_code == 403, url
    for name in ("start", "undo", "retry"):
        assert client.post(reverse(f"leads:import-{name}", args=[batch.pk])).status_code == 403
    assert upload(client).status_code == 403
    assert not ImportBatch.objects.exclude(pk=batch.pk).exists()


def test_signed_out_goes_to_the_sign_in_page(client):
    response = client.get(reverse("leads:import-upload"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_nav_links_the_import_for_brokers_only(client, alex, broker):
    client.force_login(broker)
    assert reverse("leads:import-upload") in client.get(reverse("leads:today")).content.decode()
    client.force_login(alex)
    assert reverse("leads:import-upload") not in client.get(reverse("leads:today")).content.decode()


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (SimpleUploadedFile("c.csv", b""), "The submitted file is empty."),
        (
            SimpleUploadedFile("c.pdf", b"%PDF-1.4 x"),
            "Upload a CSV file (.csv) or an Excel workbook",
        ),
        (SimpleUploadedFile("c.xls", b"\xd0\xcf\x11\xe0xx"), "old Excel file (.xls)"),
        (SimpleUploadedFile("c.csv", b"Email,Phone\n"), "a header row but no contacts under it"),
        (
            SimpleUploadedFile("c.csv", b"ann@example.com,4135550101\n"),
            "The first row should name the columns",
        ),
    ],
)
def test_a_file_we_cannot_import_is_refused_with_a_clear_reason(broker_client, file, message):
    response = upload(broker_client, file)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not ImportBatch.objects.exists()


def test_a_file_over_the_size_cap_is_refused(broker_client, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 0.00001
    response = upload(broker_client)
    assert response.status_code == 400
    assert "the most an import takes is" in response.content.decode()


def test_every_form_needs_the_csrf_token(broker):
    client = Client(enforce_csrf_checks=True)
    client.force_login(broker)
    assert upload(client).status_code == 403
    page = client.get(reverse("leads:import-upload")).content.decode()
    assert page.count("csrfmiddlewaretoken") == page.count('<form method="post"')


def test_the_mapping_is_shown_guessed_and_can_be_corrected(broker_client):
    response = upload(broker_client)
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("leads:import-map", args=[batch.pk])
    page = broker_client.get(response["Location"]).content.decode()
    assert 'data-header="E-mail"' in page and "ann@example.com" in page  # a sample row
    assert '<option value="email" selected>' in page
    assert '<option value="phone" selected>' in page
    # Without email or phone nothing could be imported: the page says so.
    bad = {f"column_{i}": "" for i in range(4)} | {"on_duplicate": "skip"}
    response = broker_client.post(reverse("leads:import-map", args=[batch.pk]), bad)
    assert response.status_code == 400
    assert "Choose the column with the email or the phone" in response.content.decode()


def test_a_consent_column_needs_the_wording(broker_client):
    upload(
        broker_client,
        csv_file(
            [["Ann", "ann@example.com", "01/02/2022"]], header=("Name", "Email", "SMS Consent")
        ),
    )
    batch = ImportBatch.objects.get()
    form = {
        "column_0": "full_name",
        "column_1": "email",
        "column_2": "sms_consent",
        "on_duplicate": "skip",
    }
    response = broker_client.post(reverse("leads:import-map", args=[batch.pk]), form)
    assert response.status_code == 400
    assert "paste the wording those contacts agreed to" in response.content.decode()


def mapping_form(**extra):
    return {
        "column_0": "full_name",
        "column_1": "email",
        "column_2": "phone",
        "column_3": "relationship",
        "on_duplicate": "skip",
        **extra,
    }


def test_upload_map_dry_run_import_report_and_undo(
    broker_client, broker, alex, django_capture_on_commit_callbacks
):
    existing = LeadFactory(email="bob@example.com", phone="+14135550199")
    rows = [*ROWS, ["Bob Stone", "bob@example.com", "", "SOI"]]
    upload(broker_client, csv_file(rows))
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = broker_client.post(
            reverse("leads:import-map", args=[batch.pk]), mapping_form(owner=alex.pk)
        )
    detail = reverse("leads:import-detail", args=[batch.pk])
    assert response["Location"] == detail
    page = broker_client.get(detail).content.decode()
    assert 'data-testid="count-new">1<' in page and 'data-testid="count-error">1<' in page
    assert "Email “not-an-email” is not a valid address" in page
    assert "Same email as row 2" in page
    assert f'href="/leads/{existing.pk}/"' in page  # the lead row 5 matches
    assert Lead.objects.count() == 1  # the dry run wrote nothing
    errors_only = broker_client.get(detail + "?outcome=error").content.decode()
    assert 'data-row="3"' in errors_only and 'data-row="2"' not in errors_only

    with django_capture_on_commit_callbacks(execute=True):
        broker_client.post(reverse("leads:import-start", args=[batch.pk]))
    page = broker_client.get(detail).content.decode()
    assert "1 created, 0 updated, 2 skipped, 1 errors" in page
    ann = Lead.objects.get(email="ann@example.com")
    assert ann.dormant and ann.owner == alex and ann.relationship == "past_client"
    failed = broker_client.get(reverse("leads:import-failed", args=[batch.pk]))
    assert failed["Content-Type"].startswith("text/csv")
    assert 'filename="contacts-not-imported.csv"' in failed["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(failed.content.decode())))
    assert [line[-3:] for line in lines[1:]] == [
        ["3", "Error", "Email “not-an-email” is not a valid address"],
        ["4", "Duplicate of an earlier row", "Same email as row 2"],
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = broker_client.post(reverse("leads:import-undo", args=[batch.pk]), follow=True)
    assert "Undoing the import" in response.content.decode()
    assert not Lead.objects.filter(email="ann@example.com").exists()
    assert Lead.objects.filter(pk=existing.pk).exists()
    batch.refresh_from_db()
    assert batch.status == "undone"


def test_undo_is_refused_with_a_reason_once_an_agent_worked_a_contact(
    broker_client, alex, django_capture_on_commit_callbacks
):
    upload(broker_client)
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        broker_client.post(reverse("leads:import-map", args=[batch.pk]), mapping_form())
    with django_capture_on_commit_callbacks(execute=True):
        broker_client.post(reverse("leads:import-start", args=[batch.pk]))
    ann = Lead.objects.get(email="ann@example.com")
    contact_log(ann, channel="call", actor=alex, note="Not moving")
    response = broker_client.post(reverse("leads:import-undo", args=[batch.pk]), follow=True)
    assert "This import cannot be undone: Ann Lee" in response.content.decode()
    assert Lead.objects.filter(pk=ann.pk).exists()


def test_the_progress_bar_polls_while_a_worker_has_the_batch_then_reloads(broker_client):
    upload(broker_client)
    batch = ImportBatch.objects.get()
    broker_client.post(reverse("leads:import-map", args=[batch.pk]), mapping_form())
    batch.refresh_from_db()
    assert batch.status == "checking"  # queued after commit: no worker ran yet here
    ImportBatch.objects.filter(pk=batch.pk).update(rows_processed=1)
    page = broker_client.get(reverse("leads:import-detail", args=[batch.pk])).content.decode()
    assert '<progress class="import-progress" max="100" value="33"' in page
    assert 'hx-trigger="every 1s"' in page
    progress = reverse("leads:import-progress", args=[batch.pk])
    partial = broker_client.get(progress, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "1 of 3 rows" in partial.content.decode()
    ImportBatch.objects.filter(pk=batch.pk).update(status="dry_run")
    done = broker_client.get(progress, HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_the_import_cannot_start_without_a_dry_run(broker_client):
    upload(broker_client)
    batch = ImportBatch.objects.get()
    response = broker_client.post(reverse("leads:import-start", args=[batch.pk]), follow=True)
    assert "Run the dry run of this file first." in response.content.decode()
    assert ImportBatch.objects.get().status == "uploaded"


def test_the_lead_list_shows_dormant_contacts_with_a_badge_and_a_filter(broker_client):
    LeadFactory(first_name="Active", last_name="Lead")
    LeadFactory(first_name="Old", last_name="Client", dormant=True)
    page = broker_client.get(reverse("leads:lead-list") + "?dormant=true").content.decode()
    assert "Old Client" in page and "Active Lead" not in page
    assert ">Dormant</span>" in page
    page = broker_client.get(reverse("leads:lead-list") + "?dormant=false").content.decode()
    assert "Active Lead" in page and "Old Client" not in page


def test_the_import_pages_carry_the_dashboard_headers(broker_client):
    response = broker_client.get(reverse("leads:import-upload"))
    assert response["Cache-Control"] == "private, no-store"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_an_import_from_the_command_line_is_listed_too(broker_client, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"Email\nann@example.com\n")
    call_command("import_leads", str(path), stdout=io.StringIO())
    batch = ImportBatch.objects.get()
    page = broker_client.get(reverse("leads:import-upload")).content.decode()
    assert "contacts.csv" in page and "manage.py" in page
    page = broker_client.get(reverse("leads:import-detail", args=[batch.pk])).content.decode()
    assert "Uploaded by manage.py import_leads" in page and "1 created" in page


def test_a_long_imported_note_is_whole_on_the_leads_timeline(broker_client, broker):
    note = "Bought 12 Main in 2019. " * 20
    path_content = csv_file(
        [["Ann Lee", "ann@example.com", "", note]], header=("Name", "Email", "Phone", "Notes")
    )
    batch = imports.batch_upload(user=broker, name="c.csv", content=path_content.read())
    imports.batch_configure(batch, mapping=batch.mapping)
    imports.batch_check(batch)
    imports.batch_start(batch_run_here(batch))
    batch_run_here(batch)
    lead = Lead.objects.get()
    page = broker_client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "Imported note: Bought 12 Main in 2019." in page
    assert note.strip() in page


def _zip(files: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def _workbook_with_a_broken_sheet() -> bytes:
    """A real workbook whose sheet's XML is cut off after its first rows: it opens, then
    fails while its rows are read."""
    book = openpyxl.Workbook()
    book.active.append(["Name", "Email"])
    for index in range(50):
        book.active.append([f"Ann {index}", f"ann{index}@example.com"])
    saved = io.BytesIO()
    book.save(saved)
    with zipfile.ZipFile(saved) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet][: len(parts[sheet]) // 2]
    return _zip(parts)


CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
)


@pytest.mark.parametrize(
    "content",
    [
        _zip({"[Content_Types].xml": "garbage"}),
        _zip({"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": "<not xml"}),
        _zip({"word/document.xml": "<w/>"}),
        _workbook_with_a_broken_sheet(),
    ],
    ids=["content-types", "workbook", "not-a-workbook", "sheet-cut-off"],
)
def test_a_broken_excel_file_is_refused_with_a_clear_reason(broker_client, content):
    response = upload(broker_client, SimpleUploadedFile("contacts.xlsx", content))
    assert response.status_code == 400
    assert "This Excel file cannot be" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_every_earlier_import_can_be_reached_page_by_page(broker_client, broker):
    for index in range(23):
        imports.batch_upload(user=broker, name=f"f{index}.csv", content=b"Email\na@example.com\n")
    first = broker_client.get(reverse("leads:import-upload")).content.decode()
    second = broker_client.get(reverse("leads:import-upload") + "?page=2").content.decode()
    assert "f22.csv" in first and "f0.csv" not in first
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert "f0.csv" in second and "f22.csv" not in second


def test_the_failed_rows_download_opens_in_excel_whatever_the_files_name(broker_client, broker):
    """A BOM, so Excel reads UTF-8 (accents in names); a CR or LF in the uploaded file's name
    never reaches the header."""
    batch = imports.batch_upload(user=broker, name="old\r\ncrm é.csv", content=b"Email\nbad\n")
    response = broker_client.get(reverse("leads:import-failed", args=[batch.pk]))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition == "attachment; filename*=utf-8''oldcrm%20%C3%A9-not-imported.csv"
    assert response.content.startswith(b"\xef\xbb\xbfEmail,row,outcome,reason")

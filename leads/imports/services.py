"""An import batch from upload to done, each write here.

    batch_upload      store the file, count its rows, guess the mapping (FileProblem if unreadable)
    batch_configure   the broker's mapping and options; any earlier dry run is dropped
    batch_check       dry run: every row cleaned and matched (new / existing lead / duplicate /
                      error) into an ImportRow; no lead, event or tag is written
    batch_start       the import may begin (after a dry run of this mapping)
    dry_run_step,     one chunk of rows in one transaction, resumable from `batch.cursor`: the
    import_step,      worker (realtycrm.flows.imports) calls them until the phase ends
    undo_step
    failed_rows_csv   the rows that were not imported, with why

The write path is bulk (bulk_create per chunk, the chunk's emails and phones looked up once), so
100,000 rows import in well under two minutes (bench/import_leads.py). Imported contacts are
dormant (leads.models.Lead.dormant): no acknowledgment, enrolment or alert is ever queued here.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from realtycrm import formats
from realtycrm.http import pg_safe
from realtycrm.spreadsheets import csv_safe

from .. import intake
from ..consent import ConsentEvidence
from ..models import (
    Channel,
    ConsentRecord,
    ImportBatch,
    ImportRow,
    Lead,
    LeadEvent,
    OnDuplicate,
    Source,
    Submission,
    Tag,
)
from ..names import person_name
from ..selectors import tags_changed
from .cleaning import RowCleaner, owner_directory
from .columns import COLUMNS_BY_KEY, mapping_guess
from .files import FileProblem, file_type_of, read_table

Outcome = ImportRow.Outcome
Status = ImportBatch.Status
DRY_RUN_CHUNK = 5000
IMPORT_CHUNK = 2000
UNDO_CHUNK = 2000
# Fields `fill` may write on a lead we already have, only where the lead's is empty.
FILLABLE = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "property_address",
    "postal_code",
    "neighbourhood",
    "relationship",
    "last_personal_contact_at",
)


# --- Upload and mapping ------------------------------------------------------------------------


def batch_upload(*, user, name: str, content: bytes) -> ImportBatch:
    """The file as uploaded, with its headers, its row count and a guessed mapping."""
    file_type = file_type_of(name, content)
    headers, rows = read_table(content, file_type)
    total = sum(1 for _ in rows)
    if not total:
        raise FileProblem("The file has a header row but no contacts under it.")
    if total > settings.IMPORT_MAX_ROWS:
        raise FileProblem(
            f"The file has {total:,} rows; an import takes at most "
            f"{settings.IMPORT_MAX_ROWS:,}. Split it into smaller files."
        )
    return ImportBatch.objects.create(
        created_by=user,
        file_name=pg_safe(name)[:255],
        file_type=file_type,
        content=content,
        headers=headers,
        mapping=mapping_guess(headers),
        rows_total=total,
    )


def batch_sample(batch: ImportBatch, limit: int = 3) -> list[list]:
    """The first rows' cells, shown under each header on the mapping page."""
    _headers, rows = read_table(bytes(batch.content), batch.file_type)
    sample = []
    for _number, cells in rows:
        sample.append([_json_cell(cell) for cell in cells])
        if len(sample) == limit:
            break
    return sample


def mapping_problems(headers: list[str], mapping: list[str], consent_wording: str) -> list[str]:
    """What makes a mapping unusable, in words: a field mapped twice, no email or phone, a
    consent column without the wording the contacts agreed to."""
    problems = []
    used = [key for key in mapping if key]
    for key in sorted({key for key in used if used.count(key) > 1}):
        problems.append(f"{COLUMNS_BY_KEY[key].label} is chosen for more than one column.")
    if "email" not in used and "phone" not in used:
        problems.append("Choose the column with the email or the phone (a contact needs one).")
    if "sms_consent" in used and not consent_wording.strip():
        problems.append(
            "The file has an SMS consent column: paste the wording those contacts agreed to, "
            "or set the column to “ignore” (then nobody is texted automatically)."
        )
    if len(mapping) != len(headers):
        problems.append("The mapping does not match the file's columns.")
    return problems


@transaction.atomic
def batch_configure(
    batch: ImportBatch,
    *,
    mapping: list[str],
    owner=None,
    on_duplicate: str = OnDuplicate.SKIP,
    consent_wording: str = "",
) -> None:
    """The broker's choices; an earlier dry run no longer applies and is dropped."""
    if batch.status not in (Status.UPLOADED, Status.DRY_RUN):
        raise ValueError(f"{batch} is {batch.get_status_display().lower()}: it cannot change")
    batch.mapping = mapping
    batch.owner = owner
    batch.on_duplicate = on_duplicate
    batch.consent_wording = consent_wording.strip() if "sms_consent" in mapping else ""
    batch.status = Status.UPLOADED
    batch.dry_run = {}
    _save(batch)
    batch.rows.all().delete()


@transaction.atomic
def batch_check(batch: ImportBatch) -> None:
    """Ask for a dry run of the batch's mapping (the worker does it: dry_run_step)."""
    batch.rows.all().delete()
    _phase_begin(batch, Status.CHECKING)


@transaction.atomic
def batch_start(batch: ImportBatch) -> None:
    """Ask for the import itself (the worker does it: import_step). Only after a dry run of
    this mapping, whose rows the import reads."""
    if batch.status != Status.DRY_RUN:
        raise ValueError(f"{batch} has no dry run to import from")
    _phase_begin(batch, Status.QUEUED)


@transaction.atomic
def batch_undo_begin(batch: ImportBatch) -> None:
    """Ask for undo (the worker does it: undo_step). Whether nobody worked the contacts yet is
    the flow's check (realtycrm.flows.imports.batch_undo)."""
    if batch.status != Status.DONE:
        raise ValueError(f"{batch} is not a finished import")
    batch.status = Status.UNDOING
    batch.cursor = batch.rows_processed = 0
    batch.error = ""
    _save(batch)


def batch_retry(batch: ImportBatch) -> None:
    """A failed batch goes on where it stopped (the steps resume from the cursor)."""
    if batch.status != Status.FAILED:
        raise ValueError(f"{batch} did not fail")
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=batch.failed_during or Status.CHECKING, error="", failed_during=""
    )
    batch.refresh_from_db()


def batch_fail(batch_pk: int, error: str) -> None:
    """The worker could not go on: the batch says why (the steps done so far stay)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_pk)
        batch.failed_during = batch.status if batch.status != Status.FAILED else batch.failed_during
        batch.status = Status.FAILED
        batch.error = pg_safe(error)[-5000:]
        batch.finished_at = timezone.now()
        _save(batch)


def _save(batch: ImportBatch) -> None:
    """Everything but the file, which never changes after the upload (and is megabytes)."""
    batch.save(update_fields=BATCH_FIELDS)


BATCH_FIELDS = [
    field.name for field in ImportBatch._meta.concrete_fields if field.name not in ("id", "content")
]


def _phase_begin(batch: ImportBatch, status: str) -> None:
    batch.status = status
    batch.cursor = batch.rows_processed = 0
    batch.created = batch.updated = batch.skipped = batch.errors = 0
    batch.error = ""
    _save(batch)


# --- Dry run ----------------------------------------------------------------------------------


@dataclass
class WorkState:
    """What a worker keeps between the chunks of one phase, so a chunk costs only its rows: the
    file's rows read so far, the emails and phones already taken by earlier rows, the tags."""

    batch_pk: int | None = None
    rows: object = None
    cursor: int = -1
    cleaner: RowCleaner | None = None
    seen: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    owners: dict = field(default_factory=dict)

    def ready_for(self, batch: ImportBatch) -> bool:
        return self.batch_pk == batch.pk and self.cursor == batch.cursor


def _dry_run_state(batch: ImportBatch, state: WorkState) -> None:
    """Open the file where the batch left off, and remember the keys of the rows before it."""
    headers, rows = read_table(bytes(batch.content), batch.file_type)
    state.batch_pk, state.cursor = batch.pk, batch.cursor
    state.rows = (row for row in rows if row[0] > batch.cursor)
    state.cleaner = RowCleaner(headers, batch.mapping, owner_directory())
    state.seen = {}
    kept = batch.rows.filter(outcome__in=[Outcome.NEW, Outcome.MATCH])
    for number, email, phone in kept.values_list("number", "email", "phone"):
        _remember(state.seen, email, phone, number)


def dry_run_step(batch: ImportBatch, state: WorkState, chunk: int | None = None) -> bool:
    """The next `chunk` rows of the file, cleaned and matched, as ImportRows. True when the dry
    run is complete (the batch then says what an import would do)."""
    chunk = chunk or DRY_RUN_CHUNK
    if not state.ready_for(batch):
        _dry_run_state(batch, state)
    taken = []
    for number, cells in state.rows:
        taken.append((number, cells, state.cleaner.clean(cells)))
        if len(taken) == chunk:
            break
    existing = _existing(
        [row.values.get("email") for _, _, row in taken if not row.errors],
        [row.values.get("phone") for _, _, row in taken if not row.errors],
    )
    rows = [_dry_run_row(batch, state.seen, existing, *one) for one in taken]
    ImportRow.objects.bulk_create(rows)
    for row in rows:
        batch.dry_run[row.outcome] = batch.dry_run.get(row.outcome, 0) + 1
    batch.rows_processed += len(rows)
    if rows:
        batch.cursor = state.cursor = rows[-1].number
    done = len(taken) < chunk
    if done:
        for outcome in Outcome.values:
            batch.dry_run.setdefault(outcome, 0)
        batch.rows_total = batch.rows_processed
        batch.status = Status.DRY_RUN
        batch.finished_at = timezone.now()
    _save(batch)
    return done


def _dry_run_row(batch, seen: dict, existing: dict, number: int, cells: list, row) -> ImportRow:
    email, phone = row.values.get("email", ""), row.values.get("phone", "")
    # Only what the row says (the email and phone are columns of their own): a lighter row.
    values = {
        key: value
        for key, value in row.values.items()
        if value not in ("", None, []) and key not in ("email", "phone")
    }
    made = ImportRow(batch=batch, number=number, values=values, email=email, phone=phone)
    # The cells as they were are kept for the rows that will not be imported (the CSV of them).
    failed_cells = [_json_cell(cell) for cell in cells]
    if row.errors:
        made.outcome, made.detail = Outcome.ERROR, "; ".join(row.errors)[:500]
        made.cells = failed_cells
        return made
    earlier = seen.get(("email", email)) if email else None
    key = "email"
    if earlier is None and phone:
        earlier, key = seen.get(("phone", phone)), "phone"
    if earlier is not None:
        made.outcome, made.detail = Outcome.DUPLICATE, f"Same {key} as row {earlier}"
        made.cells = failed_cells
        return made
    lead = existing.get(("email", email)) if email else None
    if lead is None and phone:
        lead = existing.get(("phone", phone))
    if lead is not None:
        made.outcome, made.lead_id = Outcome.MATCH, lead.pk
        made.detail = f"{lead} (lead #{lead.pk})"[:500]
    else:
        made.outcome = Outcome.NEW
    _remember(seen, email, phone, number)
    return made


def _remember(seen: dict, email: str, phone: str, number: int) -> None:
    if email:
        seen.setdefault(("email", email), number)
    if phone:
        seen.setdefault(("phone", phone), number)


def _existing(emails, phones, *, lock: bool = False) -> dict:
    """The leads we already have with these emails or phones: {("email", value): lead, ...},
    in two queries for the whole chunk. An email match wins over a phone match (a family shares
    a phone more often than an inbox)."""
    emails, phones = {e for e in emails if e}, {p for p in phones if p}
    if not emails and not phones:
        return {}
    # "<> ''" lets PostgreSQL use the partial unique indexes (it cannot prove it from a long IN).
    leads = Lead.objects.filter(
        (Q(email__in=emails) & ~Q(email="")) | (Q(phone__in=phones) & ~Q(phone=""))
    )
    if lock:
        leads = leads.select_for_update()  # `fill` writes them
    else:
        leads = leads.only("id", "first_name", "last_name", "email", "phone", "created_at")
    found = {}
    for lead in leads.order_by("created_at", "id"):
        if lead.email in emails:
            found.setdefault(("email", lead.email), lead)
        if lead.phone in phones:
            found.setdefault(("phone", lead.phone), lead)
    return found


def _json_cell(cell):
    return cell.isoformat() if hasattr(cell, "isoformat") else cell


# --- The import -------------------------------------------------------------------------------


def import_step(batch: ImportBatch, state: WorkState, chunk: int | None = None) -> bool:
    """The next `chunk` rows of the dry run, written: new contacts (dormant, with their tags,
    note, consent and an IMPORTED event), matches skipped or filled. A lead created since the
    dry run that matches a row counts as a match. True when the import is complete."""
    chunk = chunk or IMPORT_CHUNK
    if batch.status == Status.QUEUED:
        batch.status = Status.RUNNING
        batch.started_at = timezone.now()
    if batch.submission_id is None:
        batch.submission = _import_submission(batch)
    if state.batch_pk != batch.pk:
        state.batch_pk, state.tags = batch.pk, {}
        state.owners = {}
    rows = list(batch.rows.filter(number__gt=batch.cursor).order_by("number")[:chunk])
    for attempt in range(3):
        try:
            with transaction.atomic():
                counts = _import_rows(batch, state, rows)
            break
        except IntegrityError:
            # A form or another channel took one of these emails or phones a moment ago: read
            # the chunk's matches again (that lead is now a match).
            state.tags = {}  # tags made in the rolled-back attempt are gone too
            if attempt == 2:
                raise
    for name, count in counts.items():
        setattr(batch, name, getattr(batch, name) + count)
    batch.rows_processed += len(rows)
    if rows:
        batch.cursor = rows[-1].number
    done = len(rows) < chunk
    if done:
        batch.status = Status.DONE
        batch.finished_at = timezone.now()
        batch.rows_processed = batch.rows_total
    _save(batch)
    return done


def _import_submission(batch: ImportBatch) -> Submission:
    """One Submission stands for the whole file (its rows are kept as ImportRows): what every
    consent recorded from it points to, as a form's consent points to the form's POST."""
    return intake.submission_receive(
        Source.REACTIVATION,
        {"file": batch.file_name, "rows": batch.rows_total, "headers": batch.headers},
        intake.RequestInfo(),
        channel=Channel.IMPORT,
        origin=batch.file_name,
        attribution={"import": batch.pk},
        external_id=f"import:{batch.pk}",
        mapped={"mapping": batch.mapping, "consent_wording": batch.consent_wording},
        status=Submission.Status.ACCEPTED,
    )


def _import_rows(batch: ImportBatch, state: WorkState, rows: list[ImportRow]) -> dict:
    counts = {"created": 0, "updated": 0, "skipped": 0, "errors": 0}
    candidates = []
    for row in rows:
        if row.outcome == Outcome.ERROR:
            counts["errors"] += 1
        elif row.outcome == Outcome.DUPLICATE:
            counts["skipped"] += 1
        else:
            candidates.append(row)
    existing = _existing(
        [row.email for row in candidates],
        [row.phone for row in candidates],
        lock=batch.on_duplicate == OnDuplicate.FILL,
    )
    new, matched = [], []
    for row in candidates:
        lead = existing.get(("email", row.email)) if row.email else None
        if lead is None and row.phone:
            lead = existing.get(("phone", row.phone))
        (matched if lead is not None else new).append((row, lead))
    now = timezone.now()
    created = _create_contacts(batch, state, [row for row, _ in new], now)
    counts["created"] += len(created)
    if batch.on_duplicate == OnDuplicate.FILL:
        filled = _fill_leads(batch, state, matched, existing, now)
        counts["updated"] += filled
        counts["skipped"] += len(matched) - filled
    else:
        counts["skipped"] += len(matched)
    return counts


def _create_contacts(batch, state, rows: list[ImportRow], now: datetime) -> list[Lead]:
    leads = Lead.objects.bulk_create(_contact(batch, row, now) for row in rows)
    pairs = list(zip(rows, leads, strict=True))
    events = []
    for row, lead in pairs:
        events.append(_imported_event(batch, row, lead, now))
        events += _note_events(batch, row, lead, now)
    _tags_add(state, [(lead, row.values.get("tags") or []) for row, lead in pairs])
    events += _consents(batch, pairs, now)
    LeadEvent.objects.bulk_create(events, batch_size=2000)
    return leads


def _contact(batch: ImportBatch, row: ImportRow, now: datetime) -> Lead:
    values = row.values
    last_contact = values.get("last_contact")
    return Lead(
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name", ""),
        email=row.email,
        phone=row.phone,
        property_address=values.get("property_address", ""),
        postal_code=values.get("postal_code", ""),
        neighbourhood=values.get("neighbourhood", ""),
        source=Source.REACTIVATION,
        channel=Channel.IMPORT,
        origin=batch.file_name[:200],
        attribution={"import": batch.pk},
        timeline=Lead.Timeline.UNKNOWN,
        intent=Lead.Intent.UNKNOWN,
        owner_id=values.get("owner") or batch.owner_id,
        relationship=values.get("relationship", ""),
        last_personal_contact_at=datetime.fromisoformat(last_contact) if last_contact else None,
        dormant=True,
        imported_at=now,
        created_at=now,
        last_inquiry_at=now,
    )


def _imported_event(batch, row: ImportRow, lead: Lead, now: datetime) -> LeadEvent:
    summary = f"Imported from {batch.file_name}, row {row.number}"
    if lead.relationship:
        summary += f" ({Lead.Relationship(lead.relationship).label.lower()})"
    return LeadEvent(
        lead=lead,
        kind=LeadEvent.Kind.IMPORTED,
        actor_id=batch.created_by_id,
        summary=summary[:255],
        data={
            "import": batch.pk,
            "row": row.number,
            "owner": lead.owner_id,
            "last_contact": row.values.get("last_contact"),
        },
        occurred_at=now,
    )


def _note_events(batch, row: ImportRow, lead: Lead, now: datetime) -> list[LeadEvent]:
    text = row.values.get("notes", "")
    if not text:
        return []
    summary = f"Imported note: {text}"
    if len(summary) > 255:
        summary = summary[:254] + "…"
    data = {"import": batch.pk, "row": row.number}
    if len(text) > 240:
        data["text"] = text  # the whole note; the timeline shows its start
    return [
        LeadEvent(lead=lead, kind=LeadEvent.Kind.NOTE, summary=summary, data=data, occurred_at=now)
    ]


def _consents(batch, pairs: list[tuple[ImportRow, Lead]], now: datetime) -> list[LeadEvent]:
    """A consent date in the file, with the wording the brokerage says those contacts agreed
    to: evidence of this import (ConsentRecord), and a timeline event. Nobody else is texted."""
    if not batch.consent_wording:
        return []
    column = batch.headers[batch.mapping.index("sms_consent")]
    given = [
        (
            lead,
            ConsentEvidence(
                wording=batch.consent_wording,
                version=f"import-{batch.pk}",
                given_at=datetime.fromisoformat(row.values["sms_consent"]),
                detail={"import": batch.pk, "row": row.number, "column": column},
            ),
        )
        for row, lead in pairs
        if row.values.get("sms_consent") and lead.phone and lead.sms_consent_at is None
    ]
    if not given:
        return []
    intake.consent_records_create(given, batch.submission, version=f"import-{batch.pk}")
    return [
        LeadEvent(
            lead=lead,
            kind=LeadEvent.Kind.CONSENT_GIVEN,
            channel=LeadEvent.Channel.SMS,
            summary=f"Agreed to texts on {formats.day(evidence.given_at)} (per {batch.file_name})"[
                :255
            ],
            data={"import": batch.pk, "wording_version": f"import-{batch.pk}"},
            occurred_at=now,
        )
        for lead, evidence in given
    ]


def _tags_add(state: WorkState, leads_tags: list[tuple[Lead, list[str]]]) -> dict[int, list[str]]:
    """Tags by name, made once (case-insensitive: "VIP" and "vip" are one tag), and linked in
    one insert. Returns the tags each lead gained. A new tag is named as its first row spells
    it (the rows' order, never a set's, which changes with the process's hash seed); a tag we
    already have keeps its name."""
    missing = [name for _, tags in leads_tags for name in tags if name.casefold() not in state.tags]
    if missing:
        known = {tag.name.casefold(): tag.pk for tag in Tag.objects.all()}
        state.tags.update(known)
        new = {}
        for name in missing:
            if name.casefold() not in known:
                new.setdefault(name.casefold(), name)
        if new:
            Tag.objects.bulk_create(
                [Tag(name=name) for name in new.values()], ignore_conflicts=True
            )
            state.tags.update(
                {tag.name.casefold(): tag.pk for tag in Tag.objects.filter(name__in=new.values())}
            )
    Through = Lead.tags.through
    links, gained = [], {}
    for lead, tags in leads_tags:
        for name in tags:
            tag_id = state.tags.get(name.casefold())
            if tag_id is not None:
                links.append(Through(lead_id=lead.pk, tag_id=tag_id))
                gained.setdefault(lead.pk, []).append(name)
    Through.objects.bulk_create(links, ignore_conflicts=True, batch_size=2000)
    if links:
        tags_changed()  # the lists' cached tag choices
    return gained


def _fill_leads(batch, state, matched: list, existing: dict, now: datetime) -> int:
    """`fill`: each matched lead gets the file's values where its own are empty (never over
    what anyone recorded), its tags and note; what was filled is on its timeline (undo reads
    it). Returns how many leads changed."""
    taken = set(existing)
    changed, events, consent_pairs, tag_pairs = [], [], [], []
    done_leads = set()
    tagged = {}
    links = Lead.tags.through.objects.filter(lead_id__in=[lead.pk for _, lead in matched])
    for lead_id, name in links.values_list("lead_id", "tag__name"):
        tagged.setdefault(lead_id, set()).add(name.casefold())
    noted = set(
        LeadEvent.objects.filter(
            lead_id__in=[lead.pk for _, lead in matched], kind=LeadEvent.Kind.NOTE
        ).values_list("lead_id", "summary")
    )
    for row, lead in matched:
        if lead.pk in done_leads:
            continue  # two rows matching one lead (one by email, one by phone): the first fills
        done_leads.add(lead.pk)
        filled = _fill_values(lead, row, taken)
        known = tagged.get(lead.pk, set())
        tags = [tag for tag in row.values.get("tags") or [] if tag.casefold() not in known]
        # The same note again (a file imported twice) is not a new fact.
        notes = [
            e for e in _note_events(batch, row, lead, now) if (lead.pk, e.summary) not in noted
        ]
        consent = bool(row.values.get("sms_consent") and batch.consent_wording and lead.phone)
        consent = consent and lead.sms_consent_at is None and lead.sms_opted_out_at is None
        if not (filled or tags or notes or consent):
            continue
        for name, value in filled.items():
            setattr(lead, name, datetime.fromisoformat(value) if name.endswith("_at") else value)
        changed.append(lead)
        tag_pairs.append((lead, tags))
        events += notes
        if consent:
            consent_pairs.append((row, lead))
        labels = [str(Lead._meta.get_field(name).verbose_name) for name in filled]
        labels += ["tags"] if tags else []
        labels += ["note"] if notes else []
        labels += ["SMS consent"] if consent else []
        events.append(
            LeadEvent(
                lead=lead,
                kind=LeadEvent.Kind.CONTACT_UPDATED,
                actor_id=batch.created_by_id,
                summary=f"Filled from {batch.file_name}, row {row.number}: {', '.join(labels)}"[
                    :255
                ],
                data={
                    "import": batch.pk,
                    "row": row.number,
                    "filled": filled,
                    "tags_added": tags,
                    "consent": consent,
                },
                occurred_at=now,
            )
        )
    if changed:
        Lead.objects.bulk_update(changed, [*FILLABLE, "updated_at"], batch_size=500)
    _tags_add(state, tag_pairs)
    events += _consents(batch, consent_pairs, now)
    LeadEvent.objects.bulk_create(events, batch_size=2000)
    return len(changed)


def _fill_values(lead: Lead, row: ImportRow, taken: set) -> dict:
    """The file's values for the lead's empty fields, as stored in JSON (dates in ISO). An
    email or phone another lead has stays off (leads are unique by each)."""
    values = row.values
    offered = {
        "first_name": values.get("first_name", ""),
        "last_name": values.get("last_name", ""),
        "email": row.email,
        "phone": row.phone,
        "property_address": values.get("property_address", ""),
        "postal_code": values.get("postal_code", ""),
        "neighbourhood": values.get("neighbourhood", ""),
        "relationship": values.get("relationship", ""),
        "last_personal_contact_at": values.get("last_contact") or "",
    }
    filled = {}
    for name, value in offered.items():
        if not value or getattr(lead, name) not in ("", None):
            continue
        if name in ("email", "phone") and (name, value) in taken:
            continue
        filled[name] = value
        if name in ("email", "phone"):
            taken.add((name, value))
    return filled


# --- Undo -------------------------------------------------------------------------------------


def batch_leads(batch: ImportBatch):
    """The leads this import created (still there)."""
    return Lead.objects.filter(channel=Channel.IMPORT, attribution__import=batch.pk)


def undo_step(
    batch: ImportBatch,
    chunk: int | None = None,
    *,
    worked: Callable[[list[int]], dict[int, str]] | None = None,
    consent_used: Callable[[list[int]], set[int]] | None = None,
) -> bool:
    """One chunk of undo: first the fills are reverted (a field only while it still holds what
    the file put there), a chunk of them at a time, then the created leads are deleted, a chunk
    at a time (batch.cursor: the last lead pk done). True when all is undone.

    Someone may work a contact while undo runs: each chunk's leads are locked and then asked
    about (`worked`, the flow's: who worked which, since "worked" spans apps); a worked one is
    kept and named in batch.error, never deleted. `consent_used` names the filled leads a text
    went to under the consent this import recorded: that consent (its evidence) is kept."""
    chunk = chunk or UNDO_CHUNK
    fills = list(_fill_events(batch)[:chunk])
    if fills:
        _fills_revert(batch, fills, consent_used=consent_used)
        _save(batch)
        return False
    leads = batch_leads(batch).filter(pk__gt=batch.cursor).order_by("pk").select_for_update()
    pks = list(leads.values_list("pk", flat=True)[:chunk])
    kept = worked(pks) if worked is not None and pks else {}
    Lead.objects.filter(pk__in=[pk for pk in pks if pk not in kept]).delete()
    batch.rows_processed += len(pks) - len(kept)
    if kept:
        _kept_note(batch, kept)
    if pks:
        batch.cursor = pks[-1]
    done = len(pks) < chunk
    if done:
        batch.status = Status.UNDONE
        batch.undone_at = timezone.now()
    _save(batch)
    return done


KEPT_NOTE = "Kept, because someone worked them while the import was being undone: "


def _kept_note(batch: ImportBatch, kept: dict[int, str]) -> None:
    """Name the contacts undo kept on the batch (its report shows them)."""
    named = ", ".join(f"lead #{pk} {why}" for pk, why in kept.items())
    note = f"{batch.error}; {named}" if batch.error.startswith(KEPT_NOTE) else KEPT_NOTE + named
    batch.error = note if len(note) <= 2000 else note[:1999] + "…"


def _fill_events(batch: ImportBatch):
    """The fills still to revert: each is deleted once reverted, so undo resumes here."""
    return (
        LeadEvent.objects.filter(kind=LeadEvent.Kind.CONTACT_UPDATED, data__import=batch.pk)
        .select_related("lead")
        .order_by("pk")
    )


def _fills_revert(batch: ImportBatch, fills: list[LeadEvent], *, consent_used=None) -> None:
    version = f"import-{batch.pk}"
    lead_ids = [event.lead_id for event in fills]
    keep_consent = consent_used(lead_ids) if consent_used is not None else set()
    for event in fills:
        _fill_revert(event, version, keep_consent=event.lead_id in keep_consent)
    reverted = [pk for pk in lead_ids if pk not in keep_consent]
    ConsentRecord.objects.filter(lead_id__in=reverted, wording_version=version).delete()
    events = LeadEvent.objects.filter(lead_id__in=lead_ids, data__import=batch.pk)
    events.exclude(lead_id__in=keep_consent, kind=LeadEvent.Kind.CONSENT_GIVEN).delete()


def _fill_revert(event: LeadEvent, version: str, *, keep_consent: bool) -> None:
    """One lead's fill undone: the fields still as filled, the consent (unless a text went
    under it), the tags it gained (by name, whatever their case now)."""
    lead = event.lead
    reverted = [
        name
        for name, value in (event.data.get("filled") or {}).items()
        if _still(getattr(lead, name), value)
    ]
    for name in reverted:
        setattr(lead, name, None if name.endswith("_at") else "")
    if event.data.get("consent") and lead.sms_consent_version == version and not keep_consent:
        lead.sms_consent_at, lead.sms_consent_version = None, ""
        reverted += ["sms_consent_at", "sms_consent_version"]
    if reverted:
        lead.save(update_fields=[*reverted, "updated_at"])
    names = {name.casefold() for name in event.data.get("tags_added") or []}
    if names:
        links = Lead.tags.through.objects.filter(lead=lead).select_related("tag")
        gained = [link.pk for link in links if link.tag.name.casefold() in names]
        Lead.tags.through.objects.filter(pk__in=gained).delete()


def _still(current, filled: str) -> bool:
    """The lead's field still holds what the import filled in (nobody changed it since)."""
    if isinstance(current, datetime):
        return current == datetime.fromisoformat(filled)
    return current == filled


# --- The report -------------------------------------------------------------------------------


FAILED_HEADER_EXTRA = ("row", "outcome", "reason")


def failed_rows_csv(batch: ImportBatch, out) -> None:
    """The rows that were not imported (errors and duplicates within the file), as they were in
    the file, each with its row number and why: fix them and import this file. The header is
    the file's too, and defused like every cell (a header can be a formula as well)."""
    writer = csv.writer(out)
    writer.writerow([*(_csv_safe(header) for header in batch.headers), *FAILED_HEADER_EXTRA])
    failed = batch.rows.filter(outcome__in=[Outcome.ERROR, Outcome.DUPLICATE]).order_by("number")
    for row in failed.iterator(chunk_size=2000):
        cells = [_csv_safe(cell) for cell in row.cells]
        writer.writerow([*cells, row.number, Outcome(row.outcome).label, row.detail])


def _csv_safe(cell) -> str:
    """realtycrm.spreadsheets.csv_safe, but a number ("-12.5") stays a number: the file's own."""
    text = "" if cell is None else str(cell)
    return text if _number(text) else csv_safe(text)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def failed_rows_text(batch: ImportBatch) -> str:
    out = io.StringIO()
    failed_rows_csv(batch, out)
    return out.getvalue()


def importer_name(batch: ImportBatch) -> str:
    return person_name(batch.created_by)

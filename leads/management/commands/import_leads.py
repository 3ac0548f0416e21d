"""manage.py import_leads PATH: a brokerage's old database (CSV or .xlsx) as dormant contacts.

The same steps as the dashboard's import pages (leads.imports), run here to the end: the columns
mapped from the headers as guessed, a dry run, then (without --dry-run) the import. The last line
is always "N created, N updated, N skipped, N errors" (for a dry run: what the import would do).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from leads.imports import services as imports
from leads.imports.columns import COLUMNS_BY_KEY
from leads.imports.files import FileProblem
from leads.models import ImportRow, OnDuplicate
from leads.selectors import assignable_users
from realtycrm.flows.imports import batch_run_here

Outcome = ImportRow.Outcome


class Command(BaseCommand):
    help = "Import contacts from a CSV or .xlsx file as dormant reactivation contacts."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="Check the file; write nothing.")
        parser.add_argument("--owner", help="Username owning the rows that name no owner.")
        parser.add_argument(
            "--on-duplicate",
            choices=OnDuplicate.values,
            default=OnDuplicate.SKIP,
            help="A row matching a lead we have: skip it, or fill the lead's empty fields.",
        )
        parser.add_argument(
            "--consent-wording",
            default="",
            help="The SMS consent wording the file's consent dates were given to (without it, "
            "a consent column is ignored and nobody is texted automatically).",
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        owner = None
        if options["owner"]:
            # The page's choices: an active agent (a departed agent's contacts would go unseen).
            owner = assignable_users().filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"No active agent with the username {options['owner']!r}.")
        try:
            batch = imports.batch_upload(user=None, name=path.name, content=path.read_bytes())
        except FileProblem as problem:
            raise CommandError(str(problem)) from problem
        mapping = self._mapping(batch, options["consent_wording"])
        problems = imports.mapping_problems(batch.headers, mapping, options["consent_wording"])
        if problems:
            batch.delete()
            raise CommandError(" ".join(problems))
        imports.batch_configure(
            batch,
            mapping=mapping,
            owner=owner,
            on_duplicate=options["on_duplicate"],
            consent_wording=options["consent_wording"],
        )
        imports.batch_check(batch)
        batch = batch_run_here(batch)
        if batch.status != batch.Status.DRY_RUN:
            raise CommandError(f"The dry run failed: {batch.error}")
        if options["dry_run"]:
            self._report_rows(batch)
            counts = self._would(batch)
            with transaction.atomic():
                batch.delete()  # a dry run leaves nothing behind
            self.stdout.write("Dry run: nothing was written.")
        else:
            imports.batch_start(batch)
            batch = batch_run_here(batch)
            if batch.status != batch.Status.DONE:
                raise CommandError(f"The import failed: {batch.error}")
            self._report_rows(batch)
            self.stdout.write(f"Import #{batch.pk} done (undo it from the dashboard's Imports).")
            counts = (batch.created, batch.updated, batch.skipped, batch.errors)
        self.stdout.write("{} created, {} updated, {} skipped, {} errors".format(*counts))

    def _mapping(self, batch, consent_wording: str) -> list[str]:
        mapping = list(batch.mapping)
        for header, key in zip(batch.headers, mapping, strict=True):
            if key:
                self.stdout.write(f"Column “{header}” → {COLUMNS_BY_KEY[key].label}")
        if "sms_consent" in mapping and not consent_wording.strip():
            header = batch.headers[mapping.index("sms_consent")]
            self.stderr.write(
                f"Column “{header}” looks like SMS consent, but --consent-wording was not given: "
                "it is ignored, and these contacts get email only."
            )
            mapping[mapping.index("sms_consent")] = ""
        return mapping

    def _report_rows(self, batch) -> None:
        shown = batch.rows.exclude(outcome__in=[Outcome.NEW, Outcome.MATCH]).order_by("number")
        for row in shown.iterator(chunk_size=2000):
            self.stdout.write(
                f"Row {row.number}: {Outcome(row.outcome).label.lower()}: {row.detail}"
            )

    def _would(self, batch) -> tuple[int, int, int, int]:
        counts = batch.dry_run
        matches = counts.get(Outcome.MATCH, 0)
        fill = batch.on_duplicate == OnDuplicate.FILL
        return (
            counts.get(Outcome.NEW, 0),
            matches if fill else 0,
            counts.get(Outcome.DUPLICATE, 0) + (0 if fill else matches),
            counts.get(Outcome.ERROR, 0),
        )

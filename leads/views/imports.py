"""Importing the old database (brokers only): upload → map the columns → dry run → import, with
a progress bar the page polls, a report, the failed rows as CSV, and undo. The work itself runs
on django-q2 (realtycrm.flows.imports); these pages only ask for it and show where it is."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from realtycrm.flows.imports import (
    batch_check_queue,
    batch_retry_queue,
    batch_start_queue,
    batch_undo,
)

from ..imports import services as imports
from ..imports.columns import COLUMNS
from ..imports.files import FileProblem
from ..imports.forms import MappingForm, UploadForm
from ..models import ImportBatch, ImportRow
from ..selectors import user_is_broker
from .base import dashboard_view

ROWS_PER_PAGE = 50
IMPORTS_PAGE = 20  # earlier imports on the upload page, newest first
Status = ImportBatch.Status


def broker_view(view):
    """Signed in, and a broker: an agent is refused (403), whatever the batch."""

    @wraps(view)
    @dashboard_view
    def wrapper(request, *args, **kwargs):
        if not user_is_broker(request.user):
            raise PermissionDenied("Only a broker can import contacts.")
        return view(request, *args, **kwargs)

    return wrapper


def _safe_stem(file_name: str) -> str:
    """The uploaded file's name without its extension, fit for a header: no control characters
    (a CR or LF in a name is a 500 from the header check), no quotes."""
    stem = file_name.rsplit(".", 1)[0][:80]
    stem = "".join(char for char in stem if char.isprintable() and char not in '"\\')
    return stem.strip() or "import"


def _batch(pk) -> ImportBatch:
    batches = ImportBatch.objects.select_related("created_by", "owner").defer("content")
    return get_object_or_404(batches, pk=pk)


@require_http_methods(["GET", "POST"])
@broker_view
def import_upload(request):
    """The imports page: upload a file; the earlier imports under it."""
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = imports.batch_upload(
                    user=request.user, name=upload.name, content=upload.read()
                )
            except FileProblem as problem:
                form.add_error("file", str(problem))
            else:
                return redirect("leads:import-map", pk=batch.pk)
        status = 400
    batches = Paginator(
        ImportBatch.objects.select_related("created_by").defer("content"),
        IMPORTS_PAGE,
    ).get_page(request.GET.get("page"))
    return render(
        request, "leads/imports/upload.html", {"form": form, "batches": batches}, status=status
    )


@require_http_methods(["GET", "POST"])
@broker_view
def import_map(request, pk):
    """Map the file's columns (guessed from its headers), then ask for a dry run."""
    batch = _batch(pk)
    if batch.status not in (Status.UPLOADED, Status.DRY_RUN):
        messages.info(request, "This import's columns can no longer change.")
        return redirect("leads:import-detail", pk=batch.pk)
    form = MappingForm(request.POST or None, batch=batch)
    if request.method == "POST" and form.is_valid():
        imports.batch_configure(
            batch,
            mapping=form.cleaned_data["mapping"],
            owner=form.cleaned_data["owner"],
            on_duplicate=form.cleaned_data["on_duplicate"],
            consent_wording=form.cleaned_data["consent_wording"],
        )
        batch_check_queue(batch)
        return redirect("leads:import-detail", pk=batch.pk)
    sample = imports.batch_sample(batch)
    columns = [
        {"field": field, "samples": [row[index] for row in sample if index < len(row)]}
        for index, field in enumerate(form.column_fields())
    ]
    return render(
        request,
        "leads/imports/map.html",
        {"batch": batch, "form": form, "columns": columns, "targets": COLUMNS},
        status=400 if form.is_bound else 200,
    )


@require_GET
@broker_view
def import_detail(request, pk):
    """The batch as it is now: progress while a worker has it, the dry run's rows (by outcome,
    a page at a time) before the import, the report after."""
    batch = _batch(pk)
    outcome = request.GET.get("outcome", "")
    rows = batch.rows.select_related("lead").order_by("number")
    if outcome in ImportRow.Outcome.values:
        rows = rows.filter(outcome=outcome)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "batch": batch,
        "page": page,
        "outcome": outcome,
        "outcomes": ImportRow.Outcome.choices,
        "would": _would(batch),
        "mapped": [
            (header, key) for header, key in zip(batch.headers, batch.mapping, strict=False) if key
        ],
    }
    return render(request, "leads/imports/detail.html", context)


def _would(batch: ImportBatch) -> dict:
    counts = batch.dry_run or {}
    matches = counts.get(ImportRow.Outcome.MATCH, 0)
    fill = batch.on_duplicate == ImportBatch.OnDuplicate.FILL
    return {
        "created": counts.get(ImportRow.Outcome.NEW, 0),
        "updated": matches if fill else 0,
        "skipped": counts.get(ImportRow.Outcome.DUPLICATE, 0) + (0 if fill else matches),
        "errors": counts.get(ImportRow.Outcome.ERROR, 0),
    }


@require_GET
@broker_view
def import_progress(request, pk):
    """The progress bar, polled by the batch page; once the worker is done, the whole page
    reloads to show the result."""
    batch = _batch(pk)
    if not batch.is_working:
        return HttpResponseClientRefresh()
    return render(request, "leads/imports/_progress.html", {"batch": batch})


@require_POST
@broker_view
def import_start(request, pk):
    batch = _batch(pk)
    if batch.status != Status.DRY_RUN:
        messages.warning(request, "Run the dry run of this file first.")
    else:
        batch_start_queue(batch)
    return redirect("leads:import-detail", pk=batch.pk)


@require_POST
@broker_view
def import_undo(request, pk):
    batch = _batch(pk)
    why_not = batch_undo(batch)
    if why_not:
        messages.error(request, why_not)
    else:
        messages.success(request, "Undoing the import: its contacts are being removed.")
    return redirect("leads:import-detail", pk=batch.pk)


@require_POST
@broker_view
def import_retry(request, pk):
    batch = _batch(pk)
    if batch.status == Status.FAILED:
        batch_retry_queue(batch)
    return redirect("leads:import-detail", pk=batch.pk)


@require_GET
@broker_view
def import_failed_csv(request, pk):
    """The rows that were not imported, as in the file, with their row number and why."""
    batch = _batch(pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{_safe_stem(batch.file_name)}-not-imported.csv"
    )
    response.write("\ufeff")  # a BOM: Excel then reads the file as UTF-8 (names with accents)
    imports.failed_rows_csv(batch, response)
    return response

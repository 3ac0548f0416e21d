"""The leads list: filters, search, sort, pages, smart lists (saved filters), CSV export."""

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_POST

from ..bulk import BROKER_ONLY, bulk_jobs_working
from ..bulk_forms import ACTION_CHOICES, BulkForm
from ..dashboard_forms import SavedFilterForm
from ..exports import LEAD_CSV_HEADER, lead_csv_rows
from ..filters import LeadFilter, normalised_query
from ..models import BulkJob, Lead, SavedFilter
from ..selectors import (
    DEFAULT_SMART_LISTS,
    lead_list_queryset,
    leads_with_tag_names,
    neighbourhoods_visible_to,
    saved_filters_for,
    user_is_broker,
)
from ..services import saved_filter_create, saved_filter_delete, saved_filter_set_pinned
from .base import dashboard_view, safe_next

PAGE_SIZE = 25
# Lists count at most this many matches ("5,000+ leads"): an exact count of a broad search over
# 100,000 leads costs more than the page itself. Narrower filters, or the export, reach the rest.
COUNT_CAP = 5_000


class CappedPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        # How many of the first COUNT_CAP + 1 match is the same number in any order: without
        # the ORDER BY the database stops at the cap instead of sorting every match first
        # (a broker's filtered count on 100,000 leads: 15 ms of SQL before, under 4 ms now).
        return self.object_list.order_by()[: COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


def _filtered(request) -> LeadFilter:
    return LeadFilter(
        request.GET or None, queryset=lead_list_queryset(request.user), request=request
    )


@require_GET
@dashboard_view
def lead_list(request):
    return lead_list_page(request)


def lead_list_page(request, *, status: int = 200, bulk_form: BulkForm | None = None):
    """The list for `request.GET`; the bulk form's view shows it again with its errors (422)."""
    filterset = _filtered(request)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    # Each row shows its tags: one query for the page's leads, never one per row.
    page.object_list = leads_with_tag_names(list(page.object_list))
    query = normalised_query(request.GET)
    saved = saved_filters_for(request.user)
    context = {
        "filter": filterset,
        "page": page,
        "query": query,
        "sort": filterset.sort_key,
        "is_broker": user_is_broker(request.user),
        "saved_filters": saved,
        "current_list": next((f for f in saved if f.query == query), None),
        "suggested_lists": [
            smart for smart in DEFAULT_SMART_LISTS if smart.query not in {f.query for f in saved}
        ],
        "save_form": SavedFilterForm(owner=request.user, initial={"query": query}),
        "neighbourhoods": neighbourhoods_visible_to(request.user),
        "count_cap": COUNT_CAP,
    }
    sort = filterset.sort_key
    context.update(
        # What each sortable column header links to: its order, or the reverse when already so.
        sort_name="-name" if sort == "name" else "name",
        sort_created="created" if sort == "-created" else "-created",
        sort_last_contact="-last_contact" if sort == "last_contact" else "last_contact",
    )
    context.update(bulk_context(request, filterset, query, bulk_form))
    return render(request, "leads/list.html", context, status=status)


def bulk_context(request, filterset, query: str, bulk_form: BulkForm | None) -> dict:
    """What the bulk bar needs. Its owners and tracks are the filter form's own choices, read
    once for both; its tag suggestions are the tag filter's."""
    form = filterset.form
    tracks = _choices_once(form, "track")
    owners = _choices_once(form, "owner") if "owner" in form.fields else []
    # The bar is plain HTML; the form is there only to show what a refused POST said (422).
    picked = set(bulk_form["lead"].value() or []) if bulk_form is not None else set()
    return {
        "bulk_form": bulk_form,
        "bulk_stages": [("", "Choose…"), *Lead.Stage.choices],
        "bulk_picked": {str(pk) for pk in picked},
        "bulk_all": bulk_form is not None and bulk_form.data.get("all") in ("1", "on", "true"),
        "bulk_tracks": [(value, label) for value, label in tracks if value != ""],
        "bulk_owners": [(value, label) for value, label in owners if value not in ("", "null")],
        "bulk_actions": [
            (value, label)
            for value, label in ACTION_CHOICES
            if value not in BROKER_ONLY or user_is_broker(request.user)
        ],
        "bulk_jobs": bulk_jobs_remembered(request),
        "tag_names": [name for name, _label in filterset.filters["tag"].extra["choices"]()],
    }


# The background jobs this person started from this browser (their ids, in the session): the
# list says how far each has got until it ends, and costs no query when there are none.
BULK_JOBS_KEY = "bulk_jobs"


def bulk_job_remember(request, job: BulkJob) -> None:
    request.session[BULK_JOBS_KEY] = [*request.session.get(BULK_JOBS_KEY, []), job.pk][-5:]


def bulk_jobs_remembered(request) -> list[BulkJob]:
    remembered = request.session.get(BULK_JOBS_KEY)
    if not remembered:
        return []
    working = [job for job in bulk_jobs_working(request.user) if job.pk in remembered]
    if len(working) != len(remembered):
        request.session[BULK_JOBS_KEY] = [job.pk for job in working]
    return working


def _choices_once(form, name: str) -> list:
    """A model choice field's choices as a list, kept on the field: the filter and the bulk
    bar then render them from one query."""
    field = form.fields[name]
    choices = [choice for choice in field.choices]  # list() would ask a COUNT first
    # Django's ModelChoiceField answers a `_choices` set on it as is, without a query (the public
    # setter is wrapped by django-filter's, which wants a queryset's iterator again).
    field._choices = field.widget.choices = choices
    return choices


class _Echo:
    """A file-like object whose write() hands back the line: csv.writer into a streamed body."""

    def write(self, value):
        return value


@require_GET
@dashboard_view
def lead_export(request):
    """The filtered list as CSV, streamed row by row (same visibility, same filters)."""
    return csv_response(_filtered(request).qs)


def csv_response(leads):
    """Leads as a CSV download, streamed row by row (the list's export, a bulk selection's)."""
    writer = csv.writer(_Echo())
    rows = (writer.writerow(row) for row in lead_csv_rows(leads, header=LEAD_CSV_HEADER))
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@dashboard_view
def saved_filter_create_view(request):
    form = SavedFilterForm(request.POST, owner=request.user)
    list_url = reverse("leads:lead-list")
    if form.is_valid():
        saved = saved_filter_create(
            owner=request.user,
            name=form.cleaned_data["name"],
            query=normalised_query(_query_dict(form.cleaned_data["query"])),
            pinned=form.cleaned_data["pinned"],
        )
        messages.success(request, f"Saved “{saved.name}”.")
        return redirect(f"{list_url}?{saved.query}" if saved.query else list_url)
    for error in [*form.non_field_errors(), *form.errors.get("name", [])]:
        messages.error(request, error)
    query = request.POST.get("query", "")
    return redirect(f"{list_url}?{normalised_query(_query_dict(query))}")


def _query_dict(query: str) -> QueryDict:
    return QueryDict(query[:1000])


@require_POST
@dashboard_view
def saved_filter_pin(request, pk):
    saved = get_object_or_404(SavedFilter, pk=pk, owner=request.user)
    saved_filter_set_pinned(saved, pinned=not saved.pinned)
    return redirect(safe_next(request, f"{reverse('leads:lead-list')}?{saved.query}"))


@require_POST
@dashboard_view
def saved_filter_delete_view(request, pk):
    saved = get_object_or_404(SavedFilter, pk=pk, owner=request.user)
    saved_filter_delete(saved)
    messages.success(request, f"Deleted “{saved.name}”.")
    return redirect(safe_next(request, reverse("leads:lead-list")))

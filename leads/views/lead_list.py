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

from ..dashboard_forms import SavedFilterForm
from ..exports import LEAD_CSV_HEADER, lead_csv_rows
from ..filters import LeadFilter, normalised_query
from ..models import SavedFilter
from ..selectors import (
    DEFAULT_SMART_LISTS,
    lead_list_queryset,
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
        return self.object_list[: COUNT_CAP + 1].count()

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
    filterset = _filtered(request)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
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
    return render(request, "leads/list.html", context)


class _Echo:
    """A file-like object whose write() hands back the line: csv.writer into a streamed body."""

    def write(self, value):
        return value


@require_GET
@dashboard_view
def lead_export(request):
    """The filtered list as CSV, streamed row by row (same visibility, same filters)."""
    leads = _filtered(request).qs
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

"""The segment report page and its CSV exports. The same report renders in the admin
(reports.admin.SegmentReportAdmin) through `report_context`."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leads.selectors import user_is_broker

from . import rollup
from .figures import DEFINITIONS, MIN_LEADS
from .forms import ReportFilterForm
from .sql import reporting_transaction
from .tables import ReportTables, write_csv


def report_context(request) -> tuple[dict, int]:
    """Everything the report templates need, and the HTTP status (400 for bad filters)."""
    form = ReportFilterForm(request.GET, user=request.user)
    context = {
        "form": form,
        "definitions": DEFINITIONS,
        "min_leads": MIN_LEADS,
        "is_broker": user_is_broker(request.user),
    }
    if not form.is_valid():
        return context, 400
    scope = form.scope()
    report = ReportTables(request.user, scope)
    with reporting_transaction():
        context |= {
            "scope": scope,
            "overall": report.segments.overall,
            "tables": report.all(),
            "trend_chart": report.chart(),
            "source_chart": report.source_chart(),
            "shows_costs": report.shows_costs,
            "estimated": report.estimated,
            "time_kind": report.time_kind,
            "estimate_bound": rollup.BOUND_LABEL,
            "exact_up_to_days": rollup.EXACT_UP_TO_DAYS,
            "query": _query(scope),
        }
    return context, 200


def _query(scope) -> str:
    params = {"start": scope.start.isoformat(), "end": scope.end.isoformat(), "grain": scope.grain}
    if scope.agent is not None:
        params["agent"] = scope.agent.pk
    return urlencode(params)


@login_required
@require_GET
def segment_report(request):
    context, status = report_context(request)
    return render(request, "reports/report.html", context, status=status)


@login_required
@require_GET
def segment_report_csv(request, table: str):
    form = ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        errors = "; ".join(" ".join(messages) for messages in form.errors.values())
        return HttpResponse(
            f"Cannot export: {errors}", status=400, content_type="text/plain; charset=utf-8"
        )
    scope = form.scope()
    report = ReportTables(request.user, scope)
    if table not in report.table_keys():
        raise Http404("No such table")
    with reporting_transaction():
        data = report.get(table)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="realtycrm-{table}-{scope.start}-to-{scope.end}.csv"'
    )
    write_csv(data, response)
    return response

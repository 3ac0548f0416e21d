"""Bulk actions on the leads list: the bar's POST, and a background job's page and progress.

The bar posts the action, what it needs and the selection (the ticked rows, or `all` with the
list's query). Export answers the selection as CSV; every other action becomes a BulkJob
(leads.bulk) that realtycrm.flows.bulk works: a small one at once (back to the list, saying
what changed), a large one in the background (its page polls the progress and can be left and
come back to). Bad input shows the list again with the bar's message (422); reassigning is a
broker's (403 for an agent, as on one lead's page).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from realtycrm.flows.bulk import bulk_job_resume, bulk_job_run

from ..bulk import (
    NothingSelected,
    bulk_job_create,
    bulk_refused,
    leads_matching,
    leads_picked,
)
from ..bulk_forms import BulkForm
from ..filters import normalised_query
from ..models import BulkJob
from ..services import tag_get_or_create
from .base import dashboard_view
from .lead_list import bulk_job_remember, csv_response, lead_list_page

# htmx stops polling an element whose request answers 286.
STOP_POLLING = 286
NOTHING_SELECTED = "None of the selected leads is yours to change."


@require_POST
@dashboard_view
def bulk_action(request):
    form = BulkForm(request.POST)
    refused = bulk_refused(request.user, request.POST.get("action", ""))
    if refused:
        raise PermissionDenied(refused)
    if not form.is_valid():
        return _invalid(request, form)
    data = form.cleaned_data
    if form.is_export:
        return csv_response(_export_selection(request.user, data))
    action = data["action"]
    try:
        with transaction.atomic():  # a new tag for no lead at all is not kept
            tag = data.get("existing_tag")
            if action == BulkJob.Action.TAG_ADD:
                tag = tag_get_or_create(data["tag"])
            job = bulk_job_create(
                request.user,
                action,
                form.job_params(tag),
                query=data["query"],
                lead_ids=data["lead"],
                all_matching=data["all"],
            )
    except NothingSelected:
        form.add_error(None, NOTHING_SELECTED)
        return _invalid(request, form)
    job = bulk_job_run(job)
    if job.status == BulkJob.Status.DONE:
        messages.success(request, job_notice(job))
        return redirect(_list_url(job.query))
    if job.status == BulkJob.Status.FAILED:
        messages.error(
            request, f"{job.params.get('label', 'The bulk action')} stopped: {job.error}"
        )
        return redirect(_list_url(job.query))
    bulk_job_remember(request, job)
    return redirect("leads:bulk-job", pk=job.pk)


def _export_selection(user, data):
    """The leads the export writes, with what each row reads (owner, track) in the same query:
    every lead matching, in the list's order, or the ticked ones, newest first."""
    if data["all"]:
        leads = leads_matching(user, normalised_query(QueryDict(data["query"][:1000])))
    else:
        leads = leads_picked(user, data["lead"]).order_by("-created_at", "-id")
    return leads.select_related("owner", "nurture_track")


def _invalid(request, form):
    """The list the bar was on, again, with the bar's message and the rows still ticked."""
    request.GET = QueryDict(form.data.get("query", "")[:1000])
    return lead_list_page(request, status=422, bulk_form=form)


def _list_url(query: str) -> str:
    url = reverse("leads:lead-list")
    return f"{url}?{query}" if query else url


def job_notice(job: BulkJob) -> str:
    """ "Bulk: Reassign to Sam Chen: 12 leads changed, 3 already so." and any failures."""
    label = job.params.get("label", job.get_action_display())
    unchanged = job.done - job.changed
    parts = [f"{job.changed:,} lead{'s' if job.changed != 1 else ''} changed"]
    if unchanged:
        parts.append(f"{unchanged:,} already so")
    if job.failed:
        parts.append(f"{job.failed:,} could not be changed")
    return f"Bulk: {label}: {', '.join(parts)}."


def _job(request, pk) -> BulkJob:
    """One of the person's own jobs (404 for anyone else's)."""
    return get_object_or_404(BulkJob.objects.defer("lead_ids"), pk=pk, created_by=request.user)


@require_GET
@dashboard_view
def bulk_job_detail(request, pk):
    job = _job(request, pk)
    return render(
        request,
        "leads/bulk/job.html",
        {"job": job, "notice": job_notice(job), "list_url": _list_url(job.query)},
    )


@require_GET
@dashboard_view
def bulk_job_progress(request, pk):
    """The progress card, polled by the job's page; once the job has ended, the final card and
    286 (polling stops)."""
    job = _job(request, pk)
    context = {"job": job, "notice": job_notice(job), "list_url": _list_url(job.query)}
    status = 200 if job.is_working else STOP_POLLING
    return render(request, "leads/bulk/_progress.html", context, status=status)


@require_POST
@dashboard_view
def bulk_job_resume_view(request, pk):
    """Go on from where the job stopped (an error, a lost worker): no lead is changed twice."""
    job = _job(request, pk)
    if bulk_job_resume(job):
        messages.info(request, "Going on from where it stopped.")
    return redirect("leads:bulk-job", pk=job.pk)

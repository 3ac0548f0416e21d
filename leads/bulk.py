"""Bulk actions on the leads list: which leads a job works on, and the job from asked to done.

    bulk_job_create    the selection (ticked rows, or every lead matching the list's filter)
                       narrowed to the leads the person may see, counted, stored as a BulkJob
    bulk_refused       why this person may not run this action ("" when they may)
    job_leads          the job's leads, read again when it runs (visibility included)
    job_next_chunk     the next leads after the job's cursor, in id order
    bulk_jobs_working  a person's jobs still running (the list shows where they are)

What each action does to a lead is realtycrm/flows/bulk.py (it spans apps); this module only
decides which leads, so the same answer holds for the page, the worker and the export.
"""

from types import SimpleNamespace

from django.db.models import Max, QuerySet
from django.http import QueryDict

from .filters import LeadFilter, normalised_query
from .models import BulkJob, Lead
from .selectors import lead_visible_to, user_is_broker

Action = BulkJob.Action
# The most rows one form may tick (a page shows 25; Django refuses a form of over 1,000 fields):
# a selection beyond it is "all matching".
MAX_PICKED = 500
# Actions only a broker may run on many leads, as on one (leads.views.lead.lead_reassign).
BROKER_ONLY = {Action.REASSIGN: "Only a broker can reassign leads."}


class NothingSelected(Exception):
    """None of the selected leads is the person's to change (or none matches the filter)."""


def bulk_refused(user, action: str) -> str:
    """Why `user` may not run `action` at all, or ""."""
    if not user.is_authenticated or not user.is_active:
        return "Sign in again to change leads."
    if action in BROKER_ONLY and not user_is_broker(user):
        return BROKER_ONLY[action]
    return ""


def leads_matching(user, query: str) -> QuerySet[Lead]:
    """Every lead `user` sees that the list's filter `query` matches (invalid values ignored, as
    the list ignores them), the same leads the list shows."""
    filterset = LeadFilter(
        QueryDict(query) if query else None,
        queryset=lead_visible_to(user, Lead.objects.all()),
        request=SimpleNamespace(user=user),
    )
    return filterset.qs


def leads_picked(user, lead_ids) -> QuerySet[Lead]:
    """The ticked leads `user` sees: anyone else's id (or one that does not exist) drops out."""
    return lead_visible_to(user, Lead.objects.filter(pk__in=list(lead_ids)[:MAX_PICKED]))


def bulk_job_create(
    user, action: str, params: dict, *, query: str = "", lead_ids=None, all_matching=False
) -> BulkJob:
    """Store what to do to which leads. The selection is the user's own from the start: ticked
    ids they may not see are dropped here, and every lead is checked again when it is worked.
    "All matching" ends at the newest lead now, so a lead arriving meanwhile is not included.
    Raises NothingSelected when no lead is left to change."""
    query = normalised_query(QueryDict(query[:1000]))
    job = BulkJob(created_by=user, action=action, params=params, query=query)
    if all_matching:
        job.all_matching = True
        job.upto_lead_id = Lead.objects.aggregate(last=Max("pk"))["last"] or 0
        job.total = leads_matching(user, query).filter(pk__lte=job.upto_lead_id).count()
    else:
        ids = sorted(leads_picked(user, lead_ids or []).values_list("pk", flat=True))
        job.lead_ids = ids
        job.total = len(ids)
    if not job.total:
        raise NothingSelected
    job.save()
    return job


def job_leads(job: BulkJob) -> QuerySet[Lead]:
    """The job's leads as of now, for the person who asked: what they may see, and (for "all
    matching") what still matches the filter."""
    user = job.created_by
    if user is None:
        return Lead.objects.none()
    if job.all_matching:
        return leads_matching(user, job.query).filter(pk__lte=job.upto_lead_id)
    return lead_visible_to(user, Lead.objects.filter(pk__in=job.lead_ids))


def job_next_chunk(job: BulkJob, size: int) -> tuple[list[Lead], int, int]:
    """The next leads after the cursor, in id order, with what each action reads loaded; the id
    the cursor moves to once they are done; and how many ticked leads were passed over (no
    longer the person's, or deleted: never worked)."""
    leads = job_leads(job).select_related("owner", "nurture_track")
    if job.all_matching:
        chunk = list(leads.filter(pk__gt=job.cursor).order_by("pk")[:size])
        return chunk, (chunk[-1].pk if chunk else job.cursor), 0
    ids = [pk for pk in job.lead_ids if pk > job.cursor][:size]
    chunk = list(leads.filter(pk__in=ids).order_by("pk")) if ids else []
    return chunk, (ids[-1] if ids else job.cursor), len(ids) - len(chunk)


def bulk_jobs_working(user) -> list[BulkJob]:
    return list(
        BulkJob.objects.filter(
            created_by=user, status__in=[BulkJob.Status.QUEUED, BulkJob.Status.RUNNING]
        ).defer("lead_ids")[:5]
    )

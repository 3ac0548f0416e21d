"""Meta lead ads, the writes: a notification stored, a lead fetched and handed to intake, the
leads a missed webhook would have lost brought in by a sync.

    notification_store    one leadgen notification → a pending Submission for its integration
                          (the same Meta lead id twice: stored once)
    lead_fetch            a pending lead's details from the Graph API → mapped, intake
    leads_retry           the pending leads a transient Graph error (or a lost task) left waiting
    integration_backfill  a form's leads (or every form of a page) since the last sync
    failed_refetch        a broker fixed a token or a permission: fetch the failed ones again

A Meta lead is a Submission (channel meta, external_id = Meta's lead id, unique) from the moment
the notification arrives: PENDING while its details are being fetched, RECEIVED with what was read
(`mapped`) just before the intake flow takes it, and then whatever the flow makes of it. Nothing
Meta told us is lost: a lead the Graph API will not give is FAILED with Meta's error for the
broker, and a lead with no email or phone is REJECTED with what was found.
"""

import json
import logging
import time
import traceback
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_q.tasks import async_task

from leads import intake
from leads.consent import ConsentEvidence
from leads.models import Channel, Integration, Submission
from realtycrm.flows.intake import channel_submission_process
from realtycrm.http import pg_safe

from . import graph
from .graph import GraphError
from .meta import LeadRead, graph_id, lead_read, origin_for

logger = logging.getLogger(__name__)

FETCH_TASK = "integrations.tasks.meta_lead_fetch"
# The sync lists leads from a little before the last one: a lead shows in a form's list a moment
# after it is made, and one seen twice is skipped by its id.
BACKFILL_MARGIN = timedelta(hours=1)
# A new integration's first sync reaches back this far before it was added: a lead its page sent
# before the broker connected it (kept as rejected) comes in then.
FIRST_SYNC_LOOKBACK = timedelta(days=1)
# A pending lead younger than this is its own fetch task's; older, the retry sweep's.
RETRY_AFTER = timedelta(minutes=1)
RETRY_FIRST, RETRY_LONGEST = timedelta(seconds=30), timedelta(minutes=15)
# A transient error this long after the first one is not transient: the broker is told.
GIVE_UP_AFTER = timedelta(days=1)
# Seconds one sync or one retry sweep works (below the django-q2 timeout); the rest is next run's.
WORK_BUDGET_SECONDS = 30


# --- Which integration, which token --------------------------------------------------------------


def integration_for(page_id: str, form_id: str) -> Integration | None:
    """The active integration for a page's form: the form's own, else the page's (blank form)."""
    candidates = Integration.objects.filter(
        kind=Integration.Kind.META, active=True, meta_page_id=page_id
    ).filter(Q(meta_form_id="") | Q(meta_form_id=form_id))
    ranked = sorted(candidates, key=lambda found: (found.meta_form_id == "", found.pk))
    return ranked[0] if ranked else None


def page_token(integration: Integration) -> str:
    return integration.meta_page_token or settings.META_PAGE_ACCESS_TOKEN


def _origin(integration: Integration, form_id: str, token: str) -> str:
    """ "Meta · <the page> · <the form>": the integration's origin (else the page's name on
    Facebook, else the integration's name) and the form's name on Facebook (else its id)."""
    page = (
        integration.origin or graph.object_name(integration.meta_page_id, token) or integration.name
    )
    return origin_for(page, graph.object_name(form_id, token) or form_id)


# --- The webhook's notifications -----------------------------------------------------------------


def notification_store(value: dict, info: intake.RequestInfo) -> tuple[str, Submission | None]:
    """Store one leadgen notification ({leadgen_id, page_id, form_id, ad_id, adgroup_id,
    created_time}) as a pending submission and fetch its details after commit. Returns
    ("stored" | "duplicate" | "rejected", the submission)."""
    leadgen_id, page_id = graph_id(value.get("leadgen_id")), graph_id(value.get("page_id"))
    form_id = graph_id(value.get("form_id"))
    if not (graph.is_graph_id(leadgen_id) and graph.is_graph_id(page_id)):
        errors = {"leadgen_id": "A leadgen notification names its lead and page by their ids."}
        return "rejected", intake.submission_reject(Channel.META, value, info, errors)
    integration = integration_for(page_id, form_id)
    if integration is None:
        errors = {
            "integration": f"No active Meta integration for page {page_id}"
            + (f" and form {form_id}" if form_id else "")
            + ": add one in the admin (Leads → Integrations); its first sync brings "
            "in the day's leads before it, this one too."
        }
        return "rejected", intake.submission_reject(Channel.META, value, info, errors)
    try:
        with transaction.atomic():
            submission = intake.submission_receive(
                integration.default_source,
                value,
                info,
                channel=Channel.META,
                integration=integration,
                origin=integration.origin,
                attribution={"page_id": page_id, "form_id": form_id, "leadgen_id": leadgen_id},
                external_id=leadgen_id,
                status=Submission.Status.PENDING,
            )
    except IntegrityError:
        logger.info("Meta lead %s was already stored", leadgen_id)
        return "duplicate", None
    _fetch_later(submission.pk)
    return "stored", submission


def _fetch_later(submission_pk: int) -> None:
    transaction.on_commit(
        lambda: async_task(FETCH_TASK, submission_pk, task_name=f"meta-lead-{submission_pk}"),
        robust=True,
    )


# --- Fetching a lead -----------------------------------------------------------------------------


def lead_fetch(submission_id: int) -> str:
    """Fetch a pending lead's details and hand them to intake. Safe to run twice (the second
    finds it no longer pending). Returns what became of it: accepted, pending (a transient
    error: retried later), failed, rejected or skipped."""
    submission = (
        Submission.objects.select_related("integration")
        .filter(pk=submission_id, channel=Channel.META, status=Submission.Status.PENDING)
        .first()
    )
    if submission is None:
        return "skipped"
    integration = submission.integration
    if integration is None:
        return _fetch_failed(submission, GraphError("Its integration was deleted", transient=False))
    token = page_token(integration)
    if not token:
        error = GraphError(
            "No page access token: paste one on the integration (or set META_PAGE_ACCESS_TOKEN)",
            transient=False,
        )
        return _fetch_failed(submission, error)
    try:
        lead = graph.lead_get(submission.external_id, token)
    except GraphError as error:
        return _fetch_failed(submission, error)
    form_id = graph_id(lead.get("form_id")) or graph_id(submission.data.get("form_id"))
    return _lead_complete(submission.pk, lead, _origin(integration, form_id, token))


def _fetch_state(submission: Submission) -> dict:
    """The retries so far, kept in the submission's error (JSON) beside Meta's last error."""
    try:
        state = json.loads(submission.error) if submission.error.startswith("{") else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _fetch_failed(submission: Submission, error: GraphError) -> str:
    """A transient error keeps the lead pending, to be fetched again (backing off); any other,
    or one still failing a day on, fails it with Meta's error kept for the broker."""
    now = timezone.now()
    state = _fetch_state(submission)
    attempts = int(state.get("attempts") or 0) + 1
    first_failed_at = parse_datetime(str(state.get("first_failed_at") or "")) or now
    record = {
        "graph": error.as_data(),
        "attempts": attempts,
        "first_failed_at": first_failed_at.isoformat(),
        "last_attempt_at": now.isoformat(),
    }
    pending = Submission.objects.filter(pk=submission.pk, status=Submission.Status.PENDING)
    if error.transient and now - first_failed_at < GIVE_UP_AFTER:
        record["retrying"] = True
        pending.update(error=json.dumps(record))
        logger.warning("Meta lead %s: %s (will retry)", submission.external_id, error.message)
        return "pending"
    pending.update(status=Submission.Status.FAILED, error=json.dumps(record))
    logger.warning("Meta lead %s failed: %s", submission.external_id, error.message)
    return "failed"


def _retry_due(submission: Submission, now) -> bool:
    state = _fetch_state(submission)
    attempts = int(state.get("attempts") or 0)
    last = parse_datetime(str(state.get("last_attempt_at") or ""))
    if not attempts or last is None:
        return True  # never tried: its task was lost
    wait = min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_LONGEST)
    return now >= last + wait


def leads_retry(*, now=None, limit: int = 200) -> int:
    """Fetch again every pending lead whose next try is due (older than a minute: a younger one
    is its own task's), within the work budget. Returns how many were tried."""
    now = now or timezone.now()
    pending = Submission.objects.filter(
        channel=Channel.META, status=Submission.Status.PENDING, created_at__lt=now - RETRY_AFTER
    ).order_by("created_at", "id")[:limit]
    deadline = time.monotonic() + WORK_BUDGET_SECONDS
    tried = 0
    for submission in [found for found in pending if _retry_due(found, now)]:
        if time.monotonic() > deadline:
            break
        lead_fetch(submission.pk)
        tried += 1
    return tried


def _lead_complete(submission_pk: int, lead: dict, origin: str) -> str:
    """What the Graph API said about a lead, read as ours and stored on its submission
    (RECEIVED), then processed by the intake flow, under the submission's lock (a webhook's
    fetch and a sync racing for one lead make one lead). A failed fetch's submission (nothing
    was read from it yet) is completed too: a sync lists what a fetch could not get. A lead
    that cannot be read fails with why, rather than being fetched again and again."""
    try:
        return _lead_complete_locked(submission_pk, lead, origin)
    except Exception:
        logger.exception("Could not read Meta lead submission %s", submission_pk)
        Submission.objects.filter(pk=submission_pk, status=Submission.Status.PENDING).update(
            status=Submission.Status.FAILED, error=traceback.format_exc()[-5000:]
        )
        return "failed"


def _lead_complete_locked(submission_pk: int, lead: dict, origin: str) -> str:
    with transaction.atomic():
        submission = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("integration")
            .filter(
                pk=submission_pk,
                lead__isnull=True,
                status__in=(Submission.Status.PENDING, Submission.Status.FAILED),
            )
            .first()
        )
        if submission is None or submission.integration is None:
            return "skipped"
        if (submission.mapped or {}).get("fields"):
            return "skipped"  # read before: a failure of the flow is "process again"'s
        integration = submission.integration
        read = lead_read(lead, mapping=integration.field_mapping, source=submission.source)
        submission.data = pg_safe({**submission.data, "lead": lead})
        submission.origin = pg_safe(origin)[:200]
        submission.attribution = pg_safe({**submission.attribution, **read.attribution})
        submission.query = pg_safe(read.utm)
        if not read.reachable:
            return _unreachable(submission, read)
        consent = _consent(read, integration, submission)
        mapped = intake.channel_mapping(read.fields, sms_consent=consent)
        if read.problems:
            mapped["problems"] = read.problems
        submission.mapped = pg_safe(mapped)
        submission.status, submission.error = Submission.Status.RECEIVED, ""
        submission.save()
        created = channel_submission_process(submission)
    return "accepted" if created is not None else "failed"


def _unreachable(submission: Submission, read: LeadRead) -> str:
    errors = {"lead": "No email address or phone number to reach them by.", **read.problems}
    submission.mapped = pg_safe(intake.channel_mapping({}, found=read.fields))
    submission.status = Submission.Status.REJECTED
    submission.error = json.dumps(errors)
    submission.save()
    logger.info("Meta lead %s rejected: %s", submission.external_id, submission.error)
    return "rejected"


def _consent(read: LeadRead, integration: Integration, submission: Submission):
    """SMS consent is evidence: the form's SMS checkbox, ticked, with the disclaimer wording the
    broker recorded for it; else what the integration's record proves; a box left unticked is
    a no, whatever the record says."""
    if read.sms_checkbox is not None:
        key, checked = read.sms_checkbox
        if not checked:
            return None
        wording = integration.sms_consent_wording.strip()
        form_id = read.attribution.get("form_id") or graph_id(submission.data.get("form_id"))
        if wording:
            return ConsentEvidence(
                wording=wording,
                version=f"meta-form-{form_id}"[:40],
                given_at=read.created_at,
                detail={
                    "basis": "Meta lead form disclaimer checkbox",
                    "checkbox_key": key,
                    "leadgen_id": submission.external_id,
                    "form_id": form_id,
                    "page_id": graph_id(submission.data.get("page_id")),
                },
            )
    return intake.consent_from_integration(integration)


# --- The sync (a missed webhook loses nothing) ---------------------------------------------------


def integrations_to_sync() -> list[int]:
    return list(
        Integration.objects.filter(kind=Integration.Kind.META, active=True)
        .exclude(meta_page_id="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


class _OutOfTime(Exception):
    pass


def integration_backfill(integration_id: int) -> dict:
    """List the integration's form (or every active form of its page that no other integration
    has) for leads made since its last sync, less a margin (a first sync: since the day before
    the integration was added), every page of the list. Store and process each lead not seen
    yet (its details are in the list: no second call), and complete one still pending or whose
    fetch failed. The sync time moves only when the whole list was read. Returns counts by
    outcome."""
    integration = Integration.objects.filter(
        pk=integration_id, kind=Integration.Kind.META, active=True
    ).first()
    token = page_token(integration) if integration is not None else ""
    if not (integration and graph.is_graph_id(integration.meta_page_id) and token):
        return {"skipped": 1}
    started = timezone.now()
    if integration.meta_synced_at is not None:
        since = integration.meta_synced_at - BACKFILL_MARGIN
    else:
        since = integration.created_at - FIRST_SYNC_LOOKBACK
    deadline = time.monotonic() + WORK_BUDGET_SECONDS
    counts = Counter()
    try:
        for form_id in _forms_to_sync(integration, token):
            origin = _origin(integration, form_id, token)
            for listed in graph.form_leads(form_id, token, since=since):
                if time.monotonic() > deadline:
                    raise _OutOfTime
                counts[_lead_listed(integration, form_id, listed, origin)] += 1
    except GraphError as error:
        logger.warning("Meta sync of %s stopped: %s", integration, error.message)
        counts["graph_error"] += 1
        return dict(counts)
    except _OutOfTime:
        counts["unfinished"] += 1
        return dict(counts)
    Integration.objects.filter(pk=integration.pk).update(meta_synced_at=started)
    return dict(counts)


def _forms_to_sync(integration: Integration, token: str) -> list[str]:
    if integration.meta_form_id:
        return [integration.meta_form_id]
    own_integration = set(
        Integration.objects.filter(
            kind=Integration.Kind.META, active=True, meta_page_id=integration.meta_page_id
        )
        .exclude(meta_form_id="")
        .values_list("meta_form_id", flat=True)
    )
    forms = graph.page_forms(integration.meta_page_id, token)
    return [str(form["id"]) for form in forms if str(form["id"]) not in own_integration]


def _lead_listed(integration: Integration, form_id: str, listed: dict, origin: str) -> str:
    leadgen_id = graph_id(listed.get("id"))
    if not graph.is_graph_id(leadgen_id):
        return "skipped"
    known = Submission.objects.filter(channel=Channel.META, external_id=leadgen_id).first()
    if known is None:
        value = {
            "leadgen_id": leadgen_id,
            "page_id": integration.meta_page_id,
            "form_id": form_id,
            "ad_id": listed.get("ad_id"),
            "created_time": listed.get("created_time"),
            "via": "sync",
        }
        try:
            with transaction.atomic():
                known = intake.submission_receive(
                    integration.default_source,
                    {key: item for key, item in value.items() if item is not None},
                    intake.RequestInfo(),
                    channel=Channel.META,
                    integration=integration,
                    origin=integration.origin,
                    attribution={"page_id": integration.meta_page_id, "form_id": form_id},
                    external_id=leadgen_id,
                    status=Submission.Status.PENDING,
                )
        except IntegrityError:
            return "known"  # its webhook stored it a moment ago; its own fetch goes on
    elif known.lead_id is not None or known.status not in (
        Submission.Status.PENDING,
        Submission.Status.FAILED,
    ):
        return "known"
    outcome = _lead_complete(known.pk, listed, origin)
    return "known" if outcome == "skipped" else outcome


# --- A broker's "try again" ----------------------------------------------------------------------


def failed_refetch(integrations) -> int:
    """The failed fetches of these integrations' leads (nothing was read from them yet) are
    pending again and fetched: after the broker pasted a fresh token or granted a permission."""
    failed = Submission.objects.filter(
        channel=Channel.META,
        integration__in=integrations,
        status=Submission.Status.FAILED,
        lead__isnull=True,
    )
    ids = [found.pk for found in failed if not (found.mapped or {}).get("fields")]
    with transaction.atomic():
        Submission.objects.filter(pk__in=ids, status=Submission.Status.FAILED).update(
            status=Submission.Status.PENDING, error=""
        )
        for pk in ids:
            _fetch_later(pk)
    return len(ids)

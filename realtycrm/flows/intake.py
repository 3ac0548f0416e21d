"""Intake: a stored submission in, a segmented, routed, acknowledged lead out, in one transaction.

    submission_process   dedupe → create the lead or record a re-inquiry, whose different
                         answers are proposed to the agent, never written (leads.intake) →
                         SMS consent, lifting an earlier opt-out (sequences.suppressions) →
                         route a new lead, or re-route one that got hotter (flows.routing) →
                         re-alert, re-acknowledge a re-inquiry (alerts, sequences)
                         A dormant contact of the old database that answers is re-engaged:
                         its arrival, routed like a new lead (lead_reengage_route)
    lead_reengage_route  a dormant contact answered (a form, its campaign link, a text):
                         the lead arrives now with its history → routed as new, its owner
                         kept → the campaign it answered marked
    submission_release   a broker releases a quarantined (or failed) submission: its form reads
                         the stored answers again, then submission_process, the lead marked
    submissions_process_stranded   every minute: a submission stored but never processed (its
                         web process died between the two commits) goes through intake now

Every channel stores its raw payload first (leads.intake.submission_receive) and then calls this.
"""

import logging
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from alerts.services import alert_on_reinquiry
from leads import intake, segmentation
from leads.consent import ConsentEvidence, form_consent
from leads.forms import FORM_FOR_SOURCE
from leads.models import Channel, Lead, Submission
from leads.ownership import agent_available
from leads.routing import lead_segment
from leads.rulebook import rules_read_once
from leads.services import lead_events_batched, lead_tag
from sequences.batching import messages_held
from sequences.models import Message
from sequences.services.agent_tasks import no_consent_call_task_open
from sequences.services.campaigns import recipient_for_reengagement, recipient_reengaged
from sequences.services.steps import acknowledgment_for_reinquiry
from sequences.services.suppressions import address_unsuppress

from .observability import intake_observed
from .routing import lead_route, lead_route_prepare

logger = logging.getLogger(__name__)
User = get_user_model()


@intake_observed  # the metrics' intake counts; its log lines name the submission
def submission_process(
    submission: Submission,
    fields: dict,
    *,
    sms_consent: bool | ConsentEvidence | None,
    released_by=None,
) -> Lead | None:
    """Turn a stored submission into a lead. Never raises: a failure is kept on the submission
    (status failed, with the error) for a broker to process again from the admin. A submission
    with a spam signal (sent too fast; released from quarantine by `released_by`) marks its
    lead for review. `sms_consent`: True for our own form's checkbox, or another channel's
    evidence."""
    if sms_consent is True:
        sms_consent = form_consent()
    try:
        try:
            return _submission_process_once(
                submission, fields, sms_consent=sms_consent, released_by=released_by, first=True
            )
        except intake.TwinCommitted:
            # Its twin committed first: everything this transaction wrote was rolled back, and
            # the second run finds their lead (locked) and records a re-inquiry.
            return _submission_process_once(
                submission, fields, sms_consent=sms_consent, released_by=released_by, first=False
            )
    except Exception:
        logger.exception("Could not process %s submission %s", submission.source, submission.pk)
        intake.submission_fail(submission, traceback.format_exc())
        return None


def _submission_process_once(
    submission: Submission, fields: dict, *, sms_consent, released_by, first: bool
) -> Lead:
    """One run of submission_process's transaction. `first`: a racing twin's lead, met by the
    new lead's INSERT, raises TwinCommitted (no savepoint guards it) for a second run."""
    with transaction.atomic(), rules_read_once():
        # The rules are read at most once (leads.rulebook); the timeline events of the whole
        # intake go in one insert before the commit, and its messages in another
        # (sequences.batching).
        with lead_events_batched(prefix=""), messages_held():
            lead, created = _lead_from_submission(
                submission, fields, sms_consent=sms_consent, retried_on_twin=first
            )
            if submission.spam_reason:
                intake.review_record(lead, submission, released_by=released_by)
        intake.submission_accept(submission, lead, created=created)
    return lead


def channel_submission_process(submission: Submission) -> Lead | None:
    """A stored submission from a channel other than the forms (API, email, Meta), processed by
    what its adapter read from it (`submission.mapped`, leads.intake.channel_mapping)."""
    mapped = submission.mapped or {}
    return submission_process(
        submission,
        dict(mapped.get("fields") or {}),
        sms_consent=ConsentEvidence.from_data(mapped.get("sms_consent")),
    )


def _assign_by(submission: Submission) -> dict:
    """Who the channel says gets a new lead: an owner the payload names (a plus-addressed inbox),
    else the integration's default owner, else its assignment rule; nothing for a form."""
    integration = submission.integration
    assign_by = {"rule": integration.assignment_rule} if integration is not None else {}
    owner_pk = (submission.mapped or {}).get("owner")
    named = User.objects.filter(pk=owner_pk).select_related("agent").first() if owner_pk else None
    # A named agent who cannot take leads now (paused, inactive) falls back to the
    # integration's own owner, then its rule, as if nobody had been named.
    if named is not None and hasattr(named, "agent") and agent_available(named.agent):
        return {
            **assign_by,
            "owner": named,
            "why": f"named by {intake.submission_label(submission)}",
        }
    if integration is not None and integration.default_owner_id:
        assign_by["owner"] = integration.default_owner
        assign_by["why"] = f"the default owner of the integration “{integration.name}”"
    return assign_by


def _lead_from_submission(
    submission: Submission,
    fields: dict,
    *,
    sms_consent: ConsentEvidence | None,
    retried_on_twin: bool = False,
) -> tuple[Lead, bool]:
    tags = (submission.mapped or {}).get("tags")
    match = intake.submission_match(submission, fields)
    if match is not None and match.dormant:
        lead_tag(match, tags)
        return _reengage(match, submission, fields, sms_consent=sms_consent), False
    prepared = {}

    def prepare(lead: Lead, decision) -> None:
        """A new lead's row is written with its consent columns, owner and track (decided here,
        before its INSERT), a re-inquiry's with its consent columns: nothing on the lead is
        updated afterwards. The consent is _sms_consent's, below, for the same number."""
        if _consents(lead) and not (lead.sms_opted_out_at and not sms_consent.lifts_opt_out):
            intake.consent_columns(lead, sms_consent)
            prepared["consent"] = True
        if decision is not None:
            chosen = lead_route_prepare(lead, decision, assign_by=_assign_by(submission))
            prepared["chosen"] = chosen

    def _consents(lead: Lead) -> bool:
        return bool(sms_consent and lead.phone and fields.get("phone") == lead.phone)

    lead, decision = intake.lead_take_submission(
        submission, fields, match=match, prepare=prepare, retried_on_twin=retried_on_twin
    )
    lead_tag(lead, tags)
    # Consent first: the acknowledgment below is written for a number that may be texted now.
    # Consent is for the number typed on this form: a re-inquiry with another number (only
    # proposed to the agent) neither consents for the lead's number nor lifts its STOP.
    if _consents(lead):
        _sms_consent(lead, submission, sms_consent, written="consent" in prepared)
    if decision is not None:
        lead_route(lead, decision, is_new=True, chosen=prepared["chosen"])
        # No evidence of consent from a channel: email only, and the owner calls instead.
        no_consent_call_task_open(lead)
        return lead, True
    # A re-inquiry can make a lead hotter, never cooler: cooling down is an agent's call. What
    # it says now (a hotter timeline, a showing request) decides, though a different timeline is
    # only proposed to the agent, never written over the recorded one (leads.intake).
    asked_now = intake.asked_now(lead, fields)
    decision = lead_segment(lead, **asked_now)
    if segmentation.INTENT_RANK[decision.intent] > segmentation.INTENT_RANK[lead.intent]:
        if asked_now:  # the reason names what they said this time, not the recorded answers
            reason = decision.intent_reason
            decision = replace(
                decision, intent_reason=f"Asked again: {reason[:1].lower()}{reason[1:]}"
            )
        lead_route(lead, decision, is_new=False)  # alerts the owner if it became hot
    else:
        alert_on_reinquiry(lead)  # a hot lead asking again: its owner, once per window
    # Answered like a first inquiry, matched to this form and about what they asked now (not
    # what the lead recorded earlier), unless acknowledged recently.
    acknowledgment_for_reinquiry(
        lead,
        source=submission.source,
        submission_id=submission.pk,
        asked=intake.acknowledgment_answers(fields),
    )
    return lead, False


def _reengage(
    lead: Lead, submission: Submission, fields: dict, *, sms_consent: ConsentEvidence | None
) -> Lead:
    """A dormant contact sent a form (the campaign's personal link names it; any other form
    matches it by email or phone): it re-engages. Consent given on this form counts for the
    number it typed, recorded first: the acknowledgment is written for a number that may be
    texted now."""
    if sms_consent and lead.phone and fields.get("phone") == lead.phone:
        _sms_consent(lead, submission, sms_consent)
    lead = lead_reengage_route(
        lead,
        fields,
        how=f"via the {intake.submission_label(submission)} form"
        if submission.channel == Channel.FORM
        else f"via {intake.submission_label(submission)}",
        campaign_id=(submission.mapped or {}).get("campaign"),
        assign_by=_assign_by(submission),
        data={"submission": submission.pk, "source": submission.source},
        named=(submission.mapped or {}).get("lead") == lead.pk,
        source=submission.source,  # acknowledged for the form it used, as re-inquiries are
    )
    if submission.channel != Channel.FORM:
        no_consent_call_task_open(
            lead,
            why=f"{intake.submission_label(submission).capitalize()} gave no SMS consent: "
            "this lead may be called and emailed, not texted.",
        )
    return lead


def lead_reengage_route(
    lead: Lead,
    fields: dict,
    *,
    how: str,
    campaign_id=None,
    assign_by: dict | None = None,
    data: dict | None = None,
    named: bool = False,
    source: str | None = None,
) -> Lead:
    """A dormant contact answered: the re-engagement is its arrival. The lead keeps its history
    and arrives now with what it said (leads.intake.lead_reengage: not dormant, created now, a
    REENGAGED event naming the campaign it answers); it is routed like a new lead (the timeline
    it gave decides its intent: within 6 months is hot, and its owner is interrupted; its owner
    from the import keeps it while available, else the rules assign it), enters its track (the
    reactivation track) with the source-matched acknowledgment; the campaign's recipient row
    records the re-engagement. Runs in the caller's transaction."""
    recipient = recipient_for_reengagement(lead, campaign_id)
    answered = {"campaign": recipient.campaign_id} if recipient is not None else {}
    if recipient is not None:
        how = f"{how} (campaign “{recipient.campaign.name}”)"
    decision = intake.lead_reengage(
        lead, fields, how=how, data={**(data or {}), **answered}, named=named
    )
    lead_route(lead, decision, is_new=True, assign_by=assign_by, source=source)
    if recipient is not None:
        recipient_reengaged(recipient, lead)
    return lead


def _sms_consent(
    lead: Lead, submission: Submission, evidence: ConsentEvidence, *, written: bool = False
) -> None:
    """Fresh consent is recorded with its evidence, and lifts an earlier STOP or carrier opt-out
    of this number (the timeline says "Opted back in"); otherwise it is a first consent. An
    integration's standing consent record lifts nothing: a number that said STOP stays
    stopped (the outbox checks the suppression list before every text). `written`: a new lead
    was inserted with its consent columns (leads.intake.consent_columns)."""
    was_opted_out = lead.sms_opted_out_at is not None
    if was_opted_out and not evidence.lifts_opt_out:
        return
    record = intake.consent_record(lead, submission, evidence, written=written)
    address_unsuppress(
        Message.Channel.SMS,
        lead.phone,
        summary=intake.consent_summary(submission),
        data={"wording_version": record.wording_version, "submission": submission.pk},
        # Phones are unique: this lead is the only one with the number, and when it is not
        # opted out there is no lead to mark opted back in.
        no_lead_opted_out=not was_opted_out,
    )
    if was_opted_out:
        lead.sms_opted_out_at = None  # cleared, with its "Opted back in" event, by the line above
    else:
        intake.consent_event_record(lead, record)


# A channel whose adapter can read one of its stored payloads again (an event its reader once
# failed on, after the reader was fixed) registers how, at start-up (integrations/apps.py):
# channel → reader(submission) → True once the submission's `mapped` holds what it read. A
# form's reader is its form class (FORM_FOR_SOURCE).
PAYLOAD_READERS: dict[str, Callable[[Submission], bool]] = {}


def submission_release(submission: Submission, *, actor) -> tuple[Lead | None, str]:
    """A broker says a quarantined (or failed) submission is a real person: its form reads the
    answers as stored, and it goes through intake like any other (lead, owner, track,
    acknowledgment, alert). Returns the lead, or why there is none."""
    if submission.status == Submission.Status.ACCEPTED:
        return submission.lead, ""
    if submission.channel != Channel.FORM:
        reader = PAYLOAD_READERS.get(submission.channel)
        if not (submission.mapped or {}).get("fields") and not (reader and reader(submission)):
            return None, f"{submission}: nothing was read from it yet"
        lead = channel_submission_process(submission)
        if lead is None:
            return None, f"{submission}: processing failed (the error is on the submission)"
        return lead, ""
    form = FORM_FOR_SOURCE[submission.source](data=submission.data, query=submission.query)
    if not form.is_valid():
        return None, f"{submission}: {form.errors.as_text()}"
    lead = submission_process(
        submission,
        form.lead_fields(),
        sms_consent=form.cleaned_data["sms_consent"],
        released_by=actor if submission.status == Submission.Status.SPAM else None,
    )
    if lead is None:
        return None, f"{submission}: processing failed (the error is on the submission)"
    return lead, ""


# A submission still "received" this long after it was stored lost its web process between the
# two commits (storing, then processing): a live request is done within a second or two.
STRANDED_AFTER = timedelta(minutes=2)


def submissions_process_stranded(*, now=None, limit: int = 200) -> int:
    """Process every submission that was stored but never processed (the web process was killed,
    or the database went away, after the raw submission committed): nothing a prospect sent is
    lost because of where a crash fell. Each is locked while it is processed, so two workers
    never take the same one; dedupe makes even a racing live request a re-inquiry, never a
    second lead. Returns how many were processed."""
    cutoff = (now or timezone.now()) - STRANDED_AFTER
    stranded = list(
        Submission.objects.filter(status=Submission.Status.RECEIVED, created_at__lt=cutoff)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    processed = 0
    for pk in stranded:
        with transaction.atomic():
            submission = (
                Submission.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=Submission.Status.RECEIVED)
                .first()
            )
            if submission is None:
                continue
            lead, why = submission_release(submission, actor=None)
            if lead is None:
                logger.warning("Stranded submission %s could not be processed: %s", pk, why)
                submission.refresh_from_db(fields=["status"])
                if submission.status == Submission.Status.RECEIVED:  # the form refused it
                    intake.submission_fail(submission, why)
            processed += 1
    return processed

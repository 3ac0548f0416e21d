"""Intake, the leads' part: store what arrived, and turn it into a lead or a re-inquiry.

    submission_receive     store the POST as received (always first, so nothing is lost)
    submission_quarantine  a clear bot's POST: stored, never turned into a lead (a broker may
                           release it from Today or the admin)
    review_record          a lead from a submission that looked odd (sent faster than a person
                           types, or released from quarantine): its timeline says so
    submission_match       the lead a submission is about: the one its personal link names (a
                           reactivation campaign's), else the one with its email or phone
    lead_take_submission   dedupe → create the lead, or record a re-inquiry on the one it matches
                           (blanks filled, different answers proposed, never written)
    lead_reengage          a dormant contact answered: its arrival (not dormant, created now),
                           its history kept, its answers taken like a re-inquiry's
    consent_record         the evidence of an SMS consent given on a form

The whole use case (consent, routing, acknowledgment, alerts, in one transaction) is
realtycrm.flows.intake.submission_process. Dedupe is enforced by the database (unique email,
unique phone): two racing submissions from the same person end as one lead and a re-inquiry,
never two leads.
"""

import json
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from realtycrm.http import pg_safe

from .consent import INTEGRATION_RECORD, ConsentEvidence, form_consent
from .models import Channel, ConsentRecord, Integration, Lead, LeadEvent, Source, Submission
from .routing import lead_segment, track_name
from .segmentation import Decision
from .services import decision_values, json_value, lead_change_stage, lead_event_record

logger = logging.getLogger(__name__)

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
# What the lead asks about on this form (the property, the open house, the question). A
# re-inquiry fills them when blank and proposes a different answer to the agent; it never
# overwrites one (a public form must not rewrite someone's lead).
LATEST_ANSWER_FIELDS = (
    "property_address",
    "postal_code",
    "bedrooms",
    "bathrooms",
    "open_house",
    "inquiry_type",
    "message",
)
# What a prospect tells us on any form, as Lead fields (the side is derived from their answers).
ANSWER_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "timeline",
    *LATEST_ANSWER_FIELDS,
    "asked_for_showing",
)
# What a re-inquiry may propose instead of a recorded value, in the order the agent sees them.
PROPOSABLE_FIELDS = ("first_name", "last_name", "email", "phone", "timeline", *LATEST_ANSWER_FIELDS)
MAX_RAW_KEYS, MAX_RAW_VALUE = 50, 5000


@dataclass(frozen=True)
class RequestInfo:
    """What the request says about where a submission came from (consent evidence)."""

    ip: str | None = None
    user_agent: str = ""
    form_url: str = ""
    query: dict[str, str] = field(default_factory=dict)


def raw_fields(querydict) -> dict:
    """A QueryDict as plain data, capped, without the CSRF token."""
    raw = {}
    for key in list(querydict.keys())[:MAX_RAW_KEYS]:
        if key == "csrfmiddlewaretoken":
            continue
        values = [str(value)[:MAX_RAW_VALUE] for value in querydict.getlist(key)]
        raw[key[:100]] = values[0] if len(values) == 1 else values
    return raw


def submission_receive(
    source: str,
    data: dict,
    info: RequestInfo,
    *,
    review_reason: str = "",
    channel: str = Channel.FORM,
    integration: Integration | None = None,
    origin: str = "",
    attribution: dict | None = None,
    external_id: str = "",
    mapped: dict | None = None,
    status: str = Submission.Status.RECEIVED,
    error: str = "",
) -> Submission:
    """Store what arrived. Whatever a request carries that the database cannot hold (a NUL in a
    field, a query-string key or the User-Agent) is replaced, so the row is always written.
    `review_reason`: what looked odd (it is kept as the spam signal; the lead is marked).

    Channels other than the forms also give where it came from (`integration`, `origin`,
    `attribution`), their own id for the payload (`external_id`: the database refuses a second
    submission with it, IntegrityError) and what their adapter read from it (`mapped`, see
    channel_mapping)."""
    return Submission.objects.create(
        source=source,
        channel=channel,
        integration=integration,
        origin=pg_safe(origin)[:200],
        attribution=pg_safe(attribution or {}),
        external_id=pg_safe(external_id)[:300],
        status=status,
        spam_reason=review_reason[:100],
        data=pg_safe(data),
        query=pg_safe(info.query),
        mapped=pg_safe(mapped or {}),
        form_url=pg_safe(info.form_url)[:1000],
        ip=info.ip,
        user_agent=pg_safe(info.user_agent)[:500],
        error=pg_safe(error)[:5000],
    )


def channel_mapping(
    fields: dict,
    *,
    sms_consent: ConsentEvidence | None = None,
    owner=None,
    found: dict | None = None,
    tags=None,
) -> dict:
    """What a channel's adapter read from a payload, as stored on the Submission (`mapped`): the
    Lead fields, the SMS consent evidence, an owner the payload names (a plus-addressed inbox),
    the tags it gives the person.
    A rejected payload keeps what was `found` in it, to prefill a broker's "make a lead" form."""
    mapped = {"fields": {name: json_value(value) for name, value in fields.items()}}
    if sms_consent is not None:
        mapped["sms_consent"] = sms_consent.as_data()
    if owner is not None:
        mapped["owner"] = owner.pk
    if tags:
        mapped["tags"] = [str(tag) for tag in tags]
    if found:
        mapped["found"] = {name: json_value(value) for name, value in found.items()}
    return mapped


def submission_reject(
    channel: str,
    data: dict,
    info: RequestInfo,
    errors: dict,
    *,
    source: str = Source.WEBSITE,
    integration: Integration | None = None,
    origin: str = "",
    found: dict | None = None,
    attribution: dict | None = None,
    external_id: str = "",
) -> Submission:
    """A payload no adapter could turn into a lead (bad fields, an email nobody can parse): kept
    as received with the machine-readable `errors`, for a broker to inspect (and, for an email,
    to make a lead from what was `found`). With an `external_id` (an email's Message-ID) the
    same payload is refused a second time (IntegrityError), as when it is accepted."""
    submission = submission_receive(
        source,
        data,
        info,
        channel=channel,
        integration=integration,
        origin=origin,
        attribution=attribution,
        external_id=external_id,
        mapped=channel_mapping({}, found=found) if found else None,
        status=Submission.Status.REJECTED,
        error=json.dumps(errors, default=str),
    )
    logger.info("Rejected %s payload %s: %s", channel, submission.pk, submission.error[:200])
    return submission


def submission_quarantine(source: str, data: dict, info: RequestInfo, reason: str) -> Submission:
    submission = submission_receive(source, data, info)
    submission.status = Submission.Status.SPAM
    submission.spam_reason = reason[:100]
    submission.save(update_fields=["status", "spam_reason"])
    logger.info("Quarantined %s submission %s: %s", source, submission.pk, reason)
    return submission


def review_record(lead: Lead, submission: Submission, *, released_by=None) -> LeadEvent:
    """Mark the lead for review on its timeline: the submission it came from looked machine-made
    in one way (`submission.spam_reason`), or was released from quarantine by a broker."""
    reason = submission.spam_reason
    if released_by is not None:
        summary = f"Released from quarantine ({reason}): check this is a real person"
    else:
        summary = f"Check this is a real person: the form was {reason}"
    return lead_event_record(
        lead,
        LeadEvent.Kind.NOTE,
        actor=released_by,
        summary=summary[:255],
        data={"review": reason, "submission": submission.pk},
    )


def submission_accept(submission: Submission, lead: Lead, *, created: bool) -> None:
    submission.lead = lead
    submission.status = Submission.Status.ACCEPTED
    submission.created_lead = created
    submission.error = ""
    submission.save(update_fields=["lead", "status", "created_lead", "error"])


def submission_fail(submission: Submission, error: str) -> None:
    """Processing failed: the submission keeps the error, for a broker to process it again."""
    Submission.objects.filter(pk=submission.pk).update(
        status=Submission.Status.FAILED, error=error[-5000:]
    )


_LOOK = object()


def submission_match(submission: Submission, fields: dict) -> Lead | None:
    """The lead this submission is about, locked for the transaction, or None for a new one:
    the lead its personal link names (`mapped["lead"]`, written only by the view that checked
    the link's signature: a reactivation campaign's), else the lead with its email or phone."""
    named = (submission.mapped or {}).get("lead")
    if isinstance(named, int) and not isinstance(named, bool):
        lead = Lead.objects.select_for_update().filter(pk=named).first()
        if lead is not None:
            return lead
    return _existing_lead(fields)


class TwinCommitted(Exception):
    """A new lead's INSERT met a lead with its email or phone, committed since the dedupe
    looked (two submissions from one person at once): run the transaction again."""


def lead_take_submission(
    submission: Submission,
    fields: dict,
    *,
    match=_LOOK,
    prepare=None,
    retried_on_twin: bool = False,
) -> tuple[Lead, Decision | None]:
    """The lead this submission is about: a new one (with its segmentation decision, to route)
    or the existing one it matches (`match`, from submission_match, looked up when not given),
    with the re-inquiry recorded (no decision: the caller re-segments and decides whether the
    lead got hotter). `prepare(lead, decision)` runs on a new lead before its INSERT, for the
    caller to decide what else the row is written with (its consent columns, owner, track),
    and as `prepare(lead, None)` on a re-inquiry's lead before its save.
    `retried_on_twin`: no savepoint guards the new lead's INSERT; a racing twin raises
    TwinCommitted, and the caller runs its whole transaction again (intake does: two
    statements fewer for every new lead, a rerun only for a twin)."""
    lead = submission_match(submission, fields) if match is _LOOK else match
    if lead is None and retried_on_twin:
        try:
            return _lead_create(submission, fields, prepare)
        except IntegrityError as error:
            # A racing submission from the same person committed first: the caller rolls its
            # transaction back and runs again, and finds their lead (a re-inquiry).
            raise TwinCommitted from error
    if lead is None:
        try:
            with transaction.atomic():
                return _lead_create(submission, fields, prepare)
        except IntegrityError:
            # A racing submission from the same person committed first: this one is a re-inquiry.
            lead = _existing_lead(fields)
            if lead is None:
                raise
    _lead_reinquire(lead, submission, fields, prepare)
    return lead, None


def _existing_lead(fields: dict) -> Lead | None:
    email, phone = fields.get("email", ""), fields.get("phone", "")
    match = Q(pk__in=[])
    if email:
        match |= Q(email=email)
    if phone:
        match |= Q(phone=phone)
    # The lead row is locked (OF self: not its owner's); its owner and their agent profile come
    # with it, for the re-inquiry's alert.
    candidates = list(
        Lead.objects.select_for_update(of=("self",))
        .filter(match)
        .select_related("owner__agent")
        .order_by("created_at")
    )
    # Prefer the lead with this email: a shared family phone is commoner than a shared inbox.
    by_email = [lead for lead in candidates if email and lead.email == email]
    return (by_email or candidates or [None])[0]


def _lead_create(submission: Submission, fields: dict, prepare=None) -> tuple[Lead, Decision]:
    now = timezone.now()
    lead = Lead(
        **fields,
        source=submission.source,
        channel=submission.channel,
        origin=submission.origin,
        attribution=submission.attribution,
        created_at=now,
        last_inquiry_at=now,
        **{name: submission.query.get(name, "")[:200] for name in UTM_FIELDS},
    )
    # Segmented from its answers before the insert, so the row is written with its decision
    # (routing then finds nothing to update: leads.services.lead_apply_decision).
    decision = lead_segment(lead)
    for name, value in decision_values(decision).items():
        setattr(lead, name, value)
    if prepare is not None:
        prepare(lead, decision)
    lead.save(force_insert=True)
    lead_event_record(
        lead,
        LeadEvent.Kind.CREATED,
        summary=f"{lead.get_source_display()} · {segmentation_summary(decision)}",
        data={"submission": submission.pk, "rule": decision.rule_id, "track": decision.track},
        occurred_at=now,
    )
    return lead, decision


def sides_combined(recorded: str, asked: str) -> str:
    """A seller who later asks about buying is both (the move-up client); unknown takes the
    other side; both stays both. Sides only ever add up."""
    if not asked or asked == Lead.Side.UNKNOWN or asked == recorded:
        return recorded
    if recorded == Lead.Side.UNKNOWN:
        return asked
    return Lead.Side.BOTH


def _blank(name: str, value) -> bool:
    """No answer: nothing typed, or (the timeline) "unknown", which only imports record."""
    return value in (None, "") or (name == "timeline" and value == Lead.Timeline.UNKNOWN)


def _same(name: str, recorded, asked) -> bool:
    if name in ("first_name", "last_name"):
        return str(recorded).strip().casefold() == str(asked).strip().casefold()
    return recorded == asked


def _taken(name: str, value, lead: Lead) -> bool:
    return Lead.objects.filter(**{name: value}).exclude(pk=lead.pk).exists()


def reinquiry_answers(lead: Lead, fields: dict) -> tuple[dict, dict]:
    """What a re-inquiry may write at once and what it may only propose: `(changed, proposed)`.

    Filling a blank adds (except an email or phone another lead has: leads are unique by each);
    sides combine; a showing request is a new signal. A different value for anything recorded
    is proposed, `{field: [recorded, asked]}`, for the agent to accept."""
    changed, proposed = {}, {}
    for name in PROPOSABLE_FIELDS:
        asked, recorded = fields.get(name), getattr(lead, name)
        if _blank(name, asked) or _same(name, recorded, asked):
            continue
        if name in ("email", "phone") and _taken(name, asked, lead):
            continue  # someone else's: the raw submission keeps it
        if _blank(name, recorded):
            changed[name] = asked
        else:
            proposed[name] = [json_value(recorded), json_value(asked)]
    side = sides_combined(lead.side, fields.get("side", ""))
    if side != lead.side:
        changed["side"] = side
    if fields.get("asked_for_showing") and not lead.asked_for_showing:
        changed["asked_for_showing"] = True
    return changed, proposed


def _lead_reinquire(lead: Lead, submission: Submission, fields: dict, prepare=None) -> Lead:
    changed, proposed = reinquiry_answers(lead, fields)
    for name, value in changed.items():
        setattr(lead, name, value)
    lead.last_inquiry_at = timezone.now()
    lead.inquiry_count += 1  # the row is locked for this transaction (submission_match)
    if prepare is not None:
        prepare(lead, None)  # what else the caller writes with this save (its consent columns)
    lead.save()

    summary = f"Asked again via {submission_label(submission)}"
    if proposed:
        labels = ", ".join(str(Lead._meta.get_field(name).verbose_name) for name in proposed)
        summary += f"; new answers to review: {labels}"
    data = {
        "submission": submission.pk,
        "source": submission.source,
        "channel": submission.channel,
        "origin": submission.origin,
        "changed": {name: str(value) for name, value in changed.items()},
    }
    if proposed:
        data["proposed"] = proposed
    lead_event_record(lead, LeadEvent.Kind.REINQUIRY, summary=summary, data=data)
    return lead


def lead_reengage(
    lead: Lead, fields: dict, *, how: str, data: dict | None = None, named: bool = False
) -> Decision:
    """A dormant contact answered (a campaign's link, any form, a text): this is its arrival.

    It keeps its history: the previous relationship, notes, last contact, imported_at and the
    timeline. What it says now fills blanks (its timeline above all: it had none, so it is
    taken, not proposed); an answer different from a recorded one is proposed to the agent,
    like a re-inquiry's. It is no longer dormant and arrives now: `created_at` is this moment,
    so speed to lead (its contact dates start again) and the reports count from here, and a
    stage left from before starts at New. Only a contact nobody worked is reset so: one an agent
    already reached, moved or whose alert they took keeps all of it (_arrival). Returns its
    segmentation, for routing. `named`: a campaign's personal link named the lead (whoever
    typed the answer); then _link_answers."""
    changed, proposed = reinquiry_answers(lead, fields)
    if named:
        changed, proposed = _link_answers(lead, fields, changed, proposed)
    now = timezone.now()
    for name, value in changed.items():
        setattr(lead, name, value)
    untouched = _untouched(lead)
    arrival = _arrival(now, untouched=untouched)
    for name, value in arrival.items():
        setattr(lead, name, value)
    lead.save(update_fields=[*changed, *arrival, "updated_at"])
    if untouched and lead.stage != Lead.Stage.NEW:
        lead_change_stage(lead, Lead.Stage.NEW, note="re-engaged: a new move starts")
    # What it says now decides (a recorded timeline from the old database or an agent's call
    # is kept, the new one only proposed, but "within 3 months" today is hot today).
    decision = lead_segment(lead, **asked_now(lead, fields))
    event_data = {
        **(data or {}),
        "changed": {name: str(value) for name, value in changed.items()},
        "rule": decision.rule_id,
        "track": decision.track,
    }
    if proposed:
        event_data["proposed"] = proposed
    summary = f"Re-engaged {how} · {segmentation_summary(decision)}"
    if proposed:
        labels = ", ".join(str(Lead._meta.get_field(name).verbose_name) for name in proposed)
        summary += f"; new answers to review: {labels}"
    lead_event_record(
        lead, LeadEvent.Kind.REENGAGED, summary=summary, data=event_data, occurred_at=now
    )
    return decision


IDENTITY_FIELDS = ("first_name", "last_name", "email", "phone")


def _link_answers(lead: Lead, fields: dict, changed: dict, proposed: dict) -> tuple[dict, dict]:
    """A personal link can be forwarded: unless the answer gives the contact's own email or
    phone (it is them), whoever it is fills none of the contact's blank details with theirs;
    their name, email and phone are only proposed to the agent (docs/reactivation.md §5)."""
    if any(
        getattr(lead, name) and fields.get(name) == getattr(lead, name)
        for name in ("email", "phone")
    ):
        return changed, proposed
    changed, proposed = dict(changed), dict(proposed)
    for name in IDENTITY_FIELDS:
        if name in changed:
            proposed[name] = [json_value(getattr(lead, name)), json_value(changed.pop(name))]
    return changed, proposed


def _untouched(lead: Lead) -> bool:
    """Nobody worked this contact since it was imported: no personal contact, no alert taken,
    no stage moved since it arrived (a stage the old database left is no one's work here). (An agent's work wakes a contact at once, flows.contacts; this guards the
    reset for any contact that got here otherwise.)"""
    return (
        lead.first_personal_contact_at is None
        and lead.alert_acknowledged_at is None
        and not LeadEvent.objects.filter(
            lead=lead, kind=LeadEvent.Kind.STAGE_CHANGED, occurred_at__gte=lead.created_at
        ).exists()
    )


def _arrival(now, *, untouched: bool) -> dict:
    """What a re-engagement writes: no longer dormant, asked now; an untouched contact also
    arrives now (its speed to lead starts again)."""
    arrival = {"dormant": False, "last_inquiry_at": now}
    if untouched:
        arrival |= {
            "created_at": now,
            "first_personal_contact_at": None,
            "first_automated_contact_at": None,
            "alert_acknowledged_at": None,
        }
    return arrival


def asked_now(lead: Lead, fields: dict) -> dict:
    """The answers segmentation weighs for a re-inquiry: the recorded ones with what the
    submission says now (its timeline, showing request, inquiry type), without storing them."""
    return {
        name: fields[name]
        for name in ("timeline", "inquiry_type", "asked_for_showing")
        if fields.get(name)  # not blank; a showing not asked for this time is no signal
        and not _blank(name, fields[name])
        and fields[name] != getattr(lead, name)
    }


def acknowledgment_answers(fields: dict) -> dict:
    """What this submission asked about, for the acknowledgment to name (not stored)."""
    return {
        name: fields[name] for name in LATEST_ANSWER_FIELDS if not _blank(name, fields.get(name))
    }


def consent_columns(lead: Lead, evidence: ConsentEvidence | None = None, now=None) -> None:
    """The lead's consent columns, in memory: a new lead is inserted with them (intake), then
    consent_record(…, written=True) records the evidence at the same instant."""
    lead.sms_consent_at = now or timezone.now()
    lead.sms_consent_version = (evidence or form_consent()).version[:40]


def consent_record(
    lead: Lead,
    submission: Submission,
    evidence: ConsentEvidence | None = None,
    *,
    written: bool = False,
) -> ConsentRecord:
    """The prospect agreed to texts: the exact wording, when and from where, and the lead's
    consent columns. `evidence` is what another channel's payload or integration record proves
    (by default, our own form's checkbox). Lifting an earlier opt-out is the suppression list's
    business (sequences.suppressions), called by the intake flow right after this.
    `written`: the lead was inserted with its consent columns (consent_columns): the record
    takes their instant, and nothing on the lead is updated."""
    now = lead.sms_consent_at if written else timezone.now()
    evidence = evidence or form_consent()
    record = ConsentRecord.objects.create(
        lead=lead,
        submission=submission,
        channel="sms",
        wording_version=evidence.version[:40],
        wording=evidence.wording,
        form_url=submission.form_url,
        ip=submission.ip,
        user_agent=submission.user_agent,
        given_at=evidence.given_at or now,
        evidence=pg_safe(evidence.detail),
        created_at=now,
    )
    if written:
        return record
    consent_columns(lead, evidence, now)
    lead.save(update_fields=["sms_consent_at", "sms_consent_version"])
    return record


def consent_records_create(
    leads_given: list[tuple[Lead, ConsentEvidence]], submission: Submission, *, version: str
) -> list[ConsentRecord]:
    """consent_record for many leads at once (an import's rows with a consent date): one
    ConsentRecord each, the leads' consent columns in one update. Lifts no opt-out: an old
    file's consent never outweighs a later STOP."""
    now = timezone.now()
    records = ConsentRecord.objects.bulk_create(
        ConsentRecord(
            lead=lead,
            submission=submission,
            channel="sms",
            wording_version=version[:40],
            wording=evidence.wording,
            given_at=evidence.given_at or now,
            evidence=pg_safe(evidence.detail),
            created_at=now,
        )
        for lead, evidence in leads_given
    )
    pks = [lead.pk for lead, _ in leads_given]
    Lead.objects.filter(pk__in=pks).update(sms_consent_at=now, sms_consent_version=version[:40])
    for lead, _ in leads_given:
        lead.sms_consent_at, lead.sms_consent_version = now, version[:40]
    return records


def submission_label(submission: Submission) -> str:
    """ "home valuation funnel" (a form: its source), "Zillow (portal email)", "events API"."""
    if submission.channel == Channel.FORM:
        return Source(submission.source).label.lower()
    channel = Channel(submission.channel).label
    channel = channel[0].lower() + channel[1:]
    return f"{submission.origin} ({channel})" if submission.origin else channel


def consent_summary(submission: Submission) -> str:
    if submission.channel == Channel.FORM:
        return f"Agreed to texts on the {submission_label(submission)} form"
    return f"Agreed to texts via {submission_label(submission)}"


def consent_event_record(lead: Lead, record: ConsentRecord) -> LeadEvent:
    return lead_event_record(
        lead,
        LeadEvent.Kind.CONSENT_GIVEN,
        channel=LeadEvent.Channel.SMS,
        summary=consent_summary(record.submission),
        data={"wording_version": record.wording_version, "submission": record.submission_id},
    )


def segmentation_summary(decision) -> str:
    intent = Lead.Intent(decision.intent).label
    track = track_name(decision.track) if decision.track else "no track"
    return f"{intent} ({decision.intent_reason}) → {track}" + (", alert" if decision.alert else "")


def consent_from_integration(integration: Integration | None) -> ConsentEvidence | None:
    """An integration whose admin record states that its source collects compliant SMS consent,
    with the wording it shows: its leads consented by that wording (the record is the evidence)."""
    if integration is None or not integration.sms_consent_collected:
        return None
    return ConsentEvidence(
        wording=integration.sms_consent_wording,
        version=f"integration-{integration.pk}",
        detail={"basis": INTEGRATION_RECORD, "integration": integration.name},
    )

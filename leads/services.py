"""Writes to a lead and its timeline. Every state change is one named function here.

Intake (leads/intake.py) creates leads and the owner is set only by leads/ownership.py; every other
column of a lead is written here, so the timeline records every change and derived dates stay
true. The apps above (sequences, alerts) call these and never `.update()` a lead themselves; the
columns that copy another app's fact (the track, the opt-outs, the first automated contact, the
first alert acknowledgment) are caches, each written by one named function below for one caller.
"""

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from realtycrm import formats

from .models import Lead, LeadEvent, SavedFilter, Tag
from .segmentation import Decision


def lead_event_record(
    lead: Lead,
    kind: str,
    *,
    summary: str = "",
    channel: str = "",
    actor=None,
    data: dict | None = None,
    occurred_at=None,
) -> LeadEvent:
    """Put one fact on the lead's timeline; a personal contact also moves the contact dates."""
    event = LeadEvent.objects.create(
        lead=lead,
        kind=kind,
        summary=summary[:255],
        channel=channel,
        actor=actor,
        data=data or {},
        occurred_at=occurred_at or timezone.now(),
    )
    if kind == LeadEvent.Kind.PERSONAL_CONTACT:
        lead_sync_contact_dates(lead)
    return event


def lead_sync_contact_dates(lead: Lead) -> None:
    """Derive first and last personal contact from the timeline (automated messages never count).
    An imported contact arrives when it re-engages (created_at): its first personal contact
    (speed to lead) is the first since then, and the earlier ones are its history."""
    contacts = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.PERSONAL_CONTACT)
    since_arrival = Q(occurred_at__gte=lead.created_at) if lead.imported_at else Q()
    dates = contacts.aggregate(
        first=Min("occurred_at", filter=since_arrival), last=Max("occurred_at")
    )
    lead.first_personal_contact_at = dates["first"]
    lead.last_personal_contact_at = dates["last"]
    Lead.objects.filter(pk=lead.pk).update(
        first_personal_contact_at=dates["first"], last_personal_contact_at=dates["last"]
    )


def lead_record_contact(
    lead: Lead, *, channel: str, actor, note: str = "", occurred_at=None
) -> LeadEvent:
    """A human reached the lead (call, text, email, in person): the timeline and the contact
    dates. What else a contact does (stage, tasks, alerts) is realtycrm.flows.contacts.contact_log."""
    label = LeadEvent.Channel(channel).label
    return lead_event_record(
        lead,
        LeadEvent.Kind.PERSONAL_CONTACT,
        channel=channel,
        actor=actor,
        summary=f"{label}: {note}" if note else label,
        occurred_at=occurred_at,
    )


# Funnel milestones in order; reaching one implies having passed the ones before it.
MILESTONES = (
    (Lead.Stage.ENGAGED, "engaged_at"),
    (Lead.Stage.APPOINTMENT, "appointment_at"),
    (Lead.Stage.CLIENT, "client_at"),
    (Lead.Stage.CLOSED, "closed_at"),
)


@transaction.atomic
def lead_change_stage(
    lead: Lead, stage: str, *, actor=None, note: str = "", occurred_at=None
) -> bool:
    """Move the lead along the funnel. Returns False when it was already there. What the move
    means for automation is realtycrm.flows.contacts.stage_change's business.

    Records the first time each milestone was reached (a lead moved straight to appointment has
    also been engaged), so reports count conversion from dates, not from today's stage.
    """
    if lead.stage == stage:
        return False
    at = occurred_at or timezone.now()
    previous = lead.stage
    lead.stage = stage
    lead.stage_changed_at = at
    changed = ["stage", "stage_changed_at", "updated_at"]
    reached = [field for milestone, field in MILESTONES if milestone == stage]
    if reached:
        for _milestone, field in MILESTONES:
            if getattr(lead, field) is None:
                setattr(lead, field, at)
                changed.append(field)
            if field == reached[0]:
                break
    lead.save(update_fields=changed)
    lead_event_record(
        lead,
        LeadEvent.Kind.STAGE_CHANGED,
        actor=actor,
        summary=f"{Lead.Stage(previous).label} → {Lead.Stage(stage).label}"
        + (f": {note}" if note else ""),
        data={"from": previous, "to": stage},
        occurred_at=at,
    )
    return True


# --- The agent dashboard's writes (leads/views/) ------------------------------------------------


def lead_add_note(lead: Lead, *, actor, text: str) -> LeadEvent:
    """A note on the timeline. Not a contact: the last-contact date does not move."""
    return lead_event_record(lead, LeadEvent.Kind.NOTE, actor=actor, summary=text)


@transaction.atomic
def lead_correct_answers(
    lead: Lead, *, actor, timeline: str | None = None, side: str | None = None
) -> None:
    """An agent corrects what the lead told us (timeline, side); each change is on the timeline.
    Re-segmenting after it is realtycrm.flows.routing.lead_reclassify's job."""
    changed = []
    corrections = (
        ("timeline", timeline, LeadEvent.Kind.TIMELINE_CHANGED, Lead.Timeline),
        ("side", side, LeadEvent.Kind.SIDE_CHANGED, Lead.Side),
    )
    for field, value, kind, choices in corrections:
        before = getattr(lead, field)
        if value is None or value == before:
            continue
        lead_event_record(
            lead,
            kind,
            actor=actor,
            summary=f"{choices(before).label} → {choices(value).label}",
            data={"from": before, "to": value},
        )
        setattr(lead, field, value)
        changed.append(field)
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])


# Contact details an agent may correct, in the order the timeline lists a change.
CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "property_address",
    "neighbourhood",
    "postal_code",
)


# What the lead asked about, beside the contact details, which an agent may correct or accept
# from a re-inquiry (realtycrm.flows.reinquiry); the timeline records them the same way.
INQUIRY_FIELDS = ("bedrooms", "bathrooms", "open_house", "inquiry_type", "message")


class DuplicateContact(Exception):
    """Another lead already has this email or phone (leads are unique by each)."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


@transaction.atomic
def lead_update_contact(lead: Lead, *, actor, **values) -> list[str]:
    """Correct a lead's contact details (or what it asked about, INQUIRY_FIELDS); returns the
    names of the fields that changed.

    The SMS consent was given for a phone number: a new number has none, so changing the phone
    withdraws it (the lead can consent again on a form). Raises DuplicateContact when another lead
    already has the email or phone.
    """
    editable = (*CONTACT_FIELDS, *INQUIRY_FIELDS)
    unknown = set(values) - set(editable)
    if unknown:
        raise TypeError(f"Not contact fields: {', '.join(sorted(unknown))}")
    # As the column holds them (a re-inquiry's proposal is stored as JSON: "2.5", not Decimal).
    values = {
        field: Lead._meta.get_field(field).to_python(value) for field, value in values.items()
    }
    if values.get("email"):
        values["email"] = values["email"].strip().lower()
    changed = [
        field for field in editable if field in values and values[field] != getattr(lead, field)
    ]
    if not changed:
        return []
    for field in ("email", "phone"):
        if field in changed and values[field]:
            others = Lead.objects.filter(**{field: values[field]}).exclude(pk=lead.pk)
            if others.exists():
                raise DuplicateContact(field)
    before = {field: getattr(lead, field) for field in changed}
    for field in changed:
        setattr(lead, field, values[field])
    update_fields = [*changed, "updated_at"]
    consent_withdrawn = "phone" in changed and lead.sms_consent_at is not None
    if consent_withdrawn:
        lead.sms_consent_at = None
        lead.sms_consent_version = ""
        update_fields += ["sms_consent_at", "sms_consent_version"]
    try:
        with transaction.atomic():
            lead.save(update_fields=update_fields)
    except IntegrityError as error:  # a racing edit or intake took the email or phone first
        raise DuplicateContact("email" if "email" in str(error) else "phone") from error
    labels = ", ".join(Lead._meta.get_field(field).verbose_name for field in changed)
    lead_event_record(
        lead,
        LeadEvent.Kind.CONTACT_UPDATED,
        actor=actor,
        summary=f"Changed {labels}"
        + ("; SMS consent withdrawn with the old number" if consent_withdrawn else ""),
        data={
            "changed": {
                field: [_json_value(before[field]), _json_value(values[field])] for field in changed
            }
        },
    )
    return changed


def _json_value(value):
    return value if value is None or isinstance(value, bool | int | str) else str(value)


def lead_reinquiry_resolve(event: LeadEvent, *, actor, accepted: bool) -> None:
    """The agent dealt with a re-inquiry's proposed answers: accepted them (the changes are on
    the timeline as they were applied) or kept what the lead had recorded. Either way the
    proposal is no longer pending; keeping the recorded answers is on the timeline too."""
    event.data = {
        **event.data,
        "resolved": {
            "by": actor.pk if actor else None,
            "at": timezone.now().isoformat(),
            "accepted": accepted,
        },
    }
    event.save(update_fields=["data"])
    if not accepted:
        when = formats.day(event.occurred_at)
        lead_event_record(
            event.lead,
            LeadEvent.Kind.NOTE,
            actor=actor,
            summary=f"Kept the recorded answers, not the new ones of {when}",
            data={"reinquiry": event.pk},
        )


def saved_filter_create(*, owner, name: str, query: str, pinned: bool = True) -> SavedFilter:
    """Save a leads-list query as the owner's smart list."""
    return SavedFilter.objects.create(owner=owner, name=name, query=query, pinned=pinned)


def saved_filter_set_pinned(saved_filter: SavedFilter, *, pinned: bool) -> None:
    saved_filter.pinned = pinned
    saved_filter.save(update_fields=["pinned"])


def saved_filter_delete(saved_filter: SavedFilter) -> None:
    saved_filter.delete()


# --- Caches of facts other apps own, each written by one caller -------------------------------------


def lead_apply_decision(lead: Lead, decision: Decision) -> None:
    """Routing's decision on the lead (realtycrm.flows.routing.lead_route): intent and why, the
    routing rule and the first-contact mode. The track is the enrolment's (lead_set_track)."""
    lead.intent = decision.intent
    lead.intent_reason = decision.intent_reason[:200]
    lead.routing_rule_id = decision.rule_id
    lead.first_contact_mode = decision.first_contact_mode
    lead.save(
        update_fields=[
            "intent",
            "intent_reason",
            "routing_rule",
            "first_contact_mode",
            "updated_at",
        ]
    )


def lead_set_track(lead: Lead, track) -> None:
    """The lead's current nurture track: a cache written only by sequences' enrolment service."""
    lead.nurture_track = track
    Lead.objects.filter(pk=lead.pk).update(nurture_track=track)


def lead_mark_first_automated_contact(lead: Lead, at) -> None:
    """The outbox sent the lead's first automated message (speed to lead, automated)."""
    if lead.first_automated_contact_at is None:
        lead.first_automated_contact_at = at
        Lead.objects.filter(pk=lead.pk, first_automated_contact_at__isnull=True).update(
            first_automated_contact_at=at
        )


def lead_mark_alert_acknowledged(lead: Lead, at) -> None:
    """An agent first acknowledged an alert about the lead (alerts' acknowledgment)."""
    if lead.alert_acknowledged_at is None:
        lead.alert_acknowledged_at = at
        Lead.objects.filter(pk=lead.pk, alert_acknowledged_at__isnull=True).update(
            alert_acknowledged_at=at
        )


OPT_OUT_FIELD = {"sms": "sms_opted_out_at", "email": "email_opted_out_at"}


def leads_mark_opted_out(channel: str, address: str, *, at, summary: str, data: dict) -> None:
    """The suppression list now holds this number or address (sequences.suppressions, the one
    caller): every lead with it shows as opted out, once, on its timeline."""
    field = OPT_OUT_FIELD[channel]
    match = {"phone": address} if channel == "sms" else {"email": address}
    for lead in Lead.objects.filter(**match, **{f"{field}__isnull": True}):
        setattr(lead, field, at)
        lead.save(update_fields=[field])
        lead_event_record(
            lead,
            LeadEvent.Kind.OPTED_OUT,
            channel=channel,
            summary=summary,
            data=data,
            occurred_at=at,
        )


def leads_mark_opted_in(channel: str, address: str, *, summary: str, data: dict) -> list[Lead]:
    """The suppression list let this number or address go (sequences.suppressions, the one
    caller): the leads with it may be messaged again. Returns the leads that were opted out."""
    field = OPT_OUT_FIELD[channel]
    match = {"phone": address} if channel == "sms" else {"email": address}
    leads = list(Lead.objects.filter(**match, **{f"{field}__isnull": False}))
    for lead in leads:
        setattr(lead, field, None)
        lead.save(update_fields=[field])
        lead_event_record(
            lead, LeadEvent.Kind.OPTED_IN, channel=channel, summary=summary, data=data
        )
    return leads


def lead_tag(lead: Lead, names) -> list[Tag]:
    """Add tags by name (made when new), never removing any: imported and API leads bring
    theirs, and a re-inquiry's tags add to the lead's. Blank names are ignored."""
    wanted = {str(name).strip()[:50] for name in names or ()} - {""}
    if not wanted:
        return []
    Tag.objects.bulk_create([Tag(name=name) for name in wanted], ignore_conflicts=True)
    tags = list(Tag.objects.filter(name__in=wanted))
    lead.tags.add(*tags)
    return tags

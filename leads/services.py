"""Writes to a lead and its timeline. Every state change is one named function here.

Intake (leads/intake.py) creates leads; everything that changes one afterwards comes through here,
so the timeline records every change and derived dates stay true.
"""

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone

from .models import Lead, LeadEvent, SavedFilter


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
    """Derive first and last personal contact from the timeline (automated messages never count)."""
    dates = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.PERSONAL_CONTACT).aggregate(
        first=Min("occurred_at"), last=Max("occurred_at")
    )
    lead.first_personal_contact_at = dates["first"]
    lead.last_personal_contact_at = dates["last"]
    Lead.objects.filter(pk=lead.pk).update(
        first_personal_contact_at=dates["first"], last_personal_contact_at=dates["last"]
    )


@transaction.atomic
def lead_log_contact(lead: Lead, *, channel: str, actor, note: str = "", occurred_at=None):
    """A human reached the lead (call, text, email, in person): the contact dates move, a new lead
    becomes contacted, and the open tasks the contact answers are done."""
    from alerts.services import alerts_acknowledge_lead  # alerts and sequences build on leads
    from sequences.services import tasks_complete_for_contact

    label = LeadEvent.Channel(channel).label
    event = lead_event_record(
        lead,
        LeadEvent.Kind.PERSONAL_CONTACT,
        channel=channel,
        actor=actor,
        summary=f"{label}: {note}" if note else label,
        occurred_at=occurred_at,
    )
    if lead.stage == Lead.Stage.NEW:
        lead_change_stage(lead, Lead.Stage.CONTACTED, actor=actor)
    tasks_complete_for_contact(lead, actor=actor, at=event.occurred_at)
    if actor is not None:
        alerts_acknowledge_lead(lead, agent=actor, how=f"logged a {label.lower()}")
    return event


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
    """Move the lead along the funnel. Returns False when it was already there.

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
    from sequences.services import automation_on_stage_change  # sequences builds on leads

    automation_on_stage_change(lead, stage, actor=actor)
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
def lead_reassign(lead: Lead, owner, *, actor) -> bool:
    """Give the lead to another agent. Returns False when they already own it."""
    if lead.owner_id == owner.pk:
        return False
    from alerts.services import alerts_on_reassign  # alerts build on leads

    previous = lead.owner
    lead.owner = owner
    lead.save(update_fields=["owner", "updated_at"])

    def name(user):
        return (user.get_full_name() or user.get_username()) if user else "nobody"

    lead_event_record(
        lead,
        LeadEvent.Kind.REASSIGNED,
        actor=actor,
        summary=f"{name(previous)} → {name(owner)}",
        data={"from": previous.pk if previous else None, "to": owner.pk},
    )
    alerts_on_reassign(lead, previous=previous, actor=actor)
    return True


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


class DuplicateContact(Exception):
    """Another lead already has this email or phone (leads are unique by each)."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


@transaction.atomic
def lead_update_contact(lead: Lead, *, actor, **values) -> list[str]:
    """Correct a lead's contact details; returns the names of the fields that changed.

    The SMS consent was given for a phone number: a new number has none, so changing the phone
    withdraws it (the lead can consent again on a form). Raises DuplicateContact when another lead
    already has the email or phone.
    """
    unknown = set(values) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"Not contact fields: {', '.join(sorted(unknown))}")
    if values.get("email"):
        values["email"] = values["email"].strip().lower()
    changed = [
        field
        for field in CONTACT_FIELDS
        if field in values and values[field] != getattr(lead, field)
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
        data={"changed": {field: [before[field], values[field]] for field in changed}},
    )
    return changed


def saved_filter_create(*, owner, name: str, query: str, pinned: bool = True) -> SavedFilter:
    """Save a leads-list query as the owner's smart list."""
    return SavedFilter.objects.create(owner=owner, name=name, query=query, pinned=pinned)


def saved_filter_set_pinned(saved_filter: SavedFilter, *, pinned: bool) -> None:
    saved_filter.pinned = pinned
    saved_filter.save(update_fields=["pinned"])


def saved_filter_delete(saved_filter: SavedFilter) -> None:
    saved_filter.delete()

"""Writes to a lead and its timeline. Every state change is one named function here.

Intake (leads/intake.py) creates leads; everything that changes one afterwards comes through here,
so the timeline records every change and derived dates stay true.
"""

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from .models import Lead, LeadEvent


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
    """A human reached the lead (call, text, email, in person). Moves a new lead to contacted."""
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

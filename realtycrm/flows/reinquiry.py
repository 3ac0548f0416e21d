"""Re-inquiries: the agent accepts, or sets aside, the new answers a lead sent, in one transaction.

    reinquiry_accept    the proposed answers → contact details and what was asked
                        (leads.services.lead_update_contact) → a new timeline, re-segmented and
                        re-routed (flows.routing.lead_reclassify) → the proposal resolved
    reinquiry_dismiss   the recorded answers stay; the proposal is resolved, on the timeline

Intake never overwrites what a lead or an agent recorded (leads.intake.reinquiry_answers): a
different answer waits on the re-inquiry event's data as `proposed: {field: [recorded, new]}`.
"""

from django.db import transaction

from leads import services
from leads.models import LeadEvent
from leads.selectors import reinquiry_pending_values

from .routing import lead_reclassify

# Answers segmentation reads: accepting one re-segments the lead (timeline directly, the
# inquiry type through the website's default intent).
SEGMENTED_FIELDS = ("timeline", "inquiry_type")


class NothingPending(Exception):
    """The re-inquiry's answers were already accepted or set aside, or match the lead now."""


def _pending(lead, event: LeadEvent) -> tuple[LeadEvent, dict]:
    event = LeadEvent.objects.select_for_update().get(pk=event.pk, lead=lead)
    values = reinquiry_pending_values(lead, event)
    if not values:
        raise NothingPending
    return event, values


@transaction.atomic
def reinquiry_accept(lead, event: LeadEvent, *, actor) -> list[str]:
    """Apply a re-inquiry's new answers as the agent's changes (each on the timeline with who
    accepted it); returns the fields changed. Raises NothingPending, or DuplicateContact when
    another lead has taken the email or phone since (nothing is applied then)."""
    event, values = _pending(lead, event)
    timeline = values.pop("timeline", None)
    changed = services.lead_update_contact(lead, actor=actor, **values) if values else []
    if timeline is not None or any(field in SEGMENTED_FIELDS for field in changed):
        lead_reclassify(lead, actor=actor, timeline=timeline)
        if timeline is not None:
            changed.append("timeline")
    services.lead_reinquiry_resolve(event, actor=actor, accepted=True)
    return changed


@transaction.atomic
def reinquiry_dismiss(lead, event: LeadEvent, *, actor) -> None:
    """Keep what the lead had recorded; the re-inquiry's answers stay on its event and
    submission."""
    event, _values = _pending(lead, event)
    services.lead_reinquiry_resolve(event, actor=actor, accepted=False)

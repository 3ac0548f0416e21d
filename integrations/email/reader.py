"""Find the lead in an email: its Lead Metadata tags first (the sender's own statement), then the
parser of the portal that sent it, then the same for a message forwarded as an attachment."""

from dataclasses import dataclass

from .metadata import lead_from_metadata
from .mime import InboundEmail
from .parsed import ParsedLead
from .portals import parse_with, portal_for


@dataclass(frozen=True)
class Reading:
    lead: ParsedLead | None  # a lead with a way to reach them, or None
    partial: ParsedLead | None = None  # what a reader found without one, for the broker
    email: InboundEmail | None = None  # the email it was read from (a forwarded one, maybe)


def lead_read(email: InboundEmail, field_mapping: dict | None = None) -> Reading:
    partial = None
    for candidate in (email, *email.forwarded):
        for lead in _readings(candidate, field_mapping):
            if lead.has_contact:
                return Reading(lead=lead, email=candidate)
            partial = partial or lead
    return Reading(lead=None, partial=partial, email=email)


def _readings(email: InboundEmail, field_mapping: dict | None):
    """What each reader finds, in order (lazily: the portal parser runs only when needed)."""
    lead = lead_from_metadata(email.html, field_mapping)
    if lead is not None:
        yield lead
    portal = portal_for(email)
    if portal is not None:
        yield parse_with(portal, email, field_mapping)

"""The inbox's writes: an email received (stored first, then the one intake flow), and a lead a
broker makes from an email nobody could read.

    inbound_email_receive   read the email, pick its inbox and the agent a +tag names, map the
                            lead; store it (a Submission, deduplicated by Message-ID), then
                            realtycrm.flows.intake; an email with no lead in it is kept as a
                            rejected submission with whatever clues it gave
    inbound_email_make_lead a broker's answers for such an email, through the same flow
    inbound_email_dismiss   a broker says it is no lead (a newsletter, a reply): off the list
"""

import logging
import traceback
from dataclasses import dataclass, field, replace

from django.db import IntegrityError, transaction
from django.utils import timezone

from leads import intake
from leads.models import Channel, Integration, Lead, LeadEvent, Source, Submission
from leads.services import lead_event_record
from realtycrm.flows.intake import channel_submission_process
from realtycrm.http import pg_safe

from .inboxes import Inbox, agent_named, inbox_for
from .mapping import MappedLead, lead_mapping
from .mime import InboundEmail, email_from_post, is_email_post
from .parsed import clues_found
from .reader import Reading, lead_read

logger = logging.getLogger(__name__)


class Outcome:
    CREATED = "created"  # a new lead
    REINQUIRY = "reinquiry"  # an existing lead asked again
    DUPLICATE = "duplicate"  # this Message-ID was received before: nothing new
    UNPARSED = "unparsed"  # no lead in it: kept for a broker
    REFUSED = "refused"  # sent to an inbox switched off in the admin: kept for a broker
    NOT_EMAIL = "not_email"  # a post with no email in it: kept, and a 400
    FAILED = "failed"  # read, stored, but processing failed (kept on the row, for a broker)


@dataclass(frozen=True)
class Received:
    outcome: str
    submission: Submission | None = None
    lead: Lead | None = None
    errors: dict = field(default_factory=dict)


# Anyone can send an email to the inbox, from any address and with any Lead Metadata in it: an
# inbox's leads are never textable on the integration's say-so (and the admin refuses the
# setting for an email integration). Email and a call task for the owner, until the person
# consents on a form.


def field_mapping(integration: Integration | None) -> dict:
    mapping = integration.field_mapping if integration is not None else None
    return mapping if isinstance(mapping, dict) else {}


def inbound_email_receive(data: dict, info: intake.RequestInfo) -> Received:
    """One email as SendGrid posted it (`data`: its text fields as received). Stored before
    anything can fail after reading it, so nothing an inbox received is lost."""
    if not is_email_post(data):
        return _not_email(data, info)
    email = _read_email(data)
    earlier = _seen(email.message_id) if email.message_id else None
    if earlier is not None:
        return Received(Outcome.DUPLICATE, earlier)
    inbox = inbox_for(email.recipients)
    if inbox.integration is None and inbox.refused is not None:
        return _refused(data, info, email, inbox)
    reading, mapped = _lead_in(email, inbox.integration)
    owner = _owner_named(inbox, reading)
    if mapped.errors:
        return _unparsed(data, info, email, reading, mapped, inbox.integration, owner)
    return _accept(data, info, email, inbox.integration, mapped, owner)


def _not_email(data: dict, info: intake.RequestInfo) -> Received:
    errors = {
        "email": [
            "Not a SendGrid Inbound Parse post: expected the raw message (email) or the "
            "parsed fields (from, to, subject, text, html, headers)."
        ]
    }
    submission = intake.submission_reject(Channel.EMAIL, data, info, errors)
    return Received(Outcome.NOT_EMAIL, submission, errors=errors)


def _lead_in(email: InboundEmail, integration: Integration | None) -> tuple[Reading, MappedLead]:
    """What the readers find, as intake's fields. A reader's bug must not lose the email: it is
    then kept as unparsed, with the error."""
    try:
        reading = lead_read(email, field_mapping(integration))
        found = reading.lead or reading.partial
        return reading, lead_mapping(found, reading.email or email, integration)
    except Exception:
        logger.exception("Could not read inbound email %s", email.message_id)
        mapped = lead_mapping(None, email, integration)
        trace = traceback.format_exc(limit=3)[-1000:]
        errors = {"email": [*mapped.errors["email"], f"A parser failed: {trace}"]}
        return Reading(lead=None, email=email), replace(mapped, errors=errors)


def _owner_named(inbox: Inbox, reading: Reading):
    """The agent a +tag names, else the one the email says it is assigned to."""
    found = reading.lead or reading.partial
    details = found.details if found is not None else {}
    return agent_named(
        inbox.tag,
        email=details.get("lead_assigned_agent_email", ""),
        name=details.get("lead_assigned_agent", ""),
    )


def _accept(data, info, email, integration, mapped: MappedLead, owner) -> Received:
    """Stored with what was read, then the intake flow: a lead or a re-inquiry."""
    stored = _store(
        lambda: intake.submission_receive(
            mapped.source,
            data,
            info,
            channel=Channel.EMAIL,
            integration=integration,
            origin=mapped.origin,
            attribution=mapped.attribution,
            external_id=email.message_id,
            mapped=intake.channel_mapping(
                mapped.fields,
                sms_consent=None,  # an email proves no consent (above)
                owner=owner,
            ),
        ),
        email,
    )
    if isinstance(stored, Received):
        return stored
    lead = channel_submission_process(stored)
    stored.refresh_from_db(fields=["created_lead", "status"])
    if lead is None:
        return Received(Outcome.FAILED, stored)
    return Received(Outcome.CREATED if stored.created_lead else Outcome.REINQUIRY, stored, lead)


def _read_email(data: dict) -> InboundEmail:
    try:
        return email_from_post(data)
    except Exception:  # the mime module reads anything; if it ever cannot, keep the post
        logger.exception("Could not parse an inbound email's MIME")
        return InboundEmail(problems=("The message could not be read as MIME.",))


def _seen(message_id: str) -> Submission | None:
    # pg_safe: the id is stored cleaned (a NUL cannot be in a PostgreSQL string), so look it up so.
    external_id = pg_safe(message_id)[:300]
    return Submission.objects.filter(channel=Channel.EMAIL, external_id=external_id).first()


def _store(create, email: InboundEmail):
    """The new submission, or a Received(duplicate) when another post of the same Message-ID
    committed first (two SendGrid deliveries racing)."""
    try:
        with transaction.atomic():
            return create()
    except IntegrityError:
        existing = _seen(email.message_id) if email.message_id else None
        if existing is None:
            raise
        return Received(Outcome.DUPLICATE, existing)


def _unparsed(data, info, email, reading, mapped, integration, owner) -> Received:
    found = clues_found(email, reading.partial)
    found["source"] = mapped.source
    for name in ("timeline", "property_address"):
        if mapped.fields.get(name):
            found[name] = mapped.fields[name]
    if owner is not None:
        found["owner"] = owner.pk
    stored = _store(
        lambda: intake.submission_reject(
            Channel.EMAIL,
            data,
            info,
            mapped.errors,
            source=mapped.source,
            integration=integration,
            origin=mapped.origin,
            found=found,
            attribution=mapped.attribution,
            external_id=email.message_id,
        ),
        email,
    )
    if isinstance(stored, Received):
        return stored
    return Received(Outcome.UNPARSED, stored, errors=mapped.errors)


def _refused(data, info, email: InboundEmail, inbox: Inbox) -> Received:
    name = inbox.refused.name
    errors = {
        "to": [
            f"Sent to the inbox “{name}” ({inbox.refused.inbox_address}), which is switched "
            "off in the integrations screen: kept here, not made a lead."
        ]
    }
    found = clues_found(email)
    stored = _store(
        lambda: intake.submission_reject(
            Channel.EMAIL,
            data,
            info,
            errors,
            source=inbox.refused.default_source,
            integration=inbox.refused,
            found=found,
            attribution={"subject": found["subject"], "from": email.sender},
            external_id=email.message_id,
        ),
        email,
    )
    if isinstance(stored, Received):
        return stored
    return Received(Outcome.REFUSED, stored, errors=errors)


# --- The broker's side ---------------------------------------------------------------------------

WAITING = (Submission.Status.REJECTED, Submission.Status.FAILED)


@transaction.atomic
def inbound_email_make_lead(
    submission: Submission, fields: dict, *, source: str, owner=None, actor=None
) -> tuple[Lead | None, str]:
    """A broker read an email no parser understood and typed the lead in it: their answers
    become what the adapter read (`mapped`), and it goes through intake like any email (dedupe,
    routing, acknowledgment, alerts). Returns the lead, or why there is none. Two brokers
    clicking at once make one lead: the row is locked and a second finds it accepted."""
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    if locked.status == Submission.Status.ACCEPTED and locked.lead_id:
        return locked.lead, ""
    if locked.status not in WAITING or locked.channel != Channel.EMAIL:
        return None, "This email is not waiting for a lead any more."
    found = (locked.mapped or {}).get("found") or {}
    locked.mapped = intake.channel_mapping(
        fields,
        sms_consent=None,  # a broker's typing proves no consent either
        owner=owner,
        found=found,
    )
    locked.mapped["made_by"] = actor.pk if actor is not None else None
    locked.source = source if source in Source.values else locked.source
    locked.status = Submission.Status.RECEIVED
    locked.save(update_fields=["mapped", "source", "status"])
    lead = channel_submission_process(locked)
    if lead is None:
        return None, "Processing failed: the error is kept on the submission."
    lead_event_record(
        lead,
        LeadEvent.Kind.NOTE,
        actor=actor,
        summary="Made from a portal email no parser could read"[:255],
        data={"submission": locked.pk},
    )
    return lead, ""


def inbound_email_dismiss(submission: Submission, *, actor) -> None:
    """Not a lead (a newsletter, a reply, spam): kept as received, off the broker's list."""
    mapped = dict(submission.mapped or {})
    mapped["dismissed"] = {
        "by": actor.pk if actor is not None else None,
        "at": timezone.now().isoformat(),
    }
    Submission.objects.filter(pk=submission.pk).update(mapped=mapped)

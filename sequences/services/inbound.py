"""Inbound texts, the sequences' part: who sent it, what it says, and the HELP answer.

What a text does (opt out, opt in, pause, engage, task, alert) is
realtycrm.flows.inbound.text_receive, which calls these.
"""

import uuid

from leads.models import Lead, LeadEvent
from leads.services import lead_event_record

from .. import outbox
from ..models import Message
from ..rendering import brokerage_values, lead_values, render, template_for


def sender_lead(number: str) -> Lead | None:
    return Lead.objects.filter(phone=number).select_related("owner").first()


def reply_record(lead: Lead, *, body: str, provider_id: str, to_number: str, received_at):
    """The text on the lead's timeline, as received."""
    return lead_event_record(
        lead,
        LeadEvent.Kind.REPLY,
        channel=LeadEvent.Channel.SMS,
        summary=f"“{' '.join(body.split())[:200]}”",
        data={"body": body[:1600], "provider_id": provider_id, "to": to_number},
        occurred_at=received_at,
    )


def help_reply(number: str, lead: Lead | None, provider_id: str) -> Message | None:
    """HELP: the brokerage's contact details, by text, once per inbound message."""
    template = template_for("help_sms", source=lead.source if lead else "")
    if template is None:
        return None
    rendered = render(template, lead_values(lead) if lead else brokerage_values())
    return outbox.message_queue(
        channel=Message.Channel.SMS,
        to=number,
        body=rendered.body,
        idempotency_key=f"help:{provider_id or uuid.uuid4().hex}",
        purpose=Message.Purpose.SERVICE,
        audience=Message.Audience.LEAD,
        lead=lead,
    )

"""An agent's own text or email to a lead, and the one answer to "why can't I send it".

one_off_blocked_reasons   per channel, the sentence that refuses a one-off ("" when it can go):
                          read by the lead page before the agent types, and by the send
message_send_one_off      through the outbox; raises MessageBlocked with that sentence, or with
                          `needs_confirmation` when the lead's last texts may have asked to stop
                          (services/opt_out_questions.py) and the agent has not confirmed they
                          did not: confirming answers the question, on the timeline, and sends
"""

import uuid

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leads.models import Lead
from leads.names import person_name

from .. import outbox, policy
from ..models import Message, Suppression
from .opt_out_questions import opt_out_question_pending, opt_out_questions_answer
from .suppressions import suppression_sentence


class MessageBlocked(Exception):
    """A message that cannot be sent. `.reason` is a sentence to show the agent as it is;
    `.needs_confirmation`: it can go once the agent confirms the lead did not ask to stop."""

    def __init__(self, reason: str, *, needs_confirmation: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.needs_confirmation = needs_confirmation


MAX_SMS_LENGTH = 1600


def one_off_blocked_reasons(lead: Lead) -> dict[str, str]:
    """Why an agent's one-off text or email to this lead would be refused, per channel ("" when
    it can go): no address, no consent, an opt-out ("Sam opted out of texts on 3 May"), or the
    suppression list's own sentence. One query for the suppressions of both channels."""
    facts = outbox.lead_facts(lead)
    reasons = {
        channel: policy.lead_blocked_reason(facts, channel) for channel in Message.Channel.values
    }
    addresses = {Message.Channel.SMS: lead.phone, Message.Channel.EMAIL: lead.email.lower()}
    still_open = Q()
    for channel, reason in reasons.items():
        if not reason:
            still_open |= Q(channel=channel, address=addresses[channel])
    if still_open:
        for suppression in Suppression.objects.filter(still_open):
            reasons[suppression.channel] = suppression_sentence(suppression)
    return reasons


def confirmation_question(lead: Lead) -> str:
    """What a one-off text to this lead must confirm first ("" when nothing): its text that
    may have asked to stop."""
    question = opt_out_question_pending(lead)
    if question is None:
        return ""
    who = lead.first_name or "This lead"
    quote = " ".join(question.body.split())[:120]
    return f"{who} texted “{quote}”: did they ask to stop?"


def message_send_one_off(
    lead: Lead,
    *,
    channel: str,
    body: str,
    subject: str = "",
    actor,
    idempotency_key=None,
    confirmed_not_stop: bool = False,
) -> Message:
    """An agent's own text or email to a lead, through the outbox.

    Raises MessageBlocked with a sentence the agent understands when it cannot be sent. A text
    in the lead's quiet hours waits for the morning (the returned message's scheduled_for says
    when). Once sent it is a personal contact on the timeline: it counts as speed to lead and
    completes the agent's open task, which automated messages never do. Pass an
    idempotency_key (e.g. the form's token) to make a double submit send once. A text to a
    lead whose texts may have asked to stop needs confirmed_not_stop (the agent's "They did not
    ask to stop"), which answers the question on the timeline before the text is written."""
    body = (body or "").strip()
    if not body:
        raise MessageBlocked("Write a message first")
    if channel == Message.Channel.SMS and len(body) > MAX_SMS_LENGTH:
        raise MessageBlocked(f"A text can be at most {MAX_SMS_LENGTH:,} characters")
    blocked = one_off_blocked_reasons(lead)[channel]
    if blocked:
        raise MessageBlocked(blocked)
    question = confirmation_question(lead) if channel == Message.Channel.SMS else ""
    if question and not confirmed_not_stop:
        raise MessageBlocked(
            f"{question} Confirm they did not before you text them.", needs_confirmation=True
        )
    write = {"channel": channel, "body": body, "subject": subject, "actor": actor}
    if not question:
        return _one_off_queue(lead, idempotency_key=idempotency_key, **write)
    with transaction.atomic():  # the agent's answer and their text, together
        opt_out_questions_answer(lead, asked_to_stop=False, actor=actor, how=", and texted them")
        return _one_off_queue(lead, idempotency_key=idempotency_key, **write)


def _one_off_queue(lead: Lead, *, channel: str, body: str, subject: str, actor, idempotency_key):
    to = lead.phone if channel == Message.Channel.SMS else lead.email
    now = timezone.now()
    scheduled_for = outbox.sms_allowed_from(to, now) if channel == Message.Channel.SMS else now
    if channel == Message.Channel.EMAIL:
        subject = subject.strip() or f"A note from {person_name(actor, nobody='the system')}"
    return outbox.message_queue(
        channel=channel,
        to=to,
        body=body,
        subject=subject,
        idempotency_key=idempotency_key or f"one-off:{uuid.uuid4().hex}",
        purpose=Message.Purpose.ONE_OFF,
        audience=Message.Audience.LEAD,
        lead=lead,
        created_by=actor,
        scheduled_for=scheduled_for,
    )

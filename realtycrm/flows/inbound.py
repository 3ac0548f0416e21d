"""Inbound texts and unsubscribes: what a prospect sends back.

text_receive       every inbound text, once (the webhook deduplicates on Twilio's id):
                   a revocation (STOP, "please stop texting me", "remove me from your list":
                   sequences/replies.py) opts the number out at once, for every sender, before
                   the next message is sent; START opts back in; HELP answers with the
                   brokerage's contact; a text that may mean stop ("not interested") is on the
                   timeline, pauses automation and asks the owner to confirm; anything else is
                   a reply: on the lead's timeline, its automation paused, the lead engaged, a
                   task for the owner, the owner alerted; from a dormant contact of the old
                   database (a campaign's text), a reply re-engages it: its arrival, routed
                   like a new lead (the track and its acknowledgment go on), engaged, a task
opt_out_confirm    the owner's answer to "did they ask to stop?": opt out, or texts may go
email_unsubscribe  the one-click unsubscribe link (or List-Unsubscribe POST)
"""

import logging

from django.db import transaction
from django.utils import timezone

from alerts.services import alert_on_possible_opt_out, alert_on_reply, alerts_acknowledge_lead
from leads.models import Intent, Lead, Stage
from leads.timelines import timeline_from_text
from sequences import replies
from sequences.models import Message, Suppression
from sequences.services import suppressions
from sequences.services.agent_tasks import reply_task_open
from sequences.services.automation import automation_pause
from sequences.services.inbound import help_reply, reply_record, sender_lead
from sequences.services.opt_out_questions import (
    opt_out_question_open,
    opt_out_questions_answer,
    opt_out_questions_close_on_stop,
)

from .contacts import stage_change
from .intake import lead_reengage_route

logger = logging.getLogger(__name__)


@transaction.atomic(savepoint=False)
def text_receive(
    *, from_number: str, body: str, to_number: str = "", provider_id: str = "", received_at=None
) -> str:
    """What the text was: revoke, start, help, ambiguous, reply or unknown_sender (see the
    module doc)."""
    received_at = received_at or timezone.now()
    kind = replies.classify(body)
    lead = sender_lead(from_number)
    if kind == replies.REVOKE:
        suppressions.address_suppress(
            Message.Channel.SMS, from_number, reason=Suppression.Reason.SMS_STOP, detail=body
        )
        opt_out_questions_close_on_stop(from_number)
        return kind
    if kind == replies.START:
        opted_out = suppressions.is_suppressed(Message.Channel.SMS, from_number) or (
            lead is not None and lead.sms_opted_out_at is not None
        )
        if opted_out:
            suppressions.address_unsuppress(
                Message.Channel.SMS,
                from_number,
                summary="Texted START: texts may resume",
                data={"detail": body[:200]},
            )
            return kind
        kind = replies.REPLY  # "Yes" from someone who never opted out is an answer
    if kind == replies.HELP:
        help_reply(from_number, lead, provider_id)
        return kind
    if lead is None:
        logger.info("Text from %s, who is not a lead", from_number)
        return "unknown_sender"
    reply_record(
        lead, body=body, provider_id=provider_id, to_number=to_number, received_at=received_at
    )
    reengaged = _text_reengage(lead, body=body) if kind == replies.REPLY and lead.dormant else None
    if reengaged is not None:
        reply_task_open(reengaged, body=body, received_at=received_at)
        if reengaged.intent != Intent.HOT:  # a hot one's owner was interrupted by routing
            alert_on_reply(reengaged, body=body)
        return kind
    if kind == replies.AMBIGUOUS:
        # Not engaged: "not interested" or "who is this?" is no conversation yet.
        automation_pause(lead, actor=None, reason="They replied: did they ask to stop?")
        opt_out_question_open(lead, body=body, received_at=received_at)
        alert_on_possible_opt_out(lead, body=body)
        return kind
    automation_pause(lead, actor=None, reason="They replied by text")
    if lead.stage in (Stage.NEW, Stage.CONTACTED):
        stage_change(lead, Stage.ENGAGED, note="Replied by text", occurred_at=received_at)
    reply_task_open(lead, body=body, received_at=received_at)
    alert_on_reply(lead, body=body)
    return replies.REPLY


def _text_reengage(lead: Lead, *, body: str) -> Lead | None:
    """A dormant contact answered a campaign's text: it re-engages (flows.intake), with the
    timeline the text states, if any ("thinking of selling in the spring" states none: the
    source's default intent). Its automation is not paused as a reply's would be: the
    re-engagement just enrolled it, and its acknowledgment is the answer it gets now; its owner
    has the text to answer, and is interrupted by routing when it is hot. None when it was no
    longer dormant (a form from the same person got there first): a plain reply, then."""
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("owner__agent")
        .filter(pk=lead.pk, dormant=True)
        .first()
    )
    if lead is None:
        return None
    timeline = timeline_from_text(body)
    lead_reengage_route(
        lead, {"timeline": timeline} if timeline else {}, how="by text", data={"text": body[:200]}
    )
    stage_change(lead, Stage.ENGAGED, note="Replied by text")
    return lead


@transaction.atomic(savepoint=False)
def opt_out_confirm(lead: Lead, *, asked_to_stop: bool, actor) -> int:
    """The owner read the lead's texts that may have asked to stop and says whether they did:
    asked opts the number out for every sender (sequences.services.suppressions), not lets
    texts go again; either way the question is answered on the timeline and the owner's alerts
    about the lead close. Returns how many pending questions it answered."""
    answered = opt_out_questions_answer(lead, asked_to_stop=asked_to_stop, actor=actor)
    if actor is not None:
        how = "said they asked to stop" if asked_to_stop else "said they did not ask to stop"
        alerts_acknowledge_lead(lead, agent=actor, how=how)
    return answered


def email_unsubscribe(address: str) -> Suppression:
    """The one-click unsubscribe link was used: nothing more goes to the address."""
    return suppressions.email_unsubscribe(address)

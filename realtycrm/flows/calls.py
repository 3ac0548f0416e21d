"""Call-connect, the use cases that span apps (the call itself is alerts.calls'):

call_start          "Call" on a lead, on Today, on an alert or behind an alert's link
call_pressed_one    the agent pressed 1: the lead is dialed, the agent's alerts about it
                    are acknowledged (they are on it)
call_lead_leg       the lead's leg reported; when it ends the call is logged by itself as the
                    agent's personal contact (contact_log: answered or not, with its length),
                    so speed to lead is measured rather than typed
call_outcome        the agent's one tap afterwards rewrites the logged contact's words
call_play           what a phone company would report, for a backend that has none (the
                    console in `make run`, the in-memory one in tests)
"""

from django.db import transaction

from alerts.calls import (
    CallRefused,
    call_agent_answered,
    call_attach_contact,
    call_connect,
    call_contact_data,
    call_contact_note,
    call_create,
    call_lead_leg_update,
    call_set_outcome,
)
from alerts.models import Alert, Call
from alerts.services import alerts_acknowledge_lead
from leads.models import Lead, LeadEvent
from leads.selectors import user_is_broker
from leads.services import lead_contact_amend
from sequences.backends.voice import CallLeg, LegStatus

from .contacts import contact_log

NOT_YOURS = "Only the lead's owner can call them from here: claim the lead first."


def call_start(lead: Lead, *, agent, origin: str, alert: Alert | None = None) -> Call:
    """Ring the agent's phone about this lead (after commit). The lead's owner, or a broker;
    raises CallRefused with the sentence to show otherwise, before anything is written (so a
    caller's transaction is never left broken by a refusal)."""
    if lead.owner_id != agent.pk and not user_is_broker(agent):
        raise CallRefused(NOT_YOURS)
    return call_create(lead, agent=agent, origin=origin, alert=alert)


@transaction.atomic(savepoint=False)
def call_pressed_one(call: Call) -> bool:
    """False when the lead was already dialed for this call, or it is over."""
    if not call_connect(call):
        return False
    alerts_acknowledge_lead(call.lead, agent=call.agent, how="took the call")
    return True


@transaction.atomic(savepoint=False)
def call_lead_leg(call: Call, leg: CallLeg) -> LeadEvent | None:
    """Returns the personal contact logged when this report ended the lead's leg."""
    if not call_lead_leg_update(call, leg):
        return None
    event = contact_log(
        call.lead,
        channel=LeadEvent.Channel.CALL,
        actor=call.agent,
        note=call_contact_note(call),
        occurred_at=call.dialed_at,
        data=call_contact_data(call),
    )
    call_attach_contact(call, event)
    return event


@transaction.atomic(savepoint=False)
def call_outcome(call: Call, outcome: str) -> None:
    call_set_outcome(call, outcome)
    if call.contact_event_id:
        lead_contact_amend(
            call.contact_event, note=call_contact_note(call), data=call_contact_data(call)
        )


def call_play(call: Call, *, lead_answers: bool, seconds: int = 95) -> LeadEvent | None:
    """The agent answers and presses 1; the lead answers and talks for `seconds`, or does not
    answer. The same steps the webhooks take, in order, each its own transaction."""
    call_agent_answered(call)
    if not call_pressed_one(call):
        return None
    if lead_answers:
        leg = CallLeg(LegStatus.COMPLETED, provider_id="played", duration_seconds=seconds)
    else:
        leg = CallLeg(LegStatus.NO_ANSWER, provider_id="played")
    return call_lead_leg(call, leg)

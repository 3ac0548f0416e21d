"""An agent works a lead: a contact, a stage, a new owner, a claim."""

from django.db import transaction

from alerts.services import alerts_acknowledge_lead, alerts_on_claim, alerts_on_reassign
from leads import ownership
from leads.models import Lead, LeadEvent
from leads.names import person_name
from leads.services import lead_change_stage, lead_record_contact, lead_wake
from sequences.services.agent_tasks import no_consent_call_task_open, tasks_complete_for_contact
from sequences.services.appointments import (
    appointments_cancel_for_lost,
    appointments_follow_owner,
)
from sequences.services.automation import automation_on_stage_change


@transaction.atomic(savepoint=False)
def contact_log(
    lead: Lead, *, channel: str, actor, note: str = "", occurred_at=None, data: dict | None = None
) -> LeadEvent:
    """A human reached the lead (call, text, email, in person): the contact dates move, a new lead
    becomes contacted, the open tasks the contact answers are done, and the agent's open alerts
    about the lead are acknowledged. A dormant contact is dormant no more (lead_wake). `data`:
    what the event keeps beside its words (a call's length and outcome)."""
    label = LeadEvent.Channel(channel).label.lower()
    lead_wake(lead, why=f"{person_name(actor)} logged a {label}", actor=actor)
    event = lead_record_contact(
        lead, channel=channel, actor=actor, note=note, occurred_at=occurred_at, data=data
    )
    if lead.stage == Lead.Stage.NEW:
        stage_change(lead, Lead.Stage.CONTACTED, actor=actor)
    tasks_complete_for_contact(lead, actor=actor, at=event.occurred_at)
    if actor is not None:
        alerts_acknowledge_lead(lead, agent=actor, how=f"logged a {label}")
    return event


@transaction.atomic(savepoint=False)
def stage_change(
    lead: Lead,
    stage: str,
    *,
    actor=None,
    note: str = "",
    occurred_at=None,
    appointments: bool = True,
) -> bool:
    """Move the lead along the funnel; an appointment, a client, a closed or a lost lead is in a
    person's hands, so its automation stops; a dormant contact moved is dormant no more. A lost
    lead's future appointments are cancelled, without telling the lead (a closed one's stay: a
    closing is a normal appointment); a bulk chunk does that for all its leads at once:
    `appointments=False`, then appointments_cancel_for_lost. Returns False when it was already
    there."""
    moved = lead_change_stage(lead, stage, actor=actor, note=note, occurred_at=occurred_at)
    if moved:
        by = f" by {person_name(actor)}" if actor is not None else ""
        lead_wake(lead, why=f"moved to {Lead.Stage(stage).label}{by}", actor=actor)
        automation_on_stage_change(lead, stage, actor=actor)
        if appointments and stage == Lead.Stage.LOST:
            appointments_cancel_for_lost([lead], actor=actor)
    return moved


@transaction.atomic(savepoint=False)
def lead_reassign(
    lead: Lead, owner, *, actor, interrupt: bool = True, appointments: bool = True
) -> bool:
    """A broker gives the lead to another agent: the previous owner's alerts about it close, its
    future appointments (their reminders, the calendar event) go to the new owner, and the new
    owner is interrupted when it is hot and waiting (not by a bulk reassign: `interrupt=False`;
    a bulk chunk moves its leads' appointments at once: `appointments=False`, then
    appointments_follow_owner). False when they already own it."""
    if lead.owner_id == owner.pk:
        return False
    previous = lead.owner
    ownership.lead_set_owner(
        lead, owner, why=f"by {person_name(actor)}", how="reassigned", actor=actor
    )
    if appointments:
        appointments_follow_owner([lead], owner, actor=actor)
    alerts_on_reassign(lead, previous=previous, actor=actor, interrupt=interrupt)
    return True


@transaction.atomic(savepoint=False)
def lead_claim(lead: Lead, *, agent) -> bool:
    """First to claim owns the lead (one winner, even at the same instant); the winner's claim
    alert is acknowledged and everyone else's closes; an appointment booked while nobody owned
    it is theirs now. False when it was not theirs to claim."""
    if ownership.lead_claim(lead, agent=agent) is None:
        return False
    appointments_follow_owner([lead], agent, actor=agent)
    alerts_on_claim(lead, agent=agent)
    no_consent_call_task_open(lead)  # a channel's lead we may not text: the claimer calls
    return True

"""Routing: act on a segmentation decision, in one transaction.

    decision ─▶ owner (leads.ownership) ─▶ intent on the lead (leads.services) ─▶ enrolment in
             the track (sequences) ─▶ alerts to the owner (alerts), and a call when the rule
             calls hot leads at once (alerts.calls) ─▶ events on the timeline

Intake calls lead_route for a new lead and for a re-inquiry that raises intent; agents' edits call
it through lead_reclassify. Nothing else writes a lead's intent or decides its track (a track's own
"move" step, e.g. to the nurture cycle after day 7, is part of that track: sequences).
"""

from django.db import transaction

from alerts.calls import calls_for_new_lead
from alerts.services import alert_became_hot, alerts_for_new_lead
from leads.models import Intent, Lead, LeadEvent
from leads.ownership import Choice, assignment_choose, lead_assign, owner_kept
from leads.routing import decision_for_intent, lead_segment
from leads.segmentation import Decision
from leads.services import lead_apply_decision, lead_correct_answers, lead_event_record
from sequences.selectors import tracks_by_key
from sequences.services.enrollment import enrollment_route


def lead_route_prepare(lead: Lead, decision: Decision, *, assign_by: dict | None = None) -> Choice:
    """A new lead's owner and track, decided before its INSERT so the row is written with them
    (intake: leads.intake.lead_take_submission's `prepare`): the owner is chosen (the round
    robin's turn taken, in the intake's transaction), then lead_route(…, chosen=…) writes the
    rest. Returns the choice."""
    lead.nurture_track = tracks_by_key().get(decision.track) if decision.track else None
    # A hot lead's owner gets an alert text, whose hourly cap locks their row: the round robin
    # locks it as it chooses them (leads.ownership._next_turn).
    chosen = assignment_choose(lead, **(assign_by or {}), lock_owner=decision.alert)
    lead.owner = chosen.owner
    return chosen


@transaction.atomic(savepoint=False)
def lead_route(
    lead: Lead,
    decision: Decision,
    *,
    is_new: bool,
    actor=None,
    assign_by: dict | None = None,
    source: str | None = None,
    chosen: Choice | None = None,
) -> Lead:
    """Apply a decision to a lead: its owner, intent, routing rule and nurture track.
    `assign_by`: who the channel says gets a new lead, or by which rule (leads.ownership);
    `source`: the form a new arrival used, when not its own source (its acknowledgment's);
    `chosen`: lead_route_prepare chose its owner and track before the lead's INSERT, in this
    transaction (so it has no enrolment or open alert to look for)."""
    created = chosen is not None
    previous_intent = lead.intent
    previous_track = lead.nurture_track
    track = tracks_by_key().get(decision.track) if decision.track else None
    lead_apply_decision(lead, decision)
    # The owner after the intent: an assignment rule may name the intent (a hot-lead team). A
    # new lead that arrives owned (a re-engaging contact) keeps an owner who can take it.
    if chosen is not None:
        assignment = lead_assign(lead, chosen=chosen)
    elif is_new:
        assignment = owner_kept(lead) or lead_assign(lead, **(assign_by or {}))
    else:
        assignment = None
    # Enrol in the track, or move the enrolment when intent or track changed, in this same
    # transaction: a new lead's acknowledgment is in the outbox when intake commits.
    enrollment_route(
        lead,
        track,
        is_new=is_new,
        changed=previous_track != track or previous_intent != decision.intent,
        actor=actor,
        source=source,
        unenrolled=created,
    )

    if assignment is not None:
        raised = alerts_for_new_lead(lead, assignment, alert=decision.alert, created=created)
        # A rule that calls hot leads at once rings the owner too (placed after commit).
        calls_for_new_lead(lead, assignment.rule, raised)
    elif decision.alert and previous_intent != decision.intent:
        alert_became_hot(lead, actor=actor)

    if not is_new and previous_intent != decision.intent:
        lead_event_record(
            lead,
            LeadEvent.Kind.INTENT_CHANGED,
            actor=actor,
            summary=f"{Intent(previous_intent).label} → {Intent(decision.intent).label}: "
            f"{decision.intent_reason}",
            data={"from": previous_intent, "to": decision.intent},
        )
    if not is_new and previous_track != track:
        lead_event_record(
            lead,
            LeadEvent.Kind.TRACK_CHANGED,
            actor=actor,
            summary=f"{previous_track or 'No track'} → {track or 'No track'}",
            data={
                "from": previous_track.key if previous_track else None,
                "to": track.key if track else None,
            },
        )
    return lead


@transaction.atomic(savepoint=False)
def lead_reclassify(
    lead: Lead,
    *,
    actor,
    timeline: str | None = None,
    side: str | None = None,
    intent: str | None = None,
) -> Lead:
    """An agent corrects what the lead told us (timeline, side) or overrides the intent outright.

    The answers are re-segmented; an explicit intent wins over the timeline and is recorded as the
    agent's call. The track follows the new intent.
    """
    lead_correct_answers(lead, actor=actor, timeline=timeline, side=side)
    decision = lead_segment(lead)
    if intent is not None:
        decision = decision_for_intent(lead, decision, intent, actor=actor)
    return lead_route(lead, decision, is_new=False, actor=actor)

"""Routing: act on a segmentation decision. One entry point, `lead_route`.

    decision ─▶ owner (alerts.assignment) ─▶ intent / track on the lead ─▶ enrolment in the
             track (sequences) ─▶ alerts to the owner (alerts) ─▶ events on the timeline

Intake calls it for a new lead and for a re-inquiry that raises intent; agents' edits call it
through `lead_reclassify`. Nothing else writes a lead's intent or decides its track (a track's
own "move" step, e.g. to the nurture cycle after day 7, is part of that track: sequences).
"""

from django.db import transaction

from . import segmentation
from .models import Intent, Lead, LeadEvent, RoutingRule
from .segmentation import Answers, Decision, Rule
from .services import lead_event_record


def routing_rules() -> list[Rule]:
    """Every routing rule as plain values, in one query."""
    return [
        Rule(
            id=rule.id,
            source=rule.source,
            intent=rule.intent,
            side=rule.side,
            track=rule.track.key,
            alert=rule.alert,
            first_contact_mode=rule.first_contact_mode,
        )
        for rule in RoutingRule.objects.select_related("track")
    ]


def lead_answers(lead: Lead) -> Answers:
    return Answers(
        source=lead.source,
        timeline=lead.timeline,
        side=lead.side,
        asked_for_showing=lead.asked_for_showing,
        inquiry_type=lead.inquiry_type,
    )


def lead_segment(lead: Lead) -> Decision:
    return segmentation.segment(lead_answers(lead), routing_rules())


@transaction.atomic
def lead_route(lead: Lead, decision: Decision, *, is_new: bool, actor=None) -> Lead:
    """Apply a decision to a lead: its owner, intent, routing rule and nurture track."""
    # sequences and alerts build on leads: imported here, where routing hands over to them.
    from alerts.assignment import lead_assign
    from alerts.services import alert_became_hot, alerts_for_new_lead
    from sequences.models import Track
    from sequences.services import enrollment_route

    assignment = lead_assign(lead) if is_new and lead.owner_id is None else None

    previous_intent = lead.intent
    previous_track = lead.nurture_track
    track = Track.objects.filter(key=decision.track).first() if decision.track else None

    lead.intent = decision.intent
    lead.intent_reason = decision.intent_reason[:200]
    lead.routing_rule_id = decision.rule_id
    lead.first_contact_mode = decision.first_contact_mode
    lead.nurture_track = track
    lead.save()
    # Enrol in the track, or move the enrolment when intent or track changed, in this same
    # transaction: a new lead's acknowledgment is in the outbox when intake commits.
    enrollment_route(
        lead,
        is_new=is_new,
        changed=previous_track != track or previous_intent != decision.intent,
        actor=actor,
    )

    if assignment is not None:
        alerts_for_new_lead(lead, assignment, alert=decision.alert)
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


@transaction.atomic
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
    if timeline is not None and timeline != lead.timeline:
        lead_event_record(
            lead,
            LeadEvent.Kind.TIMELINE_CHANGED,
            actor=actor,
            summary=f"{Lead.Timeline(lead.timeline).label} → {Lead.Timeline(timeline).label}",
            data={"from": lead.timeline, "to": timeline},
        )
        lead.timeline = timeline
    if side is not None and side != lead.side:
        lead_event_record(
            lead,
            LeadEvent.Kind.SIDE_CHANGED,
            actor=actor,
            summary=f"{Lead.Side(lead.side).label} → {Lead.Side(side).label}",
            data={"from": lead.side, "to": side},
        )
        lead.side = side

    decision = lead_segment(lead)
    if intent is not None and intent != decision.intent:
        rule = segmentation.rule_for(routing_rules(), lead.source, intent, lead.side)
        who = (actor.get_full_name() or actor.get_username()) if actor else "an agent"
        decision = Decision(
            intent=intent,
            intent_reason=f"Set by {who}",
            track=rule.track if rule else None,
            alert=rule.alert if rule else intent == Intent.HOT,
            first_contact_mode=rule.first_contact_mode if rule else decision.first_contact_mode,
            rule_id=rule.id if rule else None,
        )
    return lead_route(lead, decision, is_new=False, actor=actor)

"""The facts segmentation needs, read from the database: a lead's answers, the routing rules and
the broker's timeline → intent mapping.

    lead_segment      the lead's answers (or what a re-inquiry says now) + every routing rule
                      + the intent mapping ─▶ segmentation.segment ─▶ Decision
    decision_for_intent   an agent's explicit intent, with the rule that intent would match

Acting on a decision (owner, enrolment, alerts) is realtycrm.flows.routing.lead_route.
"""

import dataclasses

from . import segmentation
from .models import Intent, IntentMapping, Lead, RoutingRule
from .names import person_name
from .rulebook import rulebook_cached
from .segmentation import SHIPPED_INTENTS, Answers, Decision, IntentMap, Rule


def routing_rules() -> list[Rule]:
    """Every routing rule as plain values: one query, then from memory while no rule changes
    (leads.rulebook)."""
    return list(rulebook_cached("routing_rules", _routing_rules))


def _routing_rules() -> tuple[Rule, ...]:
    return tuple(
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
    )


def intent_map() -> IntentMap:
    """The broker's timeline → intent mapping (leads.IntentMapping) as plain values, in one
    query (then from memory while unchanged: leads.rulebook). An answer without a row (none should be missing: the rows are seeded and cannot be
    added or deleted in the admin) counts as it ships, so every answer has exactly one intent."""
    return rulebook_cached("intent_map", _intent_map)


def _intent_map() -> IntentMap:
    maps = {
        IntentMapping.Kind.TIMELINE: dict(SHIPPED_INTENTS.timeline),
        IntentMapping.Kind.SOURCE: dict(SHIPPED_INTENTS.source),
        IntentMapping.Kind.INQUIRY: dict(SHIPPED_INTENTS.website_inquiry),
    }
    for kind, answer, intent in IntentMapping.objects.values_list("kind", "answer", "intent"):
        if answer in maps.get(kind, ()):  # the database's constraints hold the rest
            maps[kind][answer] = intent
    return IntentMap(
        timeline=maps[IntentMapping.Kind.TIMELINE],
        source=maps[IntentMapping.Kind.SOURCE],
        website_inquiry=maps[IntentMapping.Kind.INQUIRY],
    )


def track_name(key: str) -> str:
    """A track's name as brokers call it ("Hot seller"), for the sentences on a timeline: its
    key ("hot_seller") is for the rules, never for the screen."""
    return rulebook_cached("track_names", _track_names).get(key) or key


def _track_names() -> dict[str, str]:
    track_model = RoutingRule._meta.get_field("track").related_model
    return dict(track_model.objects.values_list("key", "name"))


def lead_answers(lead: Lead) -> Answers:
    return Answers(
        source=lead.source,
        timeline=lead.timeline,
        side=lead.side,
        asked_for_showing=lead.asked_for_showing,
        inquiry_type=lead.inquiry_type,
    )


def lead_segment(lead: Lead, **asked_now) -> Decision:
    """The decision for the lead's recorded answers, or, with `asked_now` (a re-inquiry's
    timeline, showing request or inquiry type: leads.intake.asked_now), for what it says now,
    without storing those answers on the lead."""
    answers = dataclasses.replace(lead_answers(lead), **asked_now)
    return segmentation.segment(answers, routing_rules(), intent_map())


def decision_for_intent(lead: Lead, decision: Decision, intent: str, *, actor) -> Decision:
    """An agent overrides the intent outright: it wins over the answers, recorded as their call,
    and the track, alert and first contact follow the rule that intent matches."""
    if intent == decision.intent:
        return decision
    rule = segmentation.rule_for(routing_rules(), lead.source, intent, lead.side)
    return Decision(
        intent=intent,
        intent_reason=f"Set by {person_name(actor, nobody='an agent')}",
        track=rule.track if rule else None,
        alert=rule.alert if rule else intent == Intent.HOT,
        first_contact_mode=rule.first_contact_mode if rule else decision.first_contact_mode,
        rule_id=rule.id if rule else None,
    )

"""Segmentation: a lead's answers and the routing rules in, a decision out.

Pure functions over plain values: no database, no clock. The tables below are the ones in
DESIGN.md; docs/routing.md explains them for brokers.

    intent  = hot          if a hot signal (asked for a showing)
            = from timeline if the lead stated one        (a stated timeline beats the source)
            = source default otherwise
    rule    = the most specific routing rule matching (source, intent, side)

Which timeline (and, without one, which source or website question) counts as hot, warm or
long-term is the broker's to edit (leads.IntentMapping, docs/routing.md): the caller passes it in
as an `IntentMap`, as it passes the routing rules. The values below are what ships, and what a
decision uses when it is given none.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .models import FirstContactMode, InquiryType, Intent, Side, Source, Timeline

TIMELINE_INTENT = {
    Timeline.WITHIN_3_MONTHS: Intent.HOT,
    Timeline.MONTHS_3_TO_6: Intent.HOT,
    Timeline.MONTHS_6_TO_18: Intent.WARM,
    Timeline.JUST_CURIOUS: Intent.LONG_TERM,
}

# Used only when the lead gave no timeline (imports, old records).
SOURCE_DEFAULT_INTENT = {
    Source.VALUATION: Intent.WARM,
    Source.LISTING_AD: Intent.WARM,
    Source.GIVEAWAY: Intent.LONG_TERM,
    Source.OPEN_HOUSE: Intent.WARM,
    Source.REACTIVATION: Intent.WARM,
    # A website inquiry is decided by its inquiry type, below; this is for one without any.
    Source.WEBSITE: Intent.WARM,
}
WEBSITE_INQUIRY_INTENT = {
    InquiryType.BUYING: Intent.WARM,
    InquiryType.SELLING: Intent.WARM,
    InquiryType.NEIGHBOURHOOD: Intent.LONG_TERM,
    InquiryType.MARKET_QUESTION: Intent.LONG_TERM,
}


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class IntentMap:
    """Which answers count as hot, warm or long-term, as plain values: the intent of each stated
    timeline, and, when no timeline was given, of each source and each website question."""

    timeline: Mapping[str, str] = field(default_factory=lambda: _frozen(TIMELINE_INTENT))
    source: Mapping[str, str] = field(default_factory=lambda: _frozen(SOURCE_DEFAULT_INTENT))
    website_inquiry: Mapping[str, str] = field(
        default_factory=lambda: _frozen(WEBSITE_INQUIRY_INTENT)
    )


SHIPPED_INTENTS = IntentMap()

# How hot each intent is; a re-inquiry only ever raises intent along this order.
INTENT_RANK = {Intent.UNKNOWN: 0, Intent.LONG_TERM: 1, Intent.WARM: 2, Intent.HOT: 3}

# When two rules match, the one naming the source wins over one naming the intent, which wins
# over one naming the side (weights 4, 2, 1 make every combination strictly ordered).
_WEIGHT_SOURCE, _WEIGHT_INTENT, _WEIGHT_SIDE = 4, 2, 1


@dataclass(frozen=True)
class Answers:
    """What a lead told us, as plain values."""

    source: str
    timeline: str = Timeline.UNKNOWN
    side: str = Side.UNKNOWN
    asked_for_showing: bool = False
    inquiry_type: str = ""


@dataclass(frozen=True)
class Rule:
    """One routing rule as plain values; blank source, intent or side means any."""

    track: str
    alert: bool
    first_contact_mode: str
    source: str = ""
    intent: str = ""
    side: str = ""
    id: int | None = None

    def matches(self, source: str, intent: str, side: str) -> bool:
        return criteria_match((self.source, self.intent, self.side), (source, intent, side))

    @property
    def specificity(self) -> int:
        return (
            _WEIGHT_SOURCE * bool(self.source)
            + _WEIGHT_INTENT * bool(self.intent)
            + _WEIGHT_SIDE * bool(self.side)
        )


@dataclass(frozen=True)
class Decision:
    intent: str
    intent_reason: str
    track: str | None
    alert: bool
    first_contact_mode: str
    rule_id: int | None


def criteria_match(criteria: tuple[str, ...], values: tuple[str, ...]) -> bool:
    """Blank means any: every criterion is blank or equals its value. Routing rules (here) and
    assignment rules (leads.ownership) both match a lead's source, intent and side this way."""
    return all(criterion in ("", value) for criterion, value in zip(criteria, values, strict=True))


def intent_for(answers: Answers, intents: IntentMap = SHIPPED_INTENTS) -> tuple[str, str]:
    """The lead's intent and a one-line reason a person can read. The reason names the answer
    that decided, never the mapping's verdict on it, so it stays true whatever the broker's
    mapping says (the intent beside it says how hot that answer counts)."""
    if answers.asked_for_showing:
        return Intent.HOT, "Asked for a showing"
    if answers.timeline in intents.timeline:
        label = Timeline(answers.timeline).label
        return intents.timeline[answers.timeline], f"Said they are moving: {label.lower()}"
    source_label = Source(answers.source).label
    if answers.source == Source.WEBSITE:
        default = intents.source.get(Source.WEBSITE, Intent.WARM)
        intent = intents.website_inquiry.get(answers.inquiry_type, default)
        return intent, f"No timeline given: default for a {source_label.lower()}"
    intent = intents.source[answers.source]
    return intent, f"No timeline given: default for {source_label.lower()} leads"


def rule_for(rules: Iterable[Rule], source: str, intent: str, side: str) -> Rule | None:
    matching = [rule for rule in rules if rule.matches(source, intent, side)]
    return max(matching, key=lambda rule: rule.specificity, default=None)


def segment(
    answers: Answers, rules: Iterable[Rule], intents: IntentMap = SHIPPED_INTENTS
) -> Decision:
    """Decide what the lead is, how hot (by the broker's `intents`), which track and whether to
    interrupt its owner."""
    intent, reason = intent_for(answers, intents)
    rule = rule_for(rules, answers.source, intent, answers.side)
    if rule is None:
        # No rule matched (someone deleted the catch-all): keep the lead, alert if hot, no track.
        return Decision(
            intent=intent,
            intent_reason=reason,
            track=None,
            alert=intent == Intent.HOT,
            first_contact_mode=(
                FirstContactMode.PERSONAL_CALL
                if intent == Intent.HOT
                else FirstContactMode.AUTOMATED
            ),
            rule_id=None,
        )
    return Decision(
        intent=intent,
        intent_reason=reason,
        track=rule.track,
        alert=rule.alert,
        first_contact_mode=rule.first_contact_mode,
        rule_id=rule.id,
    )


def hotter(intent_a: str, intent_b: str) -> str:
    """The hotter of two intents (re-inquiries never cool a lead down on their own)."""
    return max(intent_a, intent_b, key=lambda intent: INTENT_RANK[intent])

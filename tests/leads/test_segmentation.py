"""Segmentation against the shipped routing matrix: every source × timeline × side.

Read a row as: a lead from SOURCE who answered TIMELINE is INTENT, alerts its owner or not, gets
first contact by MODE, and enters the track in the column for its side.
"""

import pytest

from leads.models import Intent, Side, Source, Timeline
from leads.routing import routing_rules
from leads.segmentation import Answers, Rule, hotter, intent_for, rule_for, segment

HOT, WARM, LONG = Intent.HOT, Intent.WARM, Intent.LONG_TERM
CALL, TEXT, SOFT = "personal_call", "targeted_text", "soft_nurture"
HS, BS, HM, OH, RE, LT = (
    "hot_seller",
    "buyer_search",
    "homeowner_market_90",
    "open_house_followup",
    "reactivation",
    "long_term_local",
)
W3, M36, M618, JC, UNK = (
    "within_3_months",
    "3_to_6_months",
    "6_to_18_months",
    "just_curious",
    "unknown",
)

# fmt: off
#  source          timeline  intent alert  mode   seller buyer both unknown
TABLE = [
    ("valuation",    W3,   HOT,  True,  CALL,  HS, BS, HS, HS),
    ("valuation",    M36,  HOT,  True,  CALL,  HS, BS, HS, HS),
    ("valuation",    M618, WARM, False, TEXT,  HM, BS, HM, HM),
    ("valuation",    JC,   LONG, False, SOFT,  LT, LT, LT, LT),
    ("valuation",    UNK,  WARM, False, TEXT,  HM, BS, HM, HM),  # source default: warm
    ("listing_ad",   W3,   HOT,  True,  CALL,  HS, BS, BS, BS),
    ("listing_ad",   M36,  HOT,  True,  CALL,  HS, BS, BS, BS),
    ("listing_ad",   M618, WARM, False, TEXT,  BS, BS, BS, BS),
    ("listing_ad",   JC,   LONG, False, SOFT,  LT, LT, LT, LT),
    ("listing_ad",   UNK,  WARM, False, TEXT,  BS, BS, BS, BS),  # source default: warm
    ("giveaway",     W3,   HOT,  True,  CALL,  HS, BS, HS, HS),  # stated timeline beats the source
    ("giveaway",     M36,  HOT,  True,  CALL,  HS, BS, HS, HS),
    ("giveaway",     M618, WARM, False, TEXT,  HM, BS, HM, HM),
    ("giveaway",     JC,   LONG, False, SOFT,  LT, LT, LT, LT),
    ("giveaway",     UNK,  LONG, False, SOFT,  LT, LT, LT, LT),  # source default: long-term
    ("open_house",   W3,   HOT,  True,  CALL,  OH, OH, OH, OH),
    ("open_house",   M36,  HOT,  True,  CALL,  OH, OH, OH, OH),
    ("open_house",   M618, WARM, False, TEXT,  OH, OH, OH, OH),
    ("open_house",   JC,   LONG, False, SOFT,  LT, LT, LT, LT),
    ("open_house",   UNK,  WARM, False, TEXT,  OH, OH, OH, OH),  # source default: warm
    ("website",      W3,   HOT,  True,  CALL,  HS, BS, HS, HS),
    ("website",      M36,  HOT,  True,  CALL,  HS, BS, HS, HS),
    ("website",      M618, WARM, False, TEXT,  HM, BS, HM, HM),
    ("website",      JC,   LONG, False, SOFT,  LT, LT, LT, LT),
    ("website",      UNK,  WARM, False, TEXT,  HM, BS, HM, HM),  # no inquiry type: warm
    ("reactivation", W3,   HOT,  True,  CALL,  RE, RE, RE, RE),
    ("reactivation", M36,  HOT,  True,  CALL,  RE, RE, RE, RE),
    ("reactivation", M618, WARM, False, TEXT,  RE, RE, RE, RE),
    ("reactivation", JC,   LONG, False, SOFT,  LT, LT, LT, LT),
    ("reactivation", UNK,  WARM, False, TEXT,  RE, RE, RE, RE),  # source default: warm
]
# fmt: on
SIDES = (Side.SELLER, Side.BUYER, Side.BOTH, Side.UNKNOWN)


def test_table_covers_every_source_and_timeline():
    assert {(row[0], row[1]) for row in TABLE} == {
        (source, timeline) for source in Source.values for timeline in Timeline.values
    }


@pytest.fixture
def shipped_rules(db):
    return routing_rules()


@pytest.mark.parametrize(
    ("source", "timeline", "intent", "alert", "mode", "seller", "buyer", "both", "unknown"), TABLE
)
def test_shipped_matrix(
    shipped_rules, source, timeline, intent, alert, mode, seller, buyer, both, unknown
):
    for side, track in zip(SIDES, (seller, buyer, both, unknown), strict=True):
        decision = segment(Answers(source=source, timeline=timeline, side=side), shipped_rules)
        assert (decision.intent, decision.alert, decision.first_contact_mode, decision.track) == (
            intent,
            alert,
            mode,
            track,
        ), f"{source} × {timeline} × {side}"
        assert decision.rule_id is not None


def test_asking_for_a_showing_is_hot_whatever_the_timeline(shipped_rules):
    decision = segment(
        Answers(source="listing_ad", timeline=JC, side="buyer", asked_for_showing=True),
        shipped_rules,
    )
    assert (decision.intent, decision.alert, decision.track) == (HOT, True, BS)
    assert decision.intent_reason == "Asked for a showing"


def test_website_without_timeline_follows_the_inquiry_type():
    assert intent_for(Answers(source="website", inquiry_type="selling"))[0] == WARM
    assert intent_for(Answers(source="website", inquiry_type="market_question"))[0] == LONG
    assert intent_for(Answers(source="website", inquiry_type="neighbourhood"))[0] == LONG


def test_the_reason_names_the_answer_that_decided():
    assert intent_for(Answers(source="giveaway", timeline=W3)) == (
        HOT,
        "Said they are moving: within 3 months",
    )
    assert intent_for(Answers(source="giveaway")) == (
        LONG,
        "No timeline given: default for giveaway leads",
    )


def test_most_specific_rule_wins_source_over_intent_over_side():
    rules = [
        Rule(track="any", alert=False, first_contact_mode="automated"),
        Rule(track="side", alert=False, first_contact_mode="automated", side="buyer"),
        Rule(track="intent", alert=True, first_contact_mode="automated", intent="hot"),
        Rule(
            track="intent+side",
            alert=True,
            first_contact_mode="automated",
            intent="hot",
            side="buyer",
        ),
        Rule(track="source", alert=False, first_contact_mode="automated", source="giveaway"),
    ]
    assert rule_for(rules, "giveaway", "hot", "buyer").track == "source"
    assert rule_for(rules, "website", "hot", "buyer").track == "intent+side"
    assert rule_for(rules, "website", "hot", "seller").track == "intent"
    assert rule_for(rules, "website", "warm", "buyer").track == "side"
    assert rule_for(rules, "website", "warm", "seller").track == "any"


def test_no_matching_rule_still_decides_and_alerts_when_hot():
    decision = segment(Answers(source="giveaway", timeline=W3), rules=[])
    assert (decision.intent, decision.track, decision.alert, decision.rule_id) == (
        HOT,
        None,
        True,
        None,
    )


def test_hotter_only_raises():
    assert hotter(WARM, HOT) == HOT
    assert hotter(HOT, LONG) == HOT
    assert hotter(Intent.UNKNOWN, LONG) == LONG

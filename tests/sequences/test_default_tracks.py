"""The shipped tracks reproduce the issue's first-seven-days table for every segment.

Read a column as: what a lead of that intent gets from its track, when (counted from
enrolment), before it moves on to the 30 to 60 day nurture cycle.
"""

import itertools

import pytest

from leads.models import Intent, Side, Source, Timeline
from leads.routing import routing_rules
from leads.segmentation import Answers, segment
from sequences.models import Track
from sequences.schedule import Facts, plan
from sequences.selectors import track_steps

pytestmark = pytest.mark.django_db

DAY = 24 * 60
ACK = [("0 min", "text: acknowledgment"), ("0 min", "email: acknowledgment")]
# fmt: off
HOT = [
    *ACK,
    ("0 min", "task: call, due within 1 hour"),
    ("day 1", "text"),
    ("day 1", "email"),
    ("day 1", "task: call, due within 4 hours, if no conversation yet"),
    ("day 3", "task: check_in, due within 24 hours"),
    ("day 7", "task: re_engage, due within 24 hours, if no conversation yet"),
    ("day 7", "move to nurture_cycle, if no conversation yet"),
]
WARM = [
    *ACK,
    ("0 min", "task: review, due within 1 hour"),
    ("day 1", "email"),
    ("day 3", "email"),
    ("day 7", "task: check_in, due within 24 hours"),
    ("day 7", "move to nurture_cycle"),
]
HOMEOWNER_90 = [
    *WARM[:-1],
    ("day 30", "email"),
    ("day 60", "email"),
    ("day 90", "email"),
    ("day 90", "move to nurture_cycle"),
]
LONG_TERM = [
    *ACK,
    ("day 1", "email"),
    ("day 3", "email"),
    ("day 7", "move to nurture_cycle"),
]
CYCLE = [
    ("day 30", "email"),
    ("day 75", "email"),
    ("day 120", "email"),
    ("day 165", "email"),
    ("day 180", "move to nurture_cycle"),
]
# fmt: on


def describe(step) -> tuple[str, str]:
    when = "0 min" if step.offset_minutes == 0 else f"day {step.offset_minutes // DAY}"
    if step.kind in ("sms", "email"):
        what = "text" if step.kind == "sms" else "email"
        what += ": acknowledgment" if step.is_acknowledgment else ""
    elif step.kind == "task":
        hours = step.task_due_minutes // 60
        what = f"task: {step.task_kind}, due within {hours} hour{'s' if hours != 1 else ''}"
    else:
        what = f"move to {step.move_to}" + (f" ({step.move_intent})" if step.move_intent else "")
    condition = {
        "no_conversation": ", if no conversation yet",
        "conversation": ", after a conversation",
    }.get(step.condition, "")
    return when, what + condition


def schedule_for(track_key: str, intent: str, *, talked: bool = False):
    track = Track.objects.get(key=track_key)
    specs, _ = track_steps(track.pk)
    return [describe(step) for step in plan(specs, Facts(intent=intent, has_conversation=talked))]


def expected(track_key: str, intent: str):
    if track_key == "homeowner_market_90":
        return HOMEOWNER_90
    if track_key == "long_term_local" or intent == Intent.LONG_TERM:
        return LONG_TERM
    return HOT if intent == Intent.HOT else WARM


SEGMENTS = list(
    itertools.product(
        Source.values,
        [t for t in Timeline.values if t != Timeline.UNKNOWN],
        Side.values,
    )
)


@pytest.mark.parametrize(("source", "timeline", "side"), SEGMENTS)
def test_every_segment_gets_its_columns_schedule(source, timeline, side):
    decision = segment(Answers(source=source, timeline=timeline, side=side), routing_rules())
    assert schedule_for(decision.track, decision.intent) == expected(
        decision.track, decision.intent
    )


@pytest.mark.parametrize(
    ("track_key", "warm_track"),
    [
        ("hot_seller", "homeowner_market_90"),
        ("buyer_search", "buyer_search"),
        ("open_house_followup", "open_house_followup"),
        ("reactivation", "reactivation"),
    ],
)
def test_a_hot_lead_engaged_but_not_ready_moves_to_the_warm_column_on_day_7(track_key, warm_track):
    talked = schedule_for(track_key, Intent.HOT, talked=True)
    assert talked[-1] == ("day 7", f"move to {warm_track} (warm), after a conversation")
    assert ("day 7", "task: re_engage, due within 24 hours, if no conversation yet") not in talked


def test_the_nurture_cycle_touches_every_30_to_60_days_and_starts_again():
    cycle = schedule_for("nurture_cycle", Intent.WARM)
    assert cycle == CYCLE
    days = [int(when.split()[1]) for when, what in cycle if what == "email"]
    restart = 180
    gaps = [b - a for a, b in itertools.pairwise([0, *days, restart + days[0]])]
    assert all(30 <= gap <= 60 for gap in gaps), gaps


def test_long_term_leads_get_no_personal_task_and_no_sales_pressure_for_30_days():
    long_term = schedule_for("long_term_local", Intent.LONG_TERM)
    assert not any(what.startswith("task") for _, what in long_term)
    # After day 7 the cycle's first touch is 30 days later.
    assert CYCLE[0] == ("day 30", "email")

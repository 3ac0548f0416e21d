"""Which steps are due and which apply: pure functions over plain values."""

from datetime import UTC, datetime, timedelta

from sequences.schedule import Facts, StepSpec, applies, due_steps, next_due_at, plan, superseded

DAY = 24 * 60
START = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
STEPS = [
    StepSpec(id=1, position=1, offset_minutes=0, kind="sms", is_acknowledgment=True),
    StepSpec(id=2, position=2, offset_minutes=0, kind="task", for_intent="hot"),
    StepSpec(id=3, position=3, offset_minutes=DAY, kind="sms"),
    StepSpec(id=4, position=4, offset_minutes=DAY, kind="task", condition="no_conversation"),
    StepSpec(id=5, position=5, offset_minutes=3 * DAY, kind="sms"),
    StepSpec(id=6, position=6, offset_minutes=3 * DAY, kind="email"),
    StepSpec(id=7, position=7, offset_minutes=7 * DAY, kind="move", condition="conversation"),
    StepSpec(id=8, position=8, offset_minutes=7 * DAY, kind="move", move_to="nurture_cycle"),
]


def ids(steps):
    return [step.id for step in steps]


def test_due_steps_are_the_ones_not_done_whose_time_has_come_in_order():
    assert ids(due_steps(STEPS, clock_start=START, done_through_minutes=-1, now=START)) == [1, 2]
    one_day = START + timedelta(days=1)
    assert ids(due_steps(STEPS, clock_start=START, done_through_minutes=0, now=one_day)) == [3, 4]
    assert due_steps(STEPS, clock_start=START, done_through_minutes=DAY, now=one_day) == []


def test_after_an_outage_every_missed_step_is_due_once():
    late = START + timedelta(days=3, hours=5)
    due = due_steps(STEPS, clock_start=START, done_through_minutes=0, now=late)
    assert ids(due) == [3, 4, 5, 6]
    # …and once they are done, nothing is due until day 7.
    assert due_steps(STEPS, clock_start=START, done_through_minutes=3 * DAY, now=late) == []
    assert next_due_at(STEPS, clock_start=START, done_through_minutes=3 * DAY) == START + timedelta(
        days=7
    )


def test_a_catch_up_sends_only_the_latest_text_but_keeps_every_task():
    late = START + timedelta(days=3, hours=5)
    due = due_steps(STEPS, clock_start=START, done_through_minutes=0, now=late)
    assert superseded(due) == {3}  # day 1's text; day 3's text and email still go


def test_next_due_is_none_at_the_end_of_the_track():
    assert next_due_at(STEPS, clock_start=START, done_through_minutes=7 * DAY) is None


def test_conditions_intent_and_the_acknowledgment_decide_what_applies():
    hot = Facts(intent="hot")
    warm_talked = Facts(intent="warm", has_conversation=True)
    moved = Facts(intent="hot", acknowledge=False)
    assert applies(STEPS[1], hot) and not applies(STEPS[1], warm_talked)
    assert applies(STEPS[3], hot) and not applies(STEPS[3], warm_talked)
    assert applies(STEPS[6], warm_talked) and not applies(STEPS[6], hot)
    assert applies(STEPS[0], hot) and not applies(STEPS[0], moved)


def test_plan_stops_at_the_first_move_that_applies():
    assert ids(plan(STEPS, Facts(intent="hot"))) == [1, 2, 3, 4, 5, 6, 8]
    assert ids(plan(STEPS, Facts(intent="warm", has_conversation=True))) == [1, 3, 5, 6, 7]

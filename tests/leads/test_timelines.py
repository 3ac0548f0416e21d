"""A timeline in another system's words reads as ours (leads.timelines): the wordings portals,
lead vendors and ad forms use, our own values and labels, and nothing for anything else (the
integration's source default then applies). No database: a pure function."""

import pytest

from leads.models import Timeline
from leads.timelines import timeline_from_text

WITHIN_3, MONTHS_3_6, MONTHS_6_18, CURIOUS = (
    Timeline.WITHIN_3_MONTHS,
    Timeline.MONTHS_3_TO_6,
    Timeline.MONTHS_6_TO_18,
    Timeline.JUST_CURIOUS,
)


@pytest.mark.parametrize(
    ("text", "timeline"),
    [
        # The wordings the issue names.
        ("0-3 months", WITHIN_3),
        ("3-6 months", MONTHS_3_6),
        ("6-12 months", MONTHS_6_18),
        ("12+ months", MONTHS_6_18),
        ("just looking", CURIOUS),
        # ...as people and systems actually type them.
        ("0 - 3 Months", WITHIN_3),
        ("0–3 months", WITHIN_3),  # an en dash
        ("1-3 months", WITHIN_3),
        ("3 to 6 months", MONTHS_3_6),
        ("6 to 12 months", MONTHS_6_18),
        ("12 months+", MONTHS_6_18),
        ("Just Looking!", CURIOUS),
        ("  JUST   LOOKING  ", CURIOUS),
        ("ASAP", WITHIN_3),
        ("Immediately", WITHIN_3),
        ("90 days", WITHIN_3),
        ("Within 6 months", MONTHS_3_6),
        ("more than a year", MONTHS_6_18),
        ("Not sure", CURIOUS),
        ("Just browsing", CURIOUS),
        ("next week", WITHIN_3),
        # Past 18 months is long-term (DESIGN.md), the intent "just curious" has.
        ("18+ months", CURIOUS),
        ("24 months", CURIOUS),
        ("2 years", CURIOUS),
        ("long term", CURIOUS),
    ],
)
def test_common_wordings_map_to_our_timeline(text, timeline):
    assert timeline_from_text(text) == timeline


@pytest.mark.parametrize("timeline", [t for t in Timeline if t != Timeline.UNKNOWN])
def test_our_own_values_and_labels_map_to_themselves(timeline):
    assert timeline_from_text(timeline.value) == timeline
    assert timeline_from_text(str(timeline.label)) == timeline
    assert timeline_from_text(str(timeline.label).upper()) == timeline
    # "3 to 6 months" as a value with spaces for underscores, as a vendor may send it.
    assert timeline_from_text(timeline.value.replace("_", " ")) == timeline


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        "buying a boat",
        "snowboard",  # holds "now", which means nothing inside another word
        "xyz months",
        "unknown",  # our value for "not asked yet": not an answer
        "Unknown",
        "",
        "   ",
        None,
        5,
        ["0-3 months"],
        {"timeline": "0-3 months"},
    ],
)
def test_anything_else_is_none_so_the_source_default_applies(text):
    assert timeline_from_text(text) is None

"""A timeline as other systems word it ("0-3 months", "ASAP", "12+ months", "just looking") read
as ours. Portals, lead vendors and ad forms each ask "when are you moving?" their own way; the
answer decides intent, so every common wording maps to one of our four answers, and anything
else maps to none (the integration's source default then applies).
"""

import re

from .models import Timeline

_WORDS = {
    Timeline.WITHIN_3_MONTHS: (
        "asap",
        "as soon as possible",
        "immediately",
        "right away",
        "now",
        "urgent",
        "this month",
        "next month",
        "next week",
        "this week",
        "within 30 days",
        "within 60 days",
        "within 90 days",
        "less than 3 months",
        "under 3 months",
        "1-3 months",
        "0-3 months",
    ),
    Timeline.MONTHS_3_TO_6: ("3-6 months", "4-6 months", "within 6 months", "this year"),
    Timeline.MONTHS_6_TO_18: (
        "6-12 months",
        "6-18 months",
        "12-18 months",
        "within a year",
        "within 12 months",
        "next year",
        "12+ months",
        "more than a year",
        "over a year",
        "1 year+",
        "1+ years",
        "12 months+",
        "more than 12 months",
    ),
    Timeline.JUST_CURIOUS: (
        "just looking",
        "just browsing",
        "just curious",
        "curious",
        "not sure",
        "unsure",
        "no plans",
        "not planning",
        "researching",
        "refinancing",
        "long term",
        "long-term",
        "someday",
        "a few years",
    ),
}
_LOOKUP = {phrase: timeline for timeline, phrases in _WORDS.items() for phrase in phrases}
_RANGE = re.compile(r"(?:(\d+)\s*(?:-|to|–)\s*)?(\d+)\s*(\+)?\s*(day|week|month|year|mo)s?\b")


def _normal(text: str) -> str:
    text = text.casefold().replace("–", "-").replace("—", "-").replace("_", " ")
    text = re.sub(r"\s*-\s*", "-", text)
    return re.sub(r"\s+", " ", text).strip(" .!")


def _from_numbers(text: str) -> str | None:
    """ "2-4 months", "90 days", "1 year+": the far end of the range, in months."""
    found = _RANGE.search(text)
    if not found:
        return None
    _low, high, plus, unit = found.groups()
    months = int(high) * {"day": 1 / 30, "week": 1 / 4.3, "month": 1, "mo": 1, "year": 12}[unit]
    if plus or "more than" in text or "over" in text:
        months += 1  # "12+ months" is past 12
    if months <= 3:
        return Timeline.WITHIN_3_MONTHS
    if months <= 6:
        return Timeline.MONTHS_3_TO_6
    if months <= 18:
        return Timeline.MONTHS_6_TO_18
    # Past 18 months is long-term (DESIGN.md), as "just curious" is: our forms offer no later
    # answer, and the intent is what the answer decides.
    return Timeline.JUST_CURIOUS


_NEGATED = re.compile(r"\b(not|no|never|isn't|aren't|won't)\b")


def timeline_from_text(text, *, loose: bool = True) -> str | None:
    """Our timeline for an answer in any common wording, or None when it says nothing we know.

    `loose` also reads a range in the text ("2 to 4 months", "90 days") and a known phrase inside
    a longer answer; an answer to a question that may not be about moving at all ("12 years",
    for "how long have you owned your home?") is read with `loose=False`, exact wordings only.
    A negated answer ("not immediately", "not within 3 months") says only when they are not
    moving: it is no timeline, never a hot one."""
    if not isinstance(text, str) or not text.strip():
        return None
    normal = _normal(text)
    if normal in Timeline.values and normal != Timeline.UNKNOWN:
        return normal
    underscored = normal.replace(" ", "_")
    if underscored in Timeline.values and underscored != Timeline.UNKNOWN:
        return underscored
    for label_value, label in Timeline.choices:
        if label_value != Timeline.UNKNOWN and normal == _normal(str(label)):
            return label_value
    if normal in _LOOKUP:
        return _LOOKUP[normal]
    if not loose:
        return None
    negative = [  # "not sure yet", "no plans to move": themselves an answer (just curious)
        timeline
        for phrase, timeline in _LOOKUP.items()
        if _NEGATED.search(phrase) and phrase in normal
    ]
    if negative:
        return negative[0]
    if _NEGATED.search(normal):
        return None
    if normal.startswith("after "):
        normal = normal.replace("after ", "more than ", 1)  # "after 3 months": past 3 months
    return _from_numbers(normal) or next(
        (timeline for phrase, timeline in _LOOKUP.items() if len(phrase) > 4 and phrase in normal),
        None,
    )

"""One way to show a date, a time, a duration and money (realtycrm.formats), in the brokerage's
conventions: US English by default, British on LANGUAGE_CODE en-gb."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from realtycrm import formats
from tests.moments import NEW_YORK, NOON

pytestmark = pytest.mark.usefixtures("clock")  # Monday May 4, 2026, noon in Springfield

DEC_1_8AM = datetime(2026, 12, 1, 8, 0, tzinfo=NEW_YORK)


def test_a_moment_reads_as_us_english_with_its_minutes_and_no_year_this_year():
    assert formats.when(DEC_1_8AM) == "Dec 1, 8:00 a.m."
    assert formats.when(NOON) == "May 4, 12:00 p.m."
    assert formats.when(datetime(2025, 11, 28, 16, 10, tzinfo=NEW_YORK)) == (
        "Nov 28, 2025, 4:10 p.m."
    )


def test_a_moment_is_shown_in_the_current_time_zone():
    utc = datetime(2026, 12, 1, 13, 0, tzinfo=ZoneInfo("UTC"))
    assert formats.when(utc) == "Dec 1, 8:00 a.m."  # the brokerage's, New York
    with timezone.override(ZoneInfo("America/Los_Angeles")):  # an agent's own zone
        assert formats.when(utc) == "Dec 1, 5:00 a.m."


def test_a_day_and_a_time_of_day():
    assert formats.day(DEC_1_8AM) == "Dec 1"
    assert formats.day(date(2026, 4, 2)) == "Apr 2"
    assert formats.day(date(2025, 12, 31)) == "Dec 31, 2025"
    assert formats.when(date(2026, 4, 2)) == "Apr 2"
    assert formats.time_of_day(DEC_1_8AM) == "8:00 a.m."
    assert formats.time_of_day(DEC_1_8AM.replace(hour=0)) == "12:00 a.m."


def test_british_conventions_when_the_brokerage_says_so():
    with translation.override("en-gb"):
        assert formats.when(DEC_1_8AM) == "1 Dec, 08:00"
        assert formats.when(datetime(2025, 11, 28, 16, 10, tzinfo=NEW_YORK)) == (
            "28 Nov 2025, 16:10"
        )
        assert formats.day(date(2025, 12, 31)) == "31 Dec 2025"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (timedelta(seconds=42), "42 s"),
        (timedelta(minutes=4, seconds=50), "4 min"),
        (timedelta(hours=2, minutes=5), "2 h 5 min"),
        (timedelta(days=3, hours=4), "3 d 4 h"),
        (125 * 60, "2 h 5 min"),  # seconds
        (None, ""),
        (timedelta(minutes=-3), ""),  # a clock skew, not a duration
    ],
)
def test_a_duration_reads_at_a_glance(value, shown):
    assert formats.duration(value) == shown


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (1234, None, "$1,234"),
        (Decimal("1234.5"), None, "$1,234.50"),
        (Decimal("1234.565"), None, "$1,234.57"),  # half up, as money rounds
        (Decimal("1800.00"), None, "$1,800"),
        (Decimal("1800.00"), "cents", "$1,800.00"),
        (450000.0, None, "$450,000"),
        ("12.3", 2, "$12.30"),
        (-12, None, "-$12"),
        (None, None, ""),
    ],
)
def test_money_reads_as_money(value, places, shown):
    assert formats.money(value, places) == shown


def test_every_template_has_the_filters_without_loading_anything():
    template = Template(
        "{{ at|when }} · {{ at|day }} · {{ at|time_of_day }} · {{ wait|duration }} · "
        "{{ price|money }} · {{ fee|money:'cents' }}"
    )
    shown = template.render(
        Context(
            {
                "at": DEC_1_8AM,
                "wait": timedelta(minutes=7),
                "price": Decimal("450000"),
                "fee": Decimal("41.5"),
            }
        )
    )
    assert shown == "Dec 1, 8:00 a.m. · Dec 1 · 8:00 a.m. · 7 min · $450,000 · $41.50"

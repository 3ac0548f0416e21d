"""How dates, times, durations and money read on screen: one place, in the brokerage's conventions.

Every page (the dashboard, the reports, the admin's own pages) and every sentence the code writes
for a person ("held until …", "Snoozed until …") goes through these functions; templates get
them as the filters `when`, `day`, `time_of_day`, `duration` and `money`, built in to every
template (realtycrm/templatetags.py, TEMPLATES' "builtins"). The conventions themselves are
Django format modules (FORMAT_MODULE_PATH): `en` (the default, US English: "Dec 1, 8:00 a.m.")
and `en_GB` ("1 Dec, 08:00"); a brokerage elsewhere sets LANGUAGE_CODE (and TIME_ZONE).

The year is said only when it is not this year: "Dec 1, 8:00 a.m.", "Nov 28, 2025, 4:10 p.m.".
"""

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import numberformat, timezone
from django.utils.formats import date_format, get_format

from realtycrm.clock import duration_text


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _this_year(moment: date) -> bool:
    return moment.year == timezone.localdate().year


def when(value) -> str:
    """A moment: "Dec 1, 8:00 a.m." this year, "Nov 28, 2025, 4:10 p.m." another year; a plain
    date reads as `day`. Nothing for nothing."""
    if value in (None, ""):
        return ""
    if not isinstance(value, datetime):
        return day(value)
    local = _local(value)
    if _this_year(local):
        return f"{date_format(local, 'MONTH_DAY_FORMAT')}, {date_format(local, 'TIME_FORMAT')}"
    return date_format(local, "DATETIME_FORMAT")


def day(value) -> str:
    """A day: "Dec 1" this year, "Nov 28, 2025" another year."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        value = _local(value)
    if _this_year(value):
        return date_format(value, "MONTH_DAY_FORMAT")
    return date_format(value, "DATE_FORMAT")


def time_of_day(value) -> str:
    """The wall-clock time alone: "8:00 a.m."."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        value = _local(value)
    return date_format(value, "TIME_FORMAT")


def duration(value) -> str:
    """A duration a person reads at a glance: "45 s", "4 min", "2 h 5 min", "3 d 4 h".
    Takes a timedelta or seconds; nothing for nothing (or a negative one: a clock skew)."""
    if value in (None, ""):
        return ""
    if not isinstance(value, timedelta):
        value = timedelta(seconds=float(value))
    if value < timedelta(0):
        return ""
    return duration_text(value)


def money(value, places=None) -> str:
    """An amount of money: "$1,234" when it is whole dollars, "$1,234.56" when not; `places`
    (2, or "cents") always shows them, for a column of prices per unit. Nothing for nothing."""
    if value in (None, ""):
        return ""
    amount = Decimal(str(value))
    if places in (None, ""):
        places = 0 if amount == amount.to_integral_value() else 2
    elif places == "cents":
        places = 2
    places = int(places)
    text = numberformat.format(
        abs(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP),
        get_format("DECIMAL_SEPARATOR"),
        decimal_pos=places,
        grouping=get_format("NUMBER_GROUPING") or 3,
        thousand_sep=get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
    )
    sign = "-" if amount < 0 else ""
    return f"{sign}{settings.CURRENCY_SYMBOL}{text}"

"""The report's rollup: per-day counts and per-month time histograms of the leads, kept by
database triggers in the transactions that change leads, so a report over years adds up rows
already counted instead of aggregating every lead (docs/reports.md, "The rollup").

- `reports_leaddaycount` (LeadDayCount): per day of arrival (brokerage time zone) and per value
  of each grouping in GROUPINGS, the report's counts. Exact: counts add up.
- `reports_leadmonthtime` (LeadMonthTime): per month of arrival, per segment and per owner,
  how many leads waited a time in each log-spaced bucket (GAMMA apart) for their first personal
  contact and their automated acknowledgment. Percentiles read from it are estimates within
  RELATIVE_ERROR of the exact ones (percentile_cont over the same leads).

The SQL here is written once, as expressions over a lead row `{r}`, and rendered three ways: the
triggers (PostgreSQL: one PL/pgSQL function, deferred to commit; SQLite: three triggers), the
rebuild (INSERT ... SELECT ... GROUP BY over a range of leads) and the report's reads of the
partial months at a range's ends (the same GROUP BY, returned instead of stored).
"""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, connections, router, transaction

from leads.models import Intent, Lead, Stage
from leads.selectors import user_is_broker

from . import selectors
from .figures import WITHIN_5_MINUTES, WITHIN_60_MINUTES, Figures, add_counts
from .models import LeadDayCount, LeadMonthTime
from .sql import ZONE_SHIFTS, local_day_sql

LEADS = Lead._meta.db_table
DAYS = LeadDayCount._meta.db_table
TIMES = LeadMonthTime._meta.db_table

# Histogram buckets: bucket i holds times in [GAMMA^i, GAMMA^(i+1)) seconds and stands for
# 2·GAMMA^(i+1) / (GAMMA + 1), within (GAMMA - 1) / (GAMMA + 1) of any time in it. Times under
# a second (and any negative one) share bucket UNDER_A_SECOND, read as half a second.
GAMMA = 1.06
RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1)  # 0.0291: "±3%" on the page
UNDER_A_SECOND = -1
BOUND_LABEL = f"±{math.ceil(RELATIVE_ERROR * 100)}%"

# Ranges of this many days or fewer are computed exactly from the leads (fast enough: a
# quarter at a million leads is under half a second); longer ones, for the whole brokerage,
# from the rollup.
EXACT_UP_TO_DAYS = 92


@dataclass(frozen=True)
class Grouping:
    name: str
    keys: tuple[str, ...]  # SQL over the lead row {r}, for a, b(, c)
    columns: tuple[str, ...]  # the lead columns those read


def _text(column: str) -> str:
    return f"COALESCE(CAST({{r}}.{column} AS TEXT), '')"


GROUPINGS = [
    Grouping("segment", ("{r}.source", "{r}.intent"), ("source", "intent")),
    Grouping("origin", ("{r}.origin", "{r}.channel"), ("origin", "channel")),
    Grouping("owner", (_text("owner_id"),), ("owner_id",)),
    Grouping("track", (_text("nurture_track_id"),), ("nurture_track_id",)),
    # What campaigns match on: source, origin and utm_campaign, ignoring case.
    Grouping(
        "campaign",
        ("{r}.source", "LOWER({r}.origin)", "LOWER({r}.utm_campaign)"),
        ("source", "origin", "utm_campaign"),
    ),
]
TIME_GROUPINGS = [g for g in GROUPINGS if g.name in ("segment", "owner")]
MEASURES = {"personal": "first_personal_contact_at", "automated": "first_automated_contact_at"}


def _seconds(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"(date_part('epoch', {{r}}.{column}) - date_part('epoch', {{r}}.created_at))"
    return f"ROUND((julianday({{r}}.{column}) - julianday({{r}}.created_at)) * 86400.0, 3)"


def _counts() -> dict[str, str]:
    """Each count as a condition on the lead row (what reports.selectors._counts counts)."""
    hot = f"{{r}}.intent = '{Intent.HOT.value}'"
    personal = _seconds("first_personal_contact_at")
    return {
        "leads": "1 = 1",
        "contacted": "{r}.first_personal_contact_at IS NOT NULL",
        "engaged": "{r}.engaged_at IS NOT NULL",
        "appointment": "{r}.appointment_at IS NOT NULL",
        "client": "{r}.client_at IS NOT NULL",
        "closed": "{r}.closed_at IS NOT NULL",
        "lost": f"{{r}}.stage = '{Stage.LOST.value}'",
        "opted_out": "({r}.sms_opted_out_at IS NOT NULL OR {r}.email_opted_out_at IS NOT NULL)",
        "acknowledged": "{r}.first_automated_contact_at IS NOT NULL",
        "hot": hot,
        "hot_within_5": f"({hot} AND {personal} <= {WITHIN_5_MINUTES})",
        "hot_within_60": f"({hot} AND {personal} <= {WITHIN_60_MINUTES})",
    }


COUNT_COLUMNS = (
    "created_at", "dormant", "first_personal_contact_at", "engaged_at", "appointment_at",
    "client_at", "closed_at", "stage", "sms_opted_out_at", "email_opted_out_at",
    "first_automated_contact_at", "intent",
)  # fmt: skip


def _zone() -> str:
    """The brokerage's zone, as an SQL string literal's content (a zone name has no quote)."""
    return settings.TIME_ZONE.replace("'", "")


def _day() -> str:
    """The lead's day of arrival in the brokerage's zone (SQL over {r})."""
    return local_day_sql("{r}.created_at", connection.vendor)


def _month() -> str:
    if connection.vendor == "postgresql":
        return f"(date_trunc('month', {{r}}.created_at AT TIME ZONE '{_zone()}')::date)"
    return f"(substr({_day()}, 1, 8) || '01')"


def _bucket(seconds: str) -> str:
    return (
        f"CASE WHEN {seconds} < 1 THEN {UNDER_A_SECOND} "
        f"ELSE CAST(floor(ln({seconds}) / CAST({math.log(GAMMA)!r} AS DOUBLE PRECISION)) "
        f"AS INTEGER) END"
    )


def bucket_value(bucket: int) -> float:
    """The time a bucket stands for, in seconds."""
    if bucket == UNDER_A_SECOND:
        return 0.5
    return GAMMA ** (bucket + 1) * 2 / (GAMMA + 1)


def _int(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


# --- The statements, over a lead row {r} --------------------------------------------------------


def _count_upsert(grouping: Grouping, sign: str, where: str) -> str:
    counts = _counts()
    keys = [*grouping.keys, *["''"] * (3 - len(grouping.keys))]
    values = [f"'{grouping.name}'", _day(), *keys] + [
        f"{sign} * {_int(condition)}" for condition in counts.values()
    ]
    updates = ", ".join(f"{name} = {DAYS}.{name} + excluded.{name}" for name in counts)
    return (
        f"INSERT INTO {DAYS} (kind, day, a, b, c, {', '.join(counts)}) "
        f"SELECT {', '.join(values)} WHERE {where} "
        f"ON CONFLICT (kind, day, a, b, c) DO UPDATE SET {updates}"
    )


def _time_upsert(grouping: Grouping, measure: str, sign: str, where: str) -> str:
    keys = [*grouping.keys, *["''"] * (2 - len(grouping.keys))]
    seconds = _seconds(MEASURES[measure])
    values = [f"'{grouping.name}'", _month(), *keys, f"'{measure}'", _bucket(seconds), sign]
    return (
        f"INSERT INTO {TIMES} (kind, month, a, b, measure, bucket, n) "
        f"SELECT {', '.join(values)} WHERE {where} AND {{r}}.{MEASURES[measure]} IS NOT NULL "
        f"ON CONFLICT (kind, month, a, b, measure, bucket) DO UPDATE SET n = {TIMES}.n + excluded.n"
    )


@dataclass(frozen=True)
class Part:
    """One rollup row a lead counts in: the lead columns it reads, its key (SQL over {r}), and
    its upsert (sign, where) -> SQL over {r}; counts: True for a day row, False for a time."""

    columns: tuple[str, ...]
    key: tuple[str, ...]
    make: object
    counts: bool
    grouping: Grouping


def _parts() -> list[Part]:
    parts = []
    for grouping in GROUPINGS:
        parts.append(
            Part(
                (*COUNT_COLUMNS, *grouping.columns),
                (_day(), *grouping.keys),
                lambda sign, where, g=grouping: _count_upsert(g, sign, where),
                True,
                grouping,
            )
        )
    for grouping in TIME_GROUPINGS:
        for measure, column in MEASURES.items():
            parts.append(
                Part(
                    ("created_at", "dormant", column, *grouping.columns),
                    (_month(), *grouping.keys, _bucket(_seconds(column))),
                    lambda sign, where, g=grouping, m=measure: _time_upsert(g, m, sign, where),
                    False,
                    grouping,
                )
            )
    return parts


def _count_delta(grouping: Grouping) -> str:
    """One upsert of NEW's counts minus OLD's into their (same) row, skipped when all are 0."""
    counts = _counts()
    keys = [*grouping.keys, *["''"] * (3 - len(grouping.keys))]
    deltas = [
        f"({_int(condition).format(r='NEW')} - {_int(condition).format(r='OLD')})"
        for condition in counts.values()
    ]
    values = [f"'{grouping.name}'", _day().format(r="NEW"), *(k.format(r="NEW") for k in keys)]
    updates = ", ".join(f"{name} = {DAYS}.{name} + excluded.{name}" for name in counts)
    return (
        f"INSERT INTO {DAYS} (kind, day, a, b, c, {', '.join(counts)}) "
        f"SELECT {', '.join(values + deltas)} WHERE {' OR '.join(f'{d} <> 0' for d in deltas)} "
        f"ON CONFLICT (kind, day, a, b, c) DO UPDATE SET {updates}"
    )


def _all_columns() -> list[str]:
    return list(dict.fromkeys(c for part in _parts() for c in part.columns))


def _changed(columns, old="OLD", new="NEW") -> str:
    if connection.vendor == "postgresql":
        olds = ", ".join(f"{old}.{c}" for c in columns)
        news = ", ".join(f"{new}.{c}" for c in columns)
        return f"ROW({olds}) IS DISTINCT FROM ROW({news})"
    return "(" + " OR ".join(f"{old}.{c} IS NOT {new}.{c}" for c in columns) + ")"


def _pg_update(part: Part) -> str:
    """An update's change to one rollup row: nothing when its inputs are the same; one upsert
    of the difference when its key is (a contact, a stage: the same day and segment); else
    the old row's contribution out and the new one's in (a reassignment, a moved arrival)."""
    same_key = (
        f"ROW({', '.join(k.format(r='OLD') for k in part.key)}) IS NOT DISTINCT FROM "
        f"ROW({', '.join(k.format(r='NEW') for k in part.key)})"
    )
    same = f"{_count_delta(part.grouping)};" if part.counts else "NULL;"
    return f"""
    IF {_changed(part.columns)} THEN
      IF NOT OLD.dormant AND NOT NEW.dormant AND {same_key} THEN
        {same}
      ELSE
        IF NOT OLD.dormant THEN {part.make("-1", "true").format(r="OLD")}; END IF;
        IF NOT NEW.dormant THEN {part.make("1", "true").format(r="NEW")}; END IF;
      END IF;
    END IF;"""


def trigger_sql() -> list[str]:
    """Statements that (re)create the triggers keeping the rollup current."""
    parts = _parts()
    if connection.vendor == "postgresql":
        inserted = "\n".join(f"      {part.make('1', 'true').format(r='NEW')};" for part in parts)
        deleted = "\n".join(f"      {part.make('-1', 'true').format(r='OLD')};" for part in parts)
        updated = "".join(_pg_update(part) for part in parts)
        function = f"""
CREATE OR REPLACE FUNCTION reports_rollup_lead() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT NEW.dormant THEN
{inserted}
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF NOT OLD.dormant THEN
{deleted}
    END IF;
  ELSE{updated}
  END IF;
  RETURN NULL;
END $$"""
        # Deferred to commit: the rollup's rows (today's, shared by every new lead) are locked
        # for the commit only, not for the rest of the transaction that wrote the lead.
        return [
            *drop_trigger_sql(),
            function,
            f"CREATE CONSTRAINT TRIGGER reports_rollup_insert_delete AFTER INSERT OR DELETE "
            f"ON {LEADS} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"EXECUTE FUNCTION reports_rollup_lead()",
            f"CREATE CONSTRAINT TRIGGER reports_rollup_update AFTER UPDATE ON {LEADS} "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"WHEN ({_changed(_all_columns())}) EXECUTE FUNCTION reports_rollup_lead()",
        ]
    inserted = "; ".join(p.make("1", "NOT NEW.dormant").format(r="NEW") for p in parts)
    deleted = "; ".join(p.make("-1", "NOT OLD.dormant").format(r="OLD") for p in parts)
    updated = "; ".join(
        f"{p.make('-1', f'NOT OLD.dormant AND {_changed(p.columns)}').format(r='OLD')}; "
        f"{p.make('1', f'NOT NEW.dormant AND {_changed(p.columns)}').format(r='NEW')}"
        for p in parts
    )
    return [
        *drop_trigger_sql(),
        f"CREATE TRIGGER reports_rollup_insert AFTER INSERT ON {LEADS} FOR EACH ROW "
        f"BEGIN {inserted}; END",
        f"CREATE TRIGGER reports_rollup_delete AFTER DELETE ON {LEADS} FOR EACH ROW "
        f"BEGIN {deleted}; END",
        f"CREATE TRIGGER reports_rollup_update AFTER UPDATE ON {LEADS} FOR EACH ROW "
        f"WHEN {_changed(_all_columns())} BEGIN {updated}; END",
    ]


def drop_trigger_sql() -> list[str]:
    if connection.vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS reports_rollup_insert_delete ON {LEADS}",
            f"DROP TRIGGER IF EXISTS reports_rollup_update ON {LEADS}",
        ]
    return [
        f"DROP TRIGGER IF EXISTS {name}"
        for name in ("reports_rollup_insert", "reports_rollup_delete", "reports_rollup_update")
    ]


def zone_shifts(zone: str, first: int = 1970, last: int = 2100) -> list[tuple[str, str]]:
    """(UTC moment, SQLite date modifier) from which the zone's offset holds: its transitions,
    found day by day and then to the minute."""
    tz = ZoneInfo(zone)

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds())

    moment = datetime(first, 1, 1, tzinfo=UTC)
    current = offset(moment)
    shifts = [("0001-01-01 00:00:00", current)]
    end = datetime(last, 1, 1, tzinfo=UTC)
    while moment < end:
        following = moment + timedelta(days=1)
        if offset(following) != current:
            low, high = moment, following  # offset(low) == current != offset(high)
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == current else (low, middle)
            current = offset(high)
            shifts.append((high.strftime("%Y-%m-%d %H:%M:%S"), current))
        moment = following
    return [(at, f"{seconds:+d} seconds") for at, seconds in shifts]


def install() -> None:
    """(Re)create the triggers, and on SQLite the zone's offsets, for settings.TIME_ZONE."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {ZONE_SHIFTS} "
                "(starts_at TEXT PRIMARY KEY, shift TEXT NOT NULL)"
            )
            cursor.execute(f"DELETE FROM {ZONE_SHIFTS}")  # noqa: S608 - our own table
            cursor.executemany(
                f"INSERT INTO {ZONE_SHIFTS} (starts_at, shift) VALUES (%s, %s)",  # noqa: S608
                zone_shifts(_zone()),
            )
        for statement in trigger_sql():
            cursor.execute(statement)


def uninstall(*, keep_zone: bool = False) -> None:
    """Drop the triggers (and, unless keep_zone, SQLite's zone table: LocalDay reads it)."""
    with connection.cursor() as cursor:
        for statement in drop_trigger_sql():
            cursor.execute(statement)
        if connection.vendor == "sqlite" and not keep_zone:
            cursor.execute(f"DROP TABLE IF EXISTS {ZONE_SHIFTS}")


# --- Rebuilding ---------------------------------------------------------------------------------


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(_zone()))


def _moment(day: date):
    """Midnight starting `day` in the brokerage's zone, as the database compares it."""
    return connection.ops.adapt_datetimefield_value(_local_midnight(day))


def _date(day: date):
    return connection.ops.adapt_datefield_value(day)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _grouped_select() -> tuple[list[str], list[str]]:
    """SELECTs of every rollup row over the leads `r` in a created_at range (two %s)."""
    counts = _counts()
    where = "r.created_at >= %s AND r.created_at < %s AND NOT r.dormant"
    count_selects = []
    for grouping in GROUPINGS:
        keys = [*grouping.keys, *["''"] * (3 - len(grouping.keys))]
        columns = [f"'{grouping.name}'", _day(), *keys] + [
            f"SUM({_int(condition)})" for condition in counts.values()
        ]
        count_selects.append(
            f"SELECT {', '.join(columns)} FROM {LEADS} AS r WHERE {where} "  # noqa: S608
            "GROUP BY 2, 3, 4, 5".format(r="r")
        )
    time_selects = []
    for grouping in TIME_GROUPINGS:
        keys = [*grouping.keys, *["''"] * (2 - len(grouping.keys))]
        for measure, column in MEASURES.items():
            columns = [
                f"'{grouping.name}'",
                _month(),
                *keys,
                f"'{measure}'",
                _bucket(_seconds(column)),
                "COUNT(*)",
            ]
            time_selects.append(
                f"SELECT {', '.join(columns)} FROM {LEADS} AS r "  # noqa: S608
                f"WHERE {where} AND r.{column} IS NOT NULL GROUP BY 2, 3, 4, 6".format(r="r")
            )
    return count_selects, time_selects


def _lead_months() -> list[date]:
    """Every month that has leads or rollup rows, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(created_at), MAX(created_at) FROM {LEADS}")  # noqa: S608
        first, last = cursor.fetchone()
    found = LeadDayCount.objects.order_by("day").values_list("day", flat=True)
    days = [d for d in (found.first(), found.last()) if d]
    zone = ZoneInfo(_zone())
    for moment in (first, last):
        if moment is not None:
            if isinstance(moment, str):  # SQLite without a converter
                moment = datetime.fromisoformat(moment).replace(tzinfo=UTC)
            days.append(moment.astimezone(zone).date())
    months = LeadMonthTime.objects.order_by("month").values_list("month", flat=True)
    days += [m for m in (months.first(), months.last()) if m]
    if not days:
        return []
    month, last_month, result = _month_start(min(days)), _month_start(max(days)), []
    while month <= last_month:
        result.append(month)
        month = _next_month(month)
    return result


def rebuild(*, progress=None) -> int:
    """Recompute the rollup from the leads, a month at a time, each month in a transaction of
    its own that holds off writes to the leads (PostgreSQL: a SHARE lock on the table; SQLite:
    its one writer) for as long as that month takes. Returns the number of months."""
    install()
    count_selects, time_selects = _grouped_select()
    counts = ", ".join(_counts())
    months = _lead_months()
    for month in months:
        params = [_moment(month), _moment(_next_month(month))]
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {LEADS} IN SHARE MODE")
            LeadDayCount.objects.filter(day__gte=month, day__lt=_next_month(month)).delete()
            LeadMonthTime.objects.filter(month=month).delete()
            for select in count_selects:
                cursor.execute(
                    f"INSERT INTO {DAYS} (kind, day, a, b, c, {counts}) {select}",
                    params,
                )
            for select in time_selects:
                cursor.execute(
                    f"INSERT INTO {TIMES} (kind, month, a, b, measure, bucket, n) {select}",
                    params,
                )
        if progress:
            progress(month)
    with connection.cursor() as cursor:
        # Fresh statistics: without them the planner guesses a few hundred rows and sorts
        # (on disk) where it should hash.
        cursor.execute(f"ANALYZE {DAYS}")
        cursor.execute(f"ANALYZE {TIMES}")
    return len(months)


# --- Reading ------------------------------------------------------------------------------------


def _reads():
    """The connection the report reads from: the replica inside reports_reads() when
    REPORTS_DATABASE_URL is set (realtycrm/routers.py), else default."""
    return connections[router.db_for_read(LeadDayCount)]


def flush_pending() -> None:
    """PostgreSQL: apply this transaction's lead changes to the rollup now (the triggers are
    deferred to commit), so a report read in the same transaction sees them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SET CONSTRAINTS reports_rollup_insert_delete, reports_rollup_update IMMEDIATE"
            )


Histogram = Counter  # bucket → leads


@dataclass
class RollupData:
    """What the rollup holds for a range of days: counts per grouping value and per day, and
    time histograms per segment and per owner."""

    counts: dict[str, dict[tuple, Figures]]
    days: dict[date, Figures]
    times: dict[str, dict[tuple, dict[str, Histogram]]]


def _figures(names: list[str], row) -> Figures:
    return Figures(**dict(zip(names, (int(v or 0) for v in row), strict=True)))


def read(start: date, end: date, *, campaigns: bool = True) -> RollupData:
    """The rollup's rows for the leads that arrived from `start` to `end` (days in the
    brokerage's zone, both included): counts from the day rows; times from the month rows of
    the months inside the range and, for the partial months at its ends, from the leads."""
    flush_pending()
    names = list(_counts())
    # The campaign rows are the most numerous (every source × origin × utm_campaign of a day):
    # read only when there are campaigns to match them to.
    kinds = tuple(g.name for g in GROUPINGS if campaigns or g.name != "campaign")
    sums = ", ".join(f"SUM({name})" for name in names)
    counts: dict[str, dict[tuple, Figures]] = defaultdict(dict)
    days: dict[date, Figures] = {}
    with _reads().cursor() as cursor:
        cursor.execute(
            f"SELECT kind, a, b, c, {sums} FROM {DAYS} "  # noqa: S608
            f"WHERE kind IN ({', '.join(['%s'] * len(kinds))}) AND day >= %s AND day <= %s "
            "GROUP BY kind, a, b, c HAVING SUM(leads) > 0",
            [*kinds, _date(start), _date(end)],
        )
        for grouping, a, b, c, *values in cursor.fetchall():
            counts[grouping][(a, b, c)] = _figures(names, values)
        cursor.execute(
            f"SELECT day, {sums} FROM {DAYS} WHERE kind = 'segment' "  # noqa: S608
            "AND day >= %s AND day <= %s GROUP BY day HAVING SUM(leads) > 0",
            [_date(start), _date(end)],
        )
        for day, *values in cursor.fetchall():
            days[date.fromisoformat(day) if isinstance(day, str) else day] = _figures(names, values)
    times: dict[str, dict[tuple, dict[str, Histogram]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Counter))
    )
    for grouping, a, b, measure, bucket, n in _time_rows(start, end):
        times[grouping][(a, b)][measure][bucket] += n
    for by_key in times.values():
        for by_measure in by_key.values():
            for histogram in by_measure.values():
                for bucket in [b for b, n in histogram.items() if n <= 0]:
                    del histogram[bucket]
    return RollupData(counts=counts, days=days, times=times)


def time_plan(start: date, end: date) -> tuple[list[date], list[tuple[date, date, int]]]:
    """How to get the time histograms of start..end: (the months whose rows to add, the day
    ranges [low, high) of leads to add (+1) or subtract (-1)).

    A whole month is its rows. A partial month at an end is its rows minus the leads of its days
    outside the range when those are fewer, else the leads of its days inside: histograms
    subtract as exactly as they add, so at most half a month of leads is read per end (the
    last 365 days, ending today, read a day's)."""
    months, ranges = [], []
    month, stop = _month_start(start), end + timedelta(days=1)
    while month < stop:
        following = _next_month(month)
        low, high = max(start, month), min(stop, following)
        inside, total = (high - low).days, (following - month).days
        if inside == total:
            months.append(month)
        elif inside * 2 > total:
            months.append(month)
            ranges += [(a, b, -1) for a, b in ((month, low), (high, following)) if a < b]
        else:
            ranges.append((low, high, 1))
        month = following
    return months, ranges


def _time_rows(start: date, end: date):
    months, ranges = time_plan(start, end)
    rows = []
    with _reads().cursor() as cursor:
        if months:  # consecutive: only the range's ends may be read from the leads instead
            cursor.execute(
                f"SELECT kind, a, b, measure, bucket, SUM(n) FROM {TIMES} "  # noqa: S608
                "WHERE month >= %s AND month <= %s GROUP BY kind, a, b, measure, bucket "
                "HAVING SUM(n) > 0",
                [_date(months[0]), _date(months[-1])],
            )
            rows += cursor.fetchall()
        sql, repeat = _edge_sql()
        for low, high, sign in ranges:
            cursor.execute(sql, [_moment(low), _moment(high)] * repeat)
            rows += [(*row[:5], sign * row[5]) for row in _edge_rows(cursor.fetchall())]
    return rows


def _edge_rows(found) -> list[tuple]:
    if connection.vendor != "postgresql":  # (kind, month, a, b, measure, bucket, n)
        return [(kind, a, b, measure, bucket, n) for kind, _, a, b, measure, bucket, n in found]
    rows = []
    for segment_rolled_up, personal_rolled_up, a, b, bucket, n in found:
        if bucket is None:
            continue  # the leads without that time yet
        kind = "owner" if segment_rolled_up else "segment"
        rows.append((kind, a, b, "automated" if personal_rolled_up else "personal", bucket, n))
    return rows


def _edge_sql() -> tuple[str, int]:
    """The time histograms of the leads that arrived in a range (two %s: its bounds, repeated
    the returned number of times), as rows (kind, a, b, measure, bucket, n).

    PostgreSQL: one pass over the leads, both measures and both groupings at once (GROUPING
    SETS, _edge_rows names them). SQLite: one SELECT per grouping and measure, UNION ALL."""
    if connection.vendor != "postgresql":
        _, time_selects = _grouped_select()
        return " UNION ALL ".join(time_selects), len(time_selects)
    segment, owner = (g for g in TIME_GROUPINGS)
    personal, automated = (_bucket(_seconds(column)) for column in MEASURES.values())
    keys = [*segment.keys, *owner.keys, personal, automated]
    sets = [
        f"(k.s, k.i, k.{bucket})" if grouping == "segment" else f"(k.o, k.{bucket})"
        for grouping in ("segment", "owner")
        for bucket in ("p", "a")
    ]
    # Each lead counts in four grouping sets (segment or owner × measure), one pass: a set's
    # rows say which they are by which of their columns are rolled up (GROUPING = 1).
    sql = (
        "SELECT GROUPING(k.s), GROUPING(k.p), COALESCE(k.s, k.o), COALESCE(k.i, ''), "  # noqa: S608
        "COALESCE(k.p, k.a), COUNT(*) "
        f"FROM {LEADS} AS r CROSS JOIN LATERAL (SELECT {', '.join(keys)}) AS k (s, i, o, p, a) "
        "WHERE r.created_at >= %s AND r.created_at < %s AND NOT r.dormant "
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    ).format(r="r")
    return sql, 1


def percentile(histogram: Histogram, fraction: float) -> float | None:
    """percentile_cont(fraction) over the buckets' values: within RELATIVE_ERROR of the exact
    one (both neighbours are, and it is their weighted mean)."""
    total = sum(histogram.values())
    if not total:
        return None
    position = fraction * (total - 1)
    low_rank = math.floor(position)
    weight = position - low_rank
    low = high = None
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if low is None and seen > low_rank:
            low = bucket_value(bucket)
        if seen > low_rank + 1 or seen == total:
            high = bucket_value(bucket)
            break
    return low + (high - low) * weight


def merge(histograms) -> dict[str, Histogram]:
    merged: dict[str, Histogram] = defaultdict(Counter)
    for by_measure in histograms:
        for measure, histogram in by_measure.items():
            merged[measure].update(histogram)
    return merged


def with_percentiles(figures: Figures, by_measure: dict[str, Histogram]) -> Figures:
    return replace(
        figures,
        **{
            f"{measure}_p{round(fraction * 100)}": percentile(by_measure.get(measure, {}), fraction)
            for measure in MEASURES
            for fraction in (0.5, 0.9)
        },
    )


# --- The report's figures from the rollup -------------------------------------------------------


def uses_rollup(user, scope) -> bool:
    """The whole brokerage over more than EXACT_UP_TO_DAYS: read the rollup. An agent's report
    (their leads, and those offered to them) and short ranges stay exact, from the leads."""
    return (
        scope.agent is None
        and user_is_broker(user)
        and (scope.end - scope.start).days + 1 > EXACT_UP_TO_DAYS
    )


def _id(text: str) -> int | None:
    return int(text) if text else None


class RollupFigures:
    """The figures reports.selectors computes from the leads, from the rollup instead: the same
    dataclasses, the counts exact, the percentiles estimates within RELATIVE_ERROR."""

    def __init__(self, scope):
        self.scope = scope

    @cached_property
    def data(self) -> RollupData:
        return read(self.scope.start, self.scope.end, campaigns=bool(self.campaigns))

    @cached_property
    def campaigns(self):
        return selectors.campaigns_in(self.scope)

    def segments(self) -> selectors.SegmentFigures:
        found = self.data.counts.get("segment", {})
        times = self.data.times.get("segment", {})
        cells = {(a, b): f for (a, b, _), f in found.items()}

        def level(keys):
            figures = add_counts(cells[key] for key in keys)
            return with_percentiles(figures, merge(times.get(key, {}) for key in keys))

        sources = {source for source, _ in cells}
        intents = {intent for _, intent in cells}
        return selectors.SegmentFigures(
            cells={key: level([key]) for key in cells},
            by_source={s: level([k for k in cells if k[0] == s]) for s in sources},
            by_intent={i: level([k for k in cells if k[1] == i]) for i in intents},
            overall=level(list(cells)) if cells else Figures(),
        )

    def origins(self, costs) -> selectors.OriginFigures:
        found = {(a, b): f for (a, b, _), f in self.data.counts.get("origin", {}).items()}
        return selectors.origin_groups(found, costs)

    def agents(self) -> list[selectors.LabelledFigures]:
        times = self.data.times.get("owner", {})
        by_owner = {
            _id(a): with_percentiles(f, times.get((a, ""), {}))
            for (a, _, _), f in self.data.counts.get("owner", {}).items()
        }
        return selectors.agent_rows(by_owner)

    def tracks(self) -> list[selectors.LabelledFigures]:
        found = self.data.counts.get("track", {})
        return selectors.track_rows({_id(a): f for (a, _, _), f in found.items()})

    def trend(self):
        return selectors.trend_rows(self.data.days, self.scope)

    def costs(self) -> selectors.CostFigures:
        """Each (source, origin, utm_campaign) of the range's leads to the most specific
        campaign matching it, as the CASE expression of selectors.campaign_figures does."""
        campaigns = self.campaigns
        results: dict[int, Counter] = defaultdict(Counter)
        for (source, origin, utm), figures in self.data.counts.get("campaign", {}).items():
            for campaign in campaigns:
                if (
                    (not campaign.source or campaign.source == source)
                    and (not campaign.origin or campaign.origin.lower() == origin)
                    and (not campaign.utm_campaign or campaign.utm_campaign.lower() == utm)
                ):
                    results[campaign.pk].update(
                        leads=figures.leads,
                        appointments=figures.appointment,
                        closings=figures.closed,
                    )
                    break
        return selectors.cost_figures(campaigns, results, self.scope)


def ensure_installed(using: str = "default") -> None:
    """Triggers as this code writes them; a rebuild when they were missing (post_migrate)."""
    if using != connection.alias:
        return
    tables = connection.introspection.table_names()
    if DAYS not in tables or LEADS not in tables:
        return  # migrated to before the rollup
    with _reads().cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT COUNT(*) FROM pg_trigger WHERE tgname IN "
                "('reports_rollup_insert_delete', 'reports_rollup_update')"
            )
            present = cursor.fetchone()[0] == 2
        else:
            cursor.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                "('reports_rollup_insert', 'reports_rollup_delete', 'reports_rollup_update')"
            )
            present = cursor.fetchone()[0] == 3
    if present:
        install()
    else:
        rebuild()

"""What the report needs from the database that the ORM lacks: seconds between two datetimes,
percentiles, every grouping level in one statement, and a transaction tuned for reporting.

Percentiles are PostgreSQL's percentile_cont (an ordered-set aggregate). SQLite has none, so
there the same number is computed with window functions over the same ORM query:

    rank the values of each group (ROW_NUMBER), count them (COUNT OVER), and keep, per group,
    v[k] + (v[k+1] - v[k]) * f   where  k + f = p * (n - 1)   (k whole, 0 <= f < 1)

which is percentile_cont's definition, term for term. Either way the leads stay in the database.
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Aggregate, DateField, F, FloatField, Func, QuerySet

from realtycrm.routers import reports_reads


class Seconds(Func):
    """end - start in seconds, as a float (NULL when either is NULL)."""

    output_field = FloatField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra_context):
        # date_part (unlike EXTRACT since PostgreSQL 14) returns float8: no numeric overhead.
        return self.as_sql(
            compiler,
            connection,
            template="date_part('epoch', %(expressions)s)",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        # julianday() is exact to about 0.1 ms at today's dates; rounding to the millisecond
        # makes "exactly 5 minutes" 300.0, not 299.99997.
        return self.as_sql(
            compiler,
            connection,
            template="ROUND((julianday(%(expressions)s)) * 86400.0, 3)",
            arg_joiner=") - julianday(",
            **extra_context,
        )

    def as_sql(self, compiler, connection, **extra_context):
        if "template" not in extra_context:
            raise NotImplementedError(f"Seconds() is not written for {connection.vendor}.")
        return super().as_sql(compiler, connection, **extra_context)


# SQLite only: the brokerage zone's UTC offsets over time (written with the rollup's triggers).
ZONE_SHIFTS = "reports_zone_shift"


def local_day_sql(column: str, vendor: str) -> str:
    """SQL for the date of the datetime `column` (SQL) in the brokerage's zone
    (settings.TIME_ZONE): the one definition of "the day" that the exact report (LocalDay) and
    the rollup's triggers (reports.rollup) both use, so the two never count days differently.

    PostgreSQL: AT TIME ZONE. SQLite has no time zones: each row looks its offset up in
    ZONE_SHIFTS, in SQL, rather than through a Python function per row as
    TruncDate(tzinfo=...) does on SQLite."""
    if vendor == "postgresql":
        zone = settings.TIME_ZONE.replace("'", "")  # a zone name has no quote
        return f"(({column} AT TIME ZONE '{zone}')::date)"
    shift = (
        f"(SELECT z.shift FROM {ZONE_SHIFTS} AS z "  # noqa: S608 - our table, compiled column
        f"WHERE z.starts_at <= {column} ORDER BY z.starts_at DESC LIMIT 1)"
    )
    return f"date({column}, {shift})"


class LocalDay(Func):
    """The date of a datetime in the brokerage's zone, in SQL (local_day_sql)."""

    output_field = DateField()
    arity = 1

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"LocalDay() is not written for {connection.vendor}.")
        sql, params = compiler.compile(self.source_expressions[0])
        day = local_day_sql(sql, connection.vendor)
        return day, [*params] * day.count(sql)


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression).

    Two of these over the same expression share one sort in PostgreSQL."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor != "postgresql":
            raise NotImplementedError("Use window_percentiles() on this database.")
        return super().as_sql(compiler, connection, **extra_context)


def cube_rows(queryset: QuerySet, fields: list[str]) -> dict[tuple, dict] | None:
    """Run a grouped query (`.values(*fields).annotate(...)`) for every combination of its group
    fields at once: PostgreSQL's GROUP BY CUBE. For (source, intent) that is one row per
    source × intent, per source, per intent, and one for all rows, in one pass over the leads.

    Keys hold None for a rolled-up field, so `fields` must be NOT NULL columns. Returns None
    (run the levels one by one instead) on another database, or if Django ever stops ending
    such a query with "GROUP BY 1, 2", which is what this builds on."""
    sql, params = queryset.query.sql_with_params()
    positions = ", ".join(str(n) for n in range(1, len(fields) + 1))
    plain = f" GROUP BY {positions}"
    database = connections[queryset.db]  # the replica inside reporting_transaction, if any
    if database.vendor != "postgresql" or not sql.endswith(plain):
        return None
    with database.cursor() as cursor:
        cursor.execute(f"{sql[: -len(plain)]} GROUP BY CUBE ({positions})", params)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {tuple(row.pop(name) for name in fields): row for row in rows}


def has_percentile_cont() -> bool:
    return connection.vendor == "postgresql"


def window_percentiles(
    queryset: QuerySet,
    group_by: dict[str, object],
    measures: dict[str, object],
    fractions: dict[str, tuple[str, float]],
    levels: list[tuple[str, ...]] | None = None,
) -> dict[tuple[str, ...], dict[tuple, dict[str, float | None]]]:
    """percentile_cont computed with window functions (for SQLite), for several groupings at once.

    group_by: output name → field or expression; measures: name → expression;
    fractions: output name → (measure name, fraction), e.g. {"personal_p50": ("personal", 0.5)};
    levels: the groupings, each a tuple of group_by names (default: all of them; () is every
    row together). Returns {level: {key: {output name: value}}}, the key holding the level's
    values in its order; a group with no value for a measure gets None.

    One statement: the rows are computed once (a MATERIALIZED CTE: julianday() arithmetic is
    most of a row's cost) and ranked once per level and measure."""
    qn = connection.ops.quote_name
    names = list(group_by)
    levels = [tuple(names)] if levels is None else [tuple(level) for level in levels]
    keys = {name: f"g{n}" for n, name in enumerate(names)}
    inner = queryset.order_by().annotate(
        **{keys[name]: _expression(field) for name, field in group_by.items()},
        **{f"m_{name}": expression for name, expression in measures.items()},
    )
    inner = inner.values(*keys.values(), *(f"m_{name}" for name in measures))
    inner_sql, inner_params = inner.query.sql_with_params()

    # Per level: each row with, per measure, its rank among its group's non-NULL values and
    # the number of those values (NULLs get a partition of their own, never read).
    ranked_parts = []
    for number, level in enumerate(levels):
        partition = "".join(f"{qn(keys[name])}, " for name in level)
        columns = [f"{number} AS {qn('level')}"] + [
            f"{qn(key)}" if name in level else f"NULL AS {qn(key)}" for name, key in keys.items()
        ]
        for name in measures:
            value = qn(f"m_{name}")
            window = f"PARTITION BY {partition}{value} IS NULL ORDER BY {value}"
            columns += [
                value,
                f"ROW_NUMBER() OVER ({window}) - 1 AS {qn('r_' + name)}",
                f"COUNT(*) OVER ({window} ROWS BETWEEN UNBOUNDED PRECEDING AND "
                f"UNBOUNDED FOLLOWING) AS {qn('n_' + name)}",
            ]
        ranked_parts.append(f"SELECT {', '.join(columns)} FROM d")  # noqa: S608 - names are ours

    # Per group and fraction: the values at ranks k and k + 1 and the weight f, where
    # k + f = fraction × (n − 1); then v[k] + (v[k+1] − v[k]) × f outside.
    group_columns = [qn("level"), *(qn(key) for key in keys.values())]
    parts, outputs, params = [], [], []
    for output, (name, fraction) in fractions.items():
        value, rank, count = qn(f"m_{name}"), qn(f"r_{name}"), qn(f"n_{name}")
        position = f"(%s * ({count} - 1))"
        whole = f"CAST({position} AS INTEGER)"
        low, high, weight = (qn(f"{part}_{output}") for part in ("low", "high", "weight"))
        for alias, expression in (
            (low, f"{rank} = {whole} THEN {value}"),
            (high, f"{rank} = {whole} + 1 THEN {value}"),
            (weight, f"{rank} = 0 THEN {position} - {whole}"),
        ):
            part = f"MAX(CASE WHEN {value} IS NOT NULL AND {expression} END) AS {alias}"
            parts.append(part)
            params += [fraction] * part.count("%s")
        outputs.append(f"{low} + (COALESCE({high}, {low}) - {low}) * {weight} AS {qn(output)}")
    sql = (
        f"WITH d AS {_materialized()}({inner_sql}) "  # noqa: S608 - names are ours
        f"SELECT {', '.join([*group_columns, *outputs])} FROM ("
        f"SELECT {', '.join([*group_columns, *parts])} FROM ("
        f"{' UNION ALL '.join(ranked_parts)}"
        f") AS r GROUP BY {', '.join(group_columns)}) AS picked"
    )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, [*inner_params, *params])
        rows = cursor.fetchall()
    found = {level: {} for level in levels}
    width = len(group_columns)
    for row in rows:
        level = levels[row[0]]
        values = dict(zip(names, row[1:width], strict=True))
        found[level][tuple(values[name] for name in level)] = dict(
            zip(fractions, row[width:], strict=True)
        )
    return found


def _materialized() -> str:
    # MATERIALIZED: compute each lead's times once. Flattened, SQLite would repeat the
    # julianday() arithmetic at every mention of a measure (some twenty per row per level).
    return "MATERIALIZED " if connection.Database.sqlite_version_info >= (3, 35) else ""


def _expression(field):
    return F(field) if isinstance(field, str) else field


@contextmanager
def reporting_transaction(work_mem_mb: int = 64):
    """Run a report's queries on the reports' database, in one PostgreSQL transaction tuned
    for them.

    The database: the read replica when REPORTS_DATABASE_URL is set (realtycrm/routers.py:
    every ORM read inside the block goes there, every write still to default), else default.

    Percentiles sort every contact time of a group: the default work_mem (4 MB) spills a
    quarter's leads to disk. And JIT compilation costs more than it saves on these short
    queries. SET LOCAL ends with the transaction, so nothing else on the connection is
    affected. On SQLite nothing: a transaction there starts IMMEDIATE (see settings) and would
    hold the write lock, and so stall the worker, for as long as the report takes."""
    with reports_reads() as alias:
        database = connections[alias]
        if database.vendor != "postgresql":
            yield
            return
        with transaction.atomic(using=alias):
            with database.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = %s", [f"{int(work_mem_mb)}MB"])
                cursor.execute("SET LOCAL jit = off")
            yield

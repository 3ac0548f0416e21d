"""Benchmark: the segment report over many leads, on PostgreSQL and on SQLite.

    .venv/bin/python bench/reports_matrix.py --postgres postgres://postgres@127.0.0.1:5432/realtycrm_reports_bench
    .venv/bin/python bench/reports_matrix.py --sqlite /tmp/realtycrm_reports_bench.sqlite3

Loads the leads once (1,000,000 on PostgreSQL, 100,000 on SQLite by default; two years of
arrivals, see bench/reports_data.py) into that dedicated database, then times the segment
matrix (every cell, per source, per intent and overall, with the percentiles), the table by
origin and channel, and the whole report, for a few date ranges: exactly from the leads (what
ranges up to rollup.EXACT_UP_TO_DAYS get), and from the rollup (what longer ranges get).
Prints the best, median and worst of several runs, in seconds.

Then the rollup itself: how long `manage.py rebuild_report_rollup` takes over all the leads
(--rebuild), and what its triggers cost a write: the same lead inserts, updates (a contact
and a stage) and deletes, each in its own transaction, with the triggers and without.
"""

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def ensure_postgres_database(url: str) -> None:
    """Create the benchmark's own database on a machine that has never run it."""
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--postgres", metavar="DATABASE_URL")
    target.add_argument("--sqlite", metavar="PATH")
    parser.add_argument("--leads", type=int, help="default: 1,000,000 (PostgreSQL), 100,000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reload", action="store_true", help="load the leads even if there")
    parser.add_argument("--rebuild", action="store_true", help="time a rebuild of the rollup")
    parser.add_argument("--exact-days", type=int, default=90, help="longest exact range timed")
    parser.add_argument("--writes", type=int, default=200, help="leads per write-cost round")
    parser.add_argument("--intakes", type=int, default=30, help="intake POSTs per round")
    parser.add_argument("--writes-only", action="store_true", help="only the write costs")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.postgres or f"sqlite:///{Path(args.sqlite).resolve()}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "realtycrm.settings.test"
    if args.postgres:
        ensure_postgres_database(args.postgres)
    count = args.leads or (1_000_000 if args.postgres else 100_000)

    import django

    django.setup()
    import reports_data
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from leads.models import Lead

    call_command("migrate", verbosity=0)
    if args.reload or Lead.objects.count() != count:
        started = time.perf_counter()
        reports_data.load(count)
        print(f"loaded {count:,} leads in {time.perf_counter() - started:.1f} s")

    from django.contrib.auth.models import User

    from reports import rollup
    from reports.selectors import Scope, origin_figures, report_leads, segment_figures
    from reports.sql import reporting_transaction
    from reports.tables import ReportTables

    if args.reload or args.rebuild or not rollup.LeadDayCount.objects.exists():
        started = time.perf_counter()
        months = rollup.rebuild()
        print(
            f"rollup rebuilt from {count:,} leads ({months} months) in "
            f"{time.perf_counter() - started:.1f} s"
        )
    print(
        f"rollup: {rollup.LeadDayCount.objects.count():,} day rows, "
        f"{rollup.LeadMonthTime.objects.count():,} month time rows"
    )

    broker = User.objects.get(username="bench-broker")
    today = timezone.localdate()
    print(
        f"{connection.vendor} ({connection.settings_dict['NAME']}), "
        f"{Lead.objects.count():,} leads over {reports_data.DAYS} days, best / median / worst "
        f"of {args.runs} runs"
    )

    def timed(name, days, in_range, job, runs):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            job()
            times.append(time.perf_counter() - started)
        print(
            f"  last {days:>3} days ({in_range:>9,} leads)  {name:<22} "
            f"{min(times):6.3f} / {statistics.median(times):6.3f} / {max(times):6.3f} s"
        )

    for days in () if args.writes_only else (30, 90, 365, reports_data.DAYS + 1):
        scope = Scope(start=today - timedelta(days=days - 1), end=today)
        in_range = report_leads(broker, scope).count()

        def whole(scope=scope, use_rollup=True):
            with reporting_transaction():
                report = ReportTables(broker, scope, use_rollup=use_rollup)
                report.all(), report.chart(), report.source_chart()

        if days <= args.exact_days:

            def matrix(scope=scope):
                with reporting_transaction():
                    segment_figures(report_leads(broker, scope))

            def origins(scope=scope):
                with reporting_transaction():
                    origin_figures(report_leads(broker, scope))

            timed("exact matrix", days, in_range, matrix, args.runs)
            timed("exact origins", days, in_range, origins, args.runs)
            timed(
                "exact whole report",
                days,
                in_range,
                partial(whole, use_rollup=False),
                max(1, args.runs // 2),
            )
        timed("rollup whole report", days, in_range, whole, args.runs)

    write_cost(args.writes, rollup, args.intakes)


def write_cost(count, rollup, intakes=0):
    """Per lead: insert, update (contact, then stage), delete, each committed on its own; the
    rounds alternate with and without the triggers."""
    from django.db import connection, transaction
    from django.utils import timezone

    from leads.models import Lead

    def round_():
        now = timezone.now()
        leads, costs = [], {"insert": [], "update": [], "delete": []}
        for n in range(count):
            started = time.perf_counter()
            with transaction.atomic():
                leads.append(
                    Lead.objects.create(
                        first_name="Cost",
                        email=f"cost{n}@example.com",
                        source="valuation",
                        intent="hot",
                        created_at=now,
                        last_inquiry_at=now,
                        channel="email",
                        origin="Zillow",
                        utm_campaign="spring",
                    )
                )
            costs["insert"].append(time.perf_counter() - started)
        for lead in leads:
            started = time.perf_counter()
            with transaction.atomic():
                Lead.objects.filter(pk=lead.pk).update(first_personal_contact_at=timezone.now())
                Lead.objects.filter(pk=lead.pk).update(stage="contacted")
            costs["update"].append(time.perf_counter() - started)
        for lead in leads:
            started = time.perf_counter()
            with transaction.atomic():
                Lead.objects.filter(pk=lead.pk).delete()
            costs["delete"].append(time.perf_counter() - started)
        return {name: statistics.median(values) * 1000 for name, values in costs.items()}

    def queries():
        counted = []
        with (
            connection.execute_wrapper(lambda run, *a: counted.append(1) or run(*a)),
            transaction.atomic(),
        ):
            lead = Lead.objects.create(
                first_name="Count", email="count@example.com", source="valuation"
            )
        Lead.objects.filter(pk=lead.pk).delete()
        return len(counted)

    def intake_round(number):
        """Hot valuation POSTs through the real form (tests.helpers.post_intake), then their
        leads deleted again, with the triggers as they are."""
        from django.conf import settings
        from django.test import Client

        from tests.helpers import post_intake

        settings.INTAKE_RATE_LIMIT = "1000000/1m"
        client, times, counts = Client(), [], []
        for n in range(intakes):
            counted = []
            with connection.execute_wrapper(lambda run, *a, c=counted: c.append(1) or run(*a)):
                started = time.perf_counter()
                response = post_intake(
                    client,
                    "valuation",
                    timeline="within_3_months",
                    email=f"rollup-intake-{number}-{n}@example.com",
                    phone=f"(413) 555-{1000 + n:04d}",
                    sms_consent="on",
                )
                times.append(time.perf_counter() - started)
            counts.append(len(counted))
            if response.status_code != 302:
                raise SystemExit(f"intake POST answered {response.status_code}")
        Lead.objects.filter(email__startswith=f"rollup-intake-{number}-").delete()
        return statistics.median(times[2:]) * 1000, statistics.median(counts)

    results = {True: [], False: []}
    intake_results = {True: [], False: []}
    query_counts = {}
    for number in range(6):
        on = number % 2 == 0
        if on:
            rollup.install()
        else:
            rollup.uninstall(keep_zone=True)
        query_counts[on] = queries()
        results[on].append(round_())
        if intakes:
            intake_results[on].append(intake_round(number))
    rollup.install()
    print_trigger_cost(rollup, rows=2000)
    print(f"write cost, {count} leads per round, 3 rounds each, median ms per committed write:")
    for name in ("insert", "update", "delete"):
        with_, without = ([r[name] for r in results[on]] for on in (True, False))
        print(
            f"  {name:<7} with triggers {statistics.median(with_):6.2f} ms "
            f"({min(with_):.2f}-{max(with_):.2f}), without {statistics.median(without):6.2f} ms "
            f"({min(without):.2f}-{max(without):.2f}): "
            f"+{statistics.median(with_) - statistics.median(without):.2f} ms"
        )
    print(
        f"  SQL statements per lead insert: {query_counts[True]} with triggers, "
        f"{query_counts[False]} without"
    )
    if intakes:
        print(f"intake POST (hot valuation, in-process), {intakes} per round, median ms per round:")
        for on in (True, False):
            ms = [r[0] for r in intake_results[on]]
            queries_ = [r[1] for r in intake_results[on]]
            print(
                f"  {'with' if on else 'without'} triggers {statistics.median(ms):6.1f} ms "
                f"({min(ms):.1f}-{max(ms):.1f}), {statistics.median(queries_):.0f} queries"
            )


def print_trigger_cost(rollup, rows: int):
    """The triggers' own cost per row, inside the database: one INSERT ... SELECT of `rows`
    copies of existing leads (of every day, as independent writes would be: thousands of
    leads of one day in one transaction update the same rollup rows over and over, which
    costs more per lead), an UPDATE of their stage and contact date, a DELETE, with the
    triggers applied at once (PostgreSQL: SET CONSTRAINTS ... IMMEDIATE), then rolled back;
    three times with the triggers and three without, alternating."""
    import reports_data
    from django.db import connection, transaction

    table = "leads_lead"
    columns = ", ".join(reports_data.COLUMNS)
    statements = {
        "insert": f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table} "  # noqa: S608
        f"WHERE email = '' AND id % 97 = 0 LIMIT {rows}",  # spread over the two years
        "update": f"UPDATE {table} SET stage = 'lost', first_personal_contact_at = "  # noqa: S608
        f"created_at WHERE id > %s",
        "delete": f"DELETE FROM {table} WHERE id > %s",  # noqa: S608
    }
    found = {True: defaultdict(list), False: defaultdict(list)}
    for number in range(6):
        on = number % 2 == 0
        if on:
            rollup.install()
        else:
            rollup.uninstall(keep_zone=True)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608
            last = cursor.fetchone()[0]
            if on:
                rollup.flush_pending()
            for name, sql in statements.items():
                started = time.perf_counter()
                cursor.execute(sql, None if name == "insert" else [last])
                found[on][name].append((time.perf_counter() - started) / rows * 1e6)
            transaction.set_rollback(True)
    rollup.install()
    print(f"trigger cost in the database, {rows:,} rows per statement, median of 3, µs per row:")
    for name in statements:
        with_, without = (statistics.median(found[on][name]) for on in (True, False))
        print(
            f"  {name:<7} {with_:7.1f} with triggers, {without:7.1f} without: "
            f"+{with_ - without:.1f} µs"
        )


if __name__ == "__main__":
    main()

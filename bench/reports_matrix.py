"""Benchmark: the segment report over many leads, on PostgreSQL and on SQLite.

    .venv/bin/python bench/reports_matrix.py --postgres postgres://postgres@127.0.0.1:5432/realtycrm_reports_bench
    .venv/bin/python bench/reports_matrix.py --sqlite /tmp/realtycrm_reports_bench.sqlite3

Loads the leads once (1,000,000 on PostgreSQL, 100,000 on SQLite by default; two years of
arrivals, see bench/reports_data.py) into that dedicated database, then times the segment
matrix (every cell, per source, per intent and overall, with the percentiles), the table by
origin and channel, and the whole report, for a few date ranges. Prints the best and the median of several runs, in seconds.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
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

    from reports import selectors
    from reports.sql import reporting_transaction
    from reports.tables import ReportTables

    broker = User.objects.get(username="bench-broker")
    today = timezone.localdate()
    print(
        f"{connection.vendor} ({connection.settings_dict['NAME']}), "
        f"{Lead.objects.count():,} leads over {reports_data.DAYS} days, best / median of "
        f"{args.runs} runs"
    )
    for days in (30, 90, 365, reports_data.DAYS + 1):
        scope = selectors.Scope(start=today - timedelta(days=days - 1), end=today)
        in_range = selectors.report_leads(broker, scope).count()

        def matrix(scope=scope):
            with reporting_transaction():
                selectors.segment_figures(selectors.report_leads(broker, scope))

        def origins(scope=scope):
            with reporting_transaction():
                selectors.origin_figures(selectors.report_leads(broker, scope))

        def whole_report(scope=scope):
            with reporting_transaction():
                ReportTables(broker, scope).all()

        jobs = (("matrix", matrix), ("origins", origins), ("whole report", whole_report))
        for name, job in jobs:
            times = []
            for _ in range(args.runs if name != "whole report" else max(1, args.runs // 2)):
                started = time.perf_counter()
                job()
                times.append(time.perf_counter() - started)
            print(
                f"  last {days:>3} days ({in_range:>9,} leads)  {name:<12} "
                f"{min(times):6.3f} s / {statistics.median(times):6.3f} s"
            )


if __name__ == "__main__":
    main()

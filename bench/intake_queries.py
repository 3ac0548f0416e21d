"""SQL queries and in-process time of one intake POST: a new hot lead, and a re-inquiry.

    .venv/bin/python bench/intake_queries.py [--posts 60]

Runs in-process on a temporary SQLite test database (Django's test runner creates and drops it),
with the test settings: django-q2 runs tasks inline, so each POST includes dispatching its
acknowledgment and the owner's alert to the in-memory backends. Each POST is a valuation form
with SMS consent and "within 3 months" (hot: it is routed, enrolled and alerts its owner). Prints
the median query count with its range, the median time with p10 / p90 (first ten posts left out
as warm-up), and the queries of one re-inquiry from the same person. "queries" is every
statement Django logs (on SQLite that includes each transaction's BEGIN); "data" leaves out
transaction control (BEGIN, COMMIT, SAVEPOINT, RELEASE, SET LOCAL). "request" is every
statement the POST runs except the dispatch of its messages after the commit (the hook,
sequences.outbox.message_dispatch_later, is a recorder while the POST runs; the recorded
messages are then dispatched and counted apart as "dispatch"), as
tests/leads/test_intake_queries.py counts.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "realtycrm.settings.test"
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.runner import DiscoverRunner  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from sequences import outbox  # noqa: E402
from tests.factories import AgentFactory  # noqa: E402
from tests.helpers import post_intake  # noqa: E402

WARM_UP = 10
CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK", "SET LOCAL")


def data_statements(queries) -> int:
    return sum(not q["sql"].lstrip().upper().startswith(CONTROL) for q in queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=60)
    posts = max(parser.parse_args().posts, WARM_UP + 10)
    setup_test_environment()
    settings.INTAKE_RATE_LIMIT = "1000000/1m"  # one client posts them all
    # Two agents get 60 hot leads in a minute: past the hourly cap on an agent's alert texts
    # (alerts.services) most alerts would join the hour's grouped text. Measured here: the
    # common case, an alert texted on its own.
    settings.ALERT_SMS_PER_AGENT_PER_HOUR = 1_000_000
    runner = DiscoverRunner(verbosity=0)
    databases = runner.setup_databases()
    try:
        AgentFactory(), AgentFactory()
        client = Client()
        counts, data, seconds, request, dispatch = [], [], [], [], []
        real_dispatch = outbox.message_dispatch_later
        for n in range(posts):
            if n % 2:  # every other POST: the request alone, then its messages' dispatch
                recorded = []
                outbox.message_dispatch_later = recorded.append
                with CaptureQueriesContext(connection) as queries:
                    response = post_intake(
                        client,
                        "valuation",
                        timeline="within_3_months",
                        email=f"prospect{n}@example.com",
                        phone=f"(413) 555-{1000 + n:04d}",
                        sms_consent="on",
                    )
                outbox.message_dispatch_later = real_dispatch
                with CaptureQueriesContext(connection) as sent:
                    for message_id in recorded:
                        real_dispatch(message_id)
                if response.status_code != 302:
                    raise SystemExit(f"POST {n} answered {response.status_code}")
                request.append(len(queries))
                dispatch.append(data_statements(sent))
                continue
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = post_intake(
                    client,
                    "valuation",
                    timeline="within_3_months",
                    email=f"prospect{n}@example.com",
                    phone=f"(413) 555-{1000 + n:04d}",
                    sms_consent="on",
                )
                seconds.append(time.perf_counter() - started)
            if response.status_code != 302:
                raise SystemExit(f"POST {n} answered {response.status_code}")
            counts.append(len(queries))
            data.append(data_statements(queries))
        with CaptureQueriesContext(connection) as again:
            post_intake(
                client,
                "listing-ad",
                timeline="within_3_months",
                email="prospect1@example.com",
                phone="(413) 555-1001",
                sms_consent="on",
            )
        timed = sorted(seconds[WARM_UP:])
        decile = len(timed) // 10
        print(f"{posts} hot valuation POSTs in-process (SQLite, test settings, tasks inline)")
        print(
            f"  new lead     {statistics.median(counts):.0f} queries "
            f"(min {min(counts)}, max {max(counts)}) · "
            f"{statistics.median(timed) * 1000:.1f} ms median "
            f"(p10 {timed[decile] * 1000:.1f}, p90 {timed[-decile - 1] * 1000:.1f})"
        )
        print(
            f"  new lead     {statistics.median(data):.0f} data statements "
            f"(min {min(data)}, max {max(data)})"
        )
        print(
            f"  new lead     {statistics.median(request):.0f} request statements "
            f"(min {min(request)}, max {max(request)}), then "
            f"{statistics.median(dispatch):.0f} data statements dispatching its messages "
            f"(min {min(dispatch)}, max {max(dispatch)})"
        )
        print(f"  re-inquiry   {len(again)} queries, {data_statements(again)} data statements")
    finally:
        runner.teardown_databases(databases)


if __name__ == "__main__":
    main()

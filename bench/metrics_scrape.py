"""The cost of one /metrics scrape and one /healthz, with 100,000 messages in the outbox's table.

    .venv/bin/python bench/metrics_scrape.py [--messages 100000] [--backlogs 0,1000,50000]
        [--postgres postgres://postgres@127.0.0.1:5432/realtycrm_metrics_bench] [--scrapes 40]

In-process (Django's test client, test settings) on a temporary database the test runner creates
and drops: SQLite by default, PostgreSQL with --postgres (a `test_` database beside the one
named, with `_tmp` appended). It writes --messages messages over 2,000 leads, all sent, then for each backlog makes
that many of them queued and due again (spread over the kinds: sms/email × lead/agent ×
acknowledgment/nurture/alert, due over the last hour), plus 50 being sent, and scrapes /metrics
--scrapes times: the median time with p10 / p90 (first five left out as warm-up), the SQL
queries of one scrape, and on PostgreSQL the plan of the outbox query. Then /healthz the same
way.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "realtycrm.settings.test"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--backlogs", default="0,1000,50000")
    parser.add_argument("--scrapes", type=int, default=40)
    parser.add_argument("--postgres", default="")
    return parser.parse_args()


ARGS = parse_args()
if ARGS.postgres:
    os.environ["DATABASE_URL"] = ARGS.postgres
else:
    os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.runner import DiscoverRunner  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_q.models import Schedule  # noqa: E402

from leads.models import Lead  # noqa: E402
from sequences.models import Message  # noqa: E402

WARM_UP = 5
TOKEN = "bench-token"  # noqa: S105 - the benchmark's own scrape token
KINDS = [
    ("sms", "lead", "acknowledgment"),
    ("email", "lead", "acknowledgment"),
    ("sms", "lead", "nurture"),
    ("email", "lead", "nurture"),
    ("sms", "agent", "alert"),
    ("email", "agent", "alert"),
]


def populate(total: int) -> None:
    now = timezone.now()
    Lead.objects.bulk_create(
        Lead(first_name="P", last_name=str(n), email=f"p{n}@example.com", source="valuation")
        for n in range(2000)
    )
    lead_ids = list(Lead.objects.values_list("pk", flat=True))
    batch = []
    for n in range(total):
        channel, audience, purpose = KINDS[n % len(KINDS)]
        created = now - timedelta(days=30) + timedelta(seconds=n * 20)
        batch.append(
            Message(
                lead_id=lead_ids[n % len(lead_ids)] if audience == "lead" else None,
                channel=channel,
                audience=audience,
                purpose=purpose,
                to="+14135550100" if channel == "sms" else "p@example.com",
                body="Hello",
                idempotency_key=f"bench-{n}",
                status="sent",
                created_at=created,
                scheduled_for=created,
                sent_at=created + timedelta(seconds=1),
            )
        )
        if len(batch) == 5000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)
    Schedule.objects.create(
        func="sequences.tasks.sequences_tick",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
        next_run=now + timedelta(seconds=30),
    )


def make_backlog(size: int) -> None:
    now = timezone.now()
    Message.objects.update(status="sent")
    ids = list(Message.objects.order_by("pk").values_list("pk", flat=True)[: size + 50])
    for start in range(0, size, 2000):
        chunk = ids[start : min(start + 2000, size)]
        Message.objects.filter(pk__in=chunk).update(
            status="queued", scheduled_for=now - timedelta(minutes=30), sent_at=None
        )
    Message.objects.filter(pk__in=ids[size : size + 50]).update(
        status="sending", lease_expires_at=now + timedelta(minutes=5)
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sequences_message")


def timed(client, path, scrapes, **headers):
    seconds = []
    for _ in range(scrapes):
        started = time.perf_counter()
        response = client.get(path, **headers)
        seconds.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]}")
    with CaptureQueriesContext(connection) as queries:
        client.get(path, **headers)
    ms = sorted(s * 1000 for s in seconds[WARM_UP:])
    decile = max(len(ms) // 10, 1)
    return statistics.median(ms), ms[decile - 1], ms[-decile], queries


def outbox_plan() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN ANALYZE SELECT channel, audience, purpose, COUNT(id), MIN(scheduled_for) "
            "FROM sequences_message WHERE status = 'queued' AND scheduled_for <= now() "
            "GROUP BY 1, 2, 3"
        )
        return "\n".join("      " + row[0] for row in cursor.fetchall())


def main() -> None:
    setup_test_environment()
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    if connection.vendor == "postgresql":  # beside the named database, never `test_` + it
        connection.settings_dict["TEST"]["NAME"] = connection.settings_dict["NAME"] + "_tmp"
    runner = DiscoverRunner(verbosity=0)
    databases = runner.setup_databases()
    try:
        started = time.perf_counter()
        populate(ARGS.messages)
        database = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
        print(
            f"{ARGS.messages:,} messages on {database} (written in "
            f"{time.perf_counter() - started:.0f} s); /metrics in-process, {ARGS.scrapes} "
            f"scrapes each, first {WARM_UP} left out"
        )
        client = Client()
        auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
        for backlog in (int(b) for b in ARGS.backlogs.split(",")):
            make_backlog(backlog)
            median, p10, p90, queries = timed(client, "/metrics", ARGS.scrapes, **auth)
            print(
                f"  backlog {backlog:>6,} due: /metrics median {median:6.1f} ms "
                f"(p10 {p10:.1f}, p90 {p90:.1f}), {len(queries)} SQL queries"
            )
            if connection.vendor == "postgresql" and backlog:
                print(outbox_plan())
        median, p10, p90, queries = timed(client, "/healthz", ARGS.scrapes)
        print(
            f"  /healthz median {median:.1f} ms (p10 {p10:.1f}, p90 {p90:.1f}), "
            f"{len(queries)} SQL queries"
        )
    finally:
        runner.teardown_databases(databases)


if __name__ == "__main__":
    main()

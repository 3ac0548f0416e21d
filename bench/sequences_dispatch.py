"""Outbox throughput: 10,000 due messages dispatched by a real django-q2 cluster.

    .venv/bin/python bench/sequences_dispatch.py            # SQLite, then PostgreSQL
    .venv/bin/python bench/sequences_dispatch.py --only sqlite

For each database: a fresh temporary database, migrated; 10,000 leads with SMS consent and
10,000 queued messages due now (half texts, half emails, one per lead so the per-number cap
never bites); then `manage.py qcluster` (Q_WORKERS=2, the ORM broker, as in production) is
started and the scheduler's tick is queued, exactly what the every-minute schedule does. The
clock runs from queueing the tick until no message is queued or sending. Backends are the
in-memory ones (no network). Quiet hours are opened to the whole day so the time of day the
benchmark runs does not matter.

Target on a 2-core machine: 10,000 messages in under 60 seconds on PostgreSQL.

The drains claim by Message.priority (alerts, then acknowledgments, then nurture), so a fifth of
the messages here are alerts to agents and a fifth acknowledgments, written last; the time until
the last alert and the last acknowledgment went is printed beside the total. REDIS_URL (its
database is flushed first) puts the cluster on django-q2's Redis broker.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MESSAGES = 10_000
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PURPOSES = ("alert", "acknowledgment", "nurture", "nurture", "nurture")
PG_DATABASE = os.environ.get("BENCH_PG_DATABASE", "realtycrm_seq_bench_dispatch")


def bench_env(database_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "realtycrm.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "SMS_BACKEND": "sequences.backends.sms.LocmemBackend",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SMS_SENDING_HOURS": "00:00-24:00",
        "SMS_SENDING_HOURS_BY_STATE": "",
        "Q_WORKERS": "2",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def manage(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs
    )


def run_one(database_url: str) -> dict:
    """In a child process: Django configured for this one database."""
    env = bench_env(database_url)
    os.environ.update(env)
    manage(env, "migrate", "--no-input", "-v", "0")
    import django

    django.setup()
    from django.db.models import Count
    from django.utils import timezone
    from django_q.tasks import async_task

    from leads.models import Lead
    from sequences.models import Message

    now = timezone.now()
    leads = Lead.objects.bulk_create(
        [
            Lead(
                first_name=f"Bench{n}",
                email=f"bench{n}@example.com",
                phone=f"+1413555{n:04d}",
                source="valuation",
                intent="warm",
                sms_consent_at=now,
                created_at=now,
                last_inquiry_at=now,
            )
            for n in range(MESSAGES)
        ],
        batch_size=1000,
    )
    Message.objects.bulk_create(
        [
            Message(
                lead=lead,
                channel="sms" if n % 2 == 0 else "email",
                to=lead.phone if n % 2 == 0 else lead.email,
                subject="" if n % 2 == 0 else "Homes near you: what they sold for",
                body="Hi, here are the recent sales near you that matter most for your price. "
                "Reply with any questions. Reply STOP to opt out.",
                purpose=PURPOSES[n % 5],
                audience="agent" if PURPOSES[n % 5] == "alert" else "lead",
                idempotency_key=f"bench-{n}",
                created_at=now,
                # Nurture was due a minute earlier: oldest-first alone would send it first.
                scheduled_for=now - timedelta(minutes=1) if PURPOSES[n % 5] == "nurture" else now,
            )
            for n, lead in enumerate(leads)
        ],
        batch_size=1000,
    )
    from django.db import connections

    connections.close_all()
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(4)  # let the cluster start its workers; start-up is not what we measure
        started = time.monotonic()
        async_task("sequences.tasks.sequences_tick")
        pending, done_at = MESSAGES, {}
        while pending:
            time.sleep(0.25)
            waiting = dict(
                Message.objects.filter(status__in=["queued", "sending"])
                .values_list("purpose")
                .annotate(n=Count("id"))
            )
            pending = sum(waiting.values())
            for purpose in ("alert", "acknowledgment"):
                if purpose not in waiting:
                    done_at.setdefault(purpose, round(time.monotonic() - started, 2))
            if time.monotonic() - started > 600:
                raise SystemExit(f"gave up: {pending} messages still pending after 10 minutes")
        elapsed = time.monotonic() - started
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
    statuses = dict(Message.objects.values_list("status").annotate(n=Count("id")))
    retried = Message.objects.filter(attempts__gt=1).count()
    connections.close_all()
    return {
        "vendor": django.db.connection.vendor,
        "messages": MESSAGES,
        "seconds": round(elapsed, 2),
        "per_second": round(MESSAGES / elapsed, 1),
        "statuses": statuses,
        "attempted_more_than_once": retried,
        "last_alert_s": done_at.get("alert"),
        "last_acknowledgment_s": done_at.get("acknowledgment"),
        "broker": "Redis" if os.environ.get("REDIS_URL") else "ORM",
    }


def child(database_url: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(result.stdout + result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def postgres_database(create: bool) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        if create:
            connection.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--child")
    args = parser.parse_args()
    if os.environ.get("REDIS_URL") and not args.child:
        import redis

        redis.from_url(os.environ["REDIS_URL"]).flushdb()
    if args.child:
        print(json.dumps(run_one(args.child)))
        return
    print(
        f"Dispatching {MESSAGES:,} due messages with `manage.py qcluster` (2 workers, "
        f"{'Redis' if os.environ.get('REDIS_URL') else 'ORM'} broker)"
    )
    print("Note: the machine is shared with other work while this runs; numbers vary run to run.")
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as directory:
            result = child(f"sqlite:///{directory}/bench.sqlite3")
        report(result)
    if args.only in (None, "postgresql"):
        postgres_database(create=True)
        try:
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"
            result = child(url)
        finally:
            postgres_database(create=False)
        report(result)


def report(result: dict) -> None:
    print(
        f"{result['vendor']:>10}: {result['messages']:,} messages in {result['seconds']:.1f} s "
        f"= {result['per_second']:.0f} messages/s · statuses {result['statuses']} · "
        f"attempted more than once: {result['attempted_more_than_once']} · "
        f"last alert sent at {result['last_alert_s']} s, last acknowledgment at "
        f"{result['last_acknowledgment_s']} s ({result['broker']} broker)"
    )


if __name__ == "__main__":
    main()

"""A reactivation campaign of 20,000 dormant contacts: how long queueing their emails takes.

    .venv/bin/python bench/reactivation_campaign.py            # SQLite, then PostgreSQL
    .venv/bin/python bench/reactivation_campaign.py --only postgresql --runs 5

For each database: a fresh temporary database, migrated; 20,000 dormant contacts as an import
leaves them (five owners, email only). Then, --runs times, a new email-only campaign to all of
them is sent exactly as the page sends it: `campaign_send` fixes the audience (20,000 recipient
rows), then `campaign_send_batch` (the django-q2 task) queues REACTIVATION_BATCH_SIZE contacts
at a time, each a rendered email with its personal signed link and the outbox's footer, until
the campaign is sent. Each batch is timed; the run's total is the send plus every batch. The
batches are called in this process, one after the other (what one worker does), so the numbers
are the queueing alone: the outbox's drain, which sends the emails, is not run (--cluster runs
one end to end with `manage.py qcluster`, 2 workers, sending too).

Numbers vary with the machine's other work; the script prints the median and the spread.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CONTACTS = 20_000
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = "realtycrm_reactivation_bench"


def bench_env(database_url: str, batch_size: int) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "realtycrm.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "SMS_BACKEND": "sequences.backends.sms.LocmemBackend",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "REACTIVATION_BATCH_SIZE": str(batch_size),
        "Q_WORKERS": "2",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def manage(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs
    )


def _contacts():
    """20,000 dormant contacts of five agents, as an import leaves them."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from leads.models import Agent, Lead

    User = get_user_model()
    owners = []
    for n in range(5):
        user = User.objects.create(username=f"agent{n}", first_name=f"Agent{n}", last_name="Bench")
        Agent.objects.create(user=user, phone=f"+1413555{9000 + n}")
        owners.append(user)
    imported = timezone.now() - timedelta(days=30)
    Lead.objects.bulk_create(
        [
            Lead(
                first_name=f"Contact{n}",
                last_name="Bench",
                email=f"contact{n}@example.com",
                source="reactivation",
                channel="import",
                timeline="unknown",
                intent="unknown",
                dormant=True,
                imported_at=imported,
                created_at=imported,
                last_inquiry_at=imported,
                relationship="past_client",
                owner=owners[n % len(owners)],
            )
            for n in range(CONTACTS)
        ],
        batch_size=2000,
    )


def run_one(database_url: str, runs: int, batch_size: int) -> dict:
    """In a child process: Django configured for this one database."""
    env = bench_env(database_url, batch_size)
    os.environ.update(env)
    manage(env, "migrate", "--no-input", "-v", "0")
    import django

    django.setup()
    from django.db import connection

    from sequences.models import CampaignRecipient, Message, ReactivationCampaign
    from sequences.services.campaigns import campaign_send, campaign_send_batch

    _contacts()
    totals, sends, batches = [], [], []
    for run in range(runs):
        campaign = ReactivationCampaign.objects.create(
            name=f"Bench {run}",
            email_subject="It's been a while, {first_name}",
            email_body="Hi {first_name},\n\nIt's {agent_name} at {brokerage}. Has anything "
            "changed for you? Tell me here:\n\n{reactivation_link}\n\n{agent_name}",
        )
        started = time.perf_counter()
        recipients = campaign_send(campaign, actor=None)
        sends.append(time.perf_counter() - started)
        while True:
            batch_started = time.perf_counter()
            taken = campaign_send_batch(campaign.pk)
            if not taken:
                break
            batches.append(time.perf_counter() - batch_started)
        totals.append(time.perf_counter() - started)
        campaign.refresh_from_db()
        assert recipients == CONTACTS and campaign.status == "sent", campaign.status
        assert campaign.emails_queued == CONTACTS
    queued = Message.objects.filter(purpose="campaign", status="queued").count()
    with_link = Message.objects.filter(
        purpose="campaign", body__contains="/intake/reactivation/?r="
    ).count()
    assert queued == with_link == CONTACTS * runs
    assert CampaignRecipient.objects.filter(status="queued").count() == CONTACTS * runs
    return {
        "vendor": connection.vendor,
        "contacts": CONTACTS,
        "batch_size": batch_size,
        "runs": runs,
        "totals": totals,
        "sends": sends,
        "batches": batches,
    }


def run_cluster(database_url: str, batch_size: int) -> dict:
    """One campaign end to end with a real cluster: the batches and the drains as tasks."""
    env = bench_env(database_url, batch_size)
    os.environ.update(env)
    manage(env, "migrate", "--no-input", "-v", "0")
    import django

    django.setup()
    from django.db import connection, connections

    from sequences.models import Message, ReactivationCampaign
    from sequences.services.campaigns import campaign_send

    _contacts()
    campaign = ReactivationCampaign.objects.create(
        name="Bench cluster",
        email_subject="It's been a while, {first_name}",
        email_body="Hi {first_name}, has anything changed? {reactivation_link}",
    )
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
        time.sleep(4)  # the cluster's start-up is not what we measure
        started = time.monotonic()
        campaign_send(campaign, actor=None)
        queued_at = sent_at = None
        while sent_at is None:
            time.sleep(0.25)
            elapsed = time.monotonic() - started
            if queued_at is None and (
                ReactivationCampaign.objects.get(pk=campaign.pk).status == "sent"
            ):
                queued_at = elapsed
            if (
                queued_at is not None
                and not Message.objects.filter(status__in=["queued", "sending"]).exists()
            ):
                sent_at = elapsed
            if elapsed > 900:
                raise SystemExit("gave up after 15 minutes")
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
    sent = Message.objects.filter(purpose="campaign", status="sent").count()
    return {
        "vendor": connection.vendor,
        "contacts": CONTACTS,
        "batch_size": batch_size,
        "queued_seconds": round(queued_at, 2),
        "sent_seconds": round(sent_at, 2),
        "sent": sent,
    }


def child(database_url: str, *args) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", database_url, *args],
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


def _quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(result: dict) -> None:
    if "queued_seconds" in result:
        print(
            f"{result['vendor']:>10} (qcluster, 2 workers): {result['contacts']:,} contacts "
            f"queued in {result['queued_seconds']:.1f} s, all {result['sent']:,} emails sent "
            f"after {result['sent_seconds']:.1f} s (batches of {result['batch_size']})"
        )
        return
    totals, batches, sends = result["totals"], result["batches"], result["sends"]
    median = statistics.median(totals)
    print(
        f"{result['vendor']:>10}: {result['contacts']:,} emails queued in {median:.1f} s "
        f"(median of {result['runs']} runs; {min(totals):.1f}-{max(totals):.1f} s) = "
        f"{result['contacts'] / median:,.0f} contacts/s"
    )
    print(f"{'':>10}  fixing the audience (campaign_send): median {statistics.median(sends):.2f} s")
    print(
        f"{'':>10}  {len(batches)} batches of {result['batch_size']}: median "
        f"{statistics.median(batches) * 1000:.0f} ms, p10 {_quantile(batches, 0.1) * 1000:.0f} "
        f"ms, p90 {_quantile(batches, 0.9) * 1000:.0f} ms, max {max(batches) * 1000:.0f} ms"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--cluster", action="store_true", help="also one run with qcluster")
    parser.add_argument("--child")
    parser.add_argument("--child-cluster", action="store_true")
    args = parser.parse_args()
    if args.child:
        if args.child_cluster:
            print(json.dumps(run_cluster(args.child, args.batch_size)))
        else:
            print(json.dumps(run_one(args.child, args.runs, args.batch_size)))
        return
    print(
        f"Queueing a reactivation campaign to {CONTACTS:,} dormant contacts (email only), "
        f"batches of {args.batch_size}, {args.runs} runs per database"
    )
    print("Note: the machine is shared with other work while this runs; numbers vary run to run.")
    extra = ["--runs", str(args.runs), "--batch-size", str(args.batch_size)]
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as directory:
            report(child(f"sqlite:///{directory}/bench.sqlite3", *extra))
        if args.cluster:
            with tempfile.TemporaryDirectory() as directory:
                url = f"sqlite:///{directory}/bench.sqlite3"
                report(child(url, *extra, "--child-cluster"))
    if args.only in (None, "postgresql"):
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"
        for mode in ([], ["--child-cluster"]) if args.cluster else ([],):
            postgres_database(create=True)
            try:
                report(child(url, *extra, *mode))
            finally:
                postgres_database(create=False)


if __name__ == "__main__":
    main()

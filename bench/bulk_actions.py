"""A bulk action on 10,000 leads (reassign, add a tag), on SQLite and PostgreSQL: wall time and
queries, printed.

    .venv/bin/python bench/bulk_actions.py [--leads 10000] [--db sqlite,postgres]
                                           [--actions reassign,tag_add]

Each database is a child process on a fresh database (SQLite: a temporary file; PostgreSQL:
BENCH_DATABASE_URL, default realtycrm_bulk_bench on 127.0.0.1, dropped and created again),
migrated, with a broker, 20 agents and the leads (round robin between the agents, each with its
"created" event, one in ten with an open alert to its owner). Each action is what the broker's
"all N matching this filter" asks for: a leads.BulkJob over every lead (leads.bulk.
bulk_job_create), worked to its end in this process as a django-q2 worker would
(realtycrm.flows.bulk.bulk_job_work: BULK_CHUNK_SIZE leads per transaction, each lead through
the flow a single lead's page uses, the timeline events bulk-inserted per chunk). Queries are
counted with a connection execute wrapper (every statement sent, savepoints included).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/realtycrm_bulk_bench"
AGENTS = 20


def child(db: str, leads: int, actions: list[str]) -> dict:
    if db == "postgres":
        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
        recreate_postgres(url)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bulk-bench-')}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "realtycrm.settings.test"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    broker, agents = seed(leads)
    from leads.bulk import bulk_job_create
    from leads.models import BulkJob, LeadEvent
    from leads.services import tag_get_or_create
    from realtycrm.flows.bulk import bulk_job_work

    params = {
        "reassign": {"owner": agents[0].pk, "label": "Reassign to Agent0"},
        "tag_add": {"tag": tag_get_or_create("Spring 2027 mailer").pk, "label": "Add tag"},
        "stage": {"stage": "engaged", "note": "", "label": "Stage: Engaged"},
    }
    results = {}
    for action in actions:
        job = bulk_job_create(broker, action, params[action], all_matching=True)
        events_before = LeadEvent.objects.count()
        counted = [0]

        def count(execute, sql, params_, many, context, counted=counted):
            counted[0] += 1
            return execute(sql, params_, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            bulk_job_work(job.pk, budget_seconds=float("inf"))
            wall = time.perf_counter() - started
        job = BulkJob.objects.get(pk=job.pk)
        assert job.status == "done", job.error
        results[action] = {
            "wall": wall,
            "queries": counted[0],
            "total": job.total,
            "changed": job.changed,
            "failed": job.failed,
            "events": LeadEvent.objects.count() - events_before,
        }
    return {"db": db, "leads": leads, "chunk": settings.BULK_CHUNK_SIZE, "results": results}


def recreate_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(count: int):
    from django.contrib.auth.models import User
    from django.utils import timezone

    from alerts.models import Alert
    from leads.models import Agent, Lead, LeadEvent

    broker = User.objects.create(username="bench-broker", first_name="Morgan", last_name="Blake")
    Agent.objects.create(user=broker, role=Agent.Role.BROKER)
    agents = []
    for index in range(AGENTS):
        user = User.objects.create(username=f"bench-agent-{index}", first_name=f"Agent{index}")
        Agent.objects.create(user=user)
        agents.append(user)
    now = timezone.now()
    Lead.objects.bulk_create(
        (
            Lead(
                first_name="Bulk",
                last_name=str(k),
                email=f"bulk{k}@example.com",
                phone=f"+1413{k:07d}",
                source="valuation",
                timeline="6_to_18_months",
                intent="warm",
                # Never the new owner's already: every lead changes hands.
                owner=agents[1 + k % (AGENTS - 1)],
                created_at=now,
                last_inquiry_at=now,
            )
            for k in range(count)
        ),
        batch_size=2000,
    )
    rows = list(Lead.objects.values_list("pk", "owner_id"))
    LeadEvent.objects.bulk_create(
        (LeadEvent(lead_id=pk, kind="created", summary="Bench", occurred_at=now) for pk, _ in rows),
        batch_size=2000,
    )
    Alert.objects.bulk_create(
        (Alert(lead_id=pk, agent_id=owner, reason="reply") for pk, owner in rows[::10]),
        batch_size=2000,
    )
    return broker, agents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--actions", default="reassign,tag_add")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    actions = args.actions.split(",")
    if args.child:
        print(json.dumps(child(args.child, args.leads, actions)))
        return
    print(f"Bulk actions on all {args.leads:,} leads (all matching), worked to the end in-process")
    for db in args.db.split(","):
        command = [
            *(sys.executable, __file__, "--child", db),
            *("--leads", str(args.leads), "--actions", args.actions),
        ]
        load = os.getloadavg()[0]
        done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
        outcome = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"\n{db} ({outcome['chunk']} leads per chunk; load average {load:.1f}):")
        print(f"  {'action':<10} {'wall':>8} {'ms/lead':>8} {'queries':>9} {'/lead':>6}  written")
        for action, result in outcome["results"].items():
            total = result["total"] or 1
            print(
                f"  {action:<10} {result['wall']:7.1f}s {result['wall'] * 1000 / total:8.2f} "
                f"{result['queries']:9,} {result['queries'] / total:6.1f}  "
                f"{result['changed']:,} of {result['total']:,} changed, "
                f"{result['events']:,} events, {result['failed']} failed"
            )


if __name__ == "__main__":
    main()

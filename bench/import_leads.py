"""Importing 100,000 CSV rows end to end (upload + dry run + import), on SQLite and PostgreSQL.

    .venv/bin/python bench/import_leads.py [--rows 100000] [--runs 3] [--db sqlite,postgres]

Each run is a child process on a fresh database (SQLite: a temporary file; PostgreSQL:
BENCH_DATABASE_URL, default realtycrm_import_bench on 127.0.0.1, dropped and created again),
migrated, with 20 agents and 10,000 leads already there. The file is generated once per run with
a fixed seed: names ("Last, First" and "First Last"), emails (5% missing), phones in mixed
formats (20% missing), addresses, zips, tags, notes on a third, owners by username, types, last
contact dates, SMS consent dates on 30%; 5% of the rows match an existing lead, 1% repeat an
earlier row, 1% have a bad email. The steps are the dashboard's (leads.imports), run in-process
to the end, as manage.py import_leads does. Prints the time of each step, the total, and the
child's peak resident memory (ru_maxrss, Django and all); with --runs > 1, the median and range.
The target is under 2 minutes per import on this machine.
"""

import argparse
import csv
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/realtycrm_import_bench"
FIRST = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "James",
    "Mia",
    "Lucas",
    "Amelia",
    "Mateo",
    "Harper",
    "Ethan",
    "Aria",
]
LAST = [
    "Smith",
    "Johnson",
    "Okafor",
    "Garcia",
    "Nguyen",
    "Kowalski",
    "Patel",
    "Haddad",
    "Lefebvre",
    "Chen",
    "Rivera",
    "Blake",
]
STREETS = [
    "Maple",
    "Oak",
    "Harbor",
    "Summit",
    "Chestnut",
    "Mill",
    "Pond",
    "Forest",
    "Elm",
    "Cedar",
    "Birch",
    "Willow",
]
CITIES = ["Springfield", "Longmeadow", "Chicopee", "Holyoke", "Agawam", "Ludlow"]
TYPES = ["Past Client", "Past client", "SOI", "Lead", "Prospect", "Closed - Buyer", "Vendor", ""]
TAGS = ["VIP", "pool", "2019 buyers", "Zillow 2021", "referral", "investor", "downsizer"]
AGENTS = 20
EXISTING = 10_000
HEADER = [
    "Name", "E-mail", "Cell Phone", "Address", "City", "Zip Code", "Tags", "Notes", "Agent",
    "Type", "Last Contacted", "SMS Opt-In Date",
]  # fmt: skip


def phone(rng: random.Random, n: int) -> str:
    digits = f"413{2000000 + n:07d}"
    style = rng.randrange(4)
    if style == 0:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    if style == 1:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"
    if style == 2:
        return f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}"
    return digits


def generate(rows: int, seed: int = 2026) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    written = []
    for n in range(rows):
        roll = rng.random()
        if roll < 0.01 and written:
            writer.writerow(rng.choice(written))  # the same person twice in the file
            continue
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{last}, {first}" if rng.random() < 0.3 else f"{first} {last}"
        if roll < 0.06:  # matches one of the leads already there
            k = rng.randrange(EXISTING)
            email, tel = f"existing{k}@example.com", ""
        else:
            email = "" if rng.random() < 0.05 else f"{first}.{last}.{n}@example.com".lower()
            tel = "" if (rng.random() < 0.2 and email) else phone(rng, n)
        if 0.06 <= roll < 0.07:
            email = f"{first}.{last}.{n}-at-example.com"  # a bad email
        row = [
            name,
            email,
            tel,
            f"{rng.randrange(1, 999)} {rng.choice(STREETS)} Street",
            rng.choice(CITIES),
            f"01{rng.randrange(0, 999):03d}",
            "; ".join(rng.sample(TAGS, rng.randrange(0, 3))),
            "Met at the 2019 open house; wants a bigger yard" if rng.random() < 0.33 else "",
            f"bench-agent-{rng.randrange(AGENTS)}",
            rng.choice(TYPES),
            f"{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}/{rng.randrange(2015, 2025)}",
            f"{rng.randrange(2018, 2025)}-{rng.randrange(1, 13):02d}-15"
            if rng.random() < 0.3
            else "",
        ]
        writer.writerow(row)
        if len(written) < 1000:
            written.append(row)
    return out.getvalue().encode()


def child(db: str, rows: int) -> dict:
    """One run in this process: fresh database, the file, upload → dry run → import."""
    if db == "postgres":
        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
        recreate_postgres(url)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='import-bench-')}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "realtycrm.settings.test"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    broker = seed()
    content = generate(rows)
    from leads.imports import services as imports
    from leads.models import Lead
    from realtycrm.flows.imports import batch_run_here

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = {}
    cpu, load = time.process_time(), os.getloadavg()[0]
    started = time.perf_counter()
    batch = imports.batch_upload(user=broker, name="old-crm.csv", content=content)
    times["upload"] = time.perf_counter() - started
    imports.batch_configure(
        batch, mapping=batch.mapping, consent_wording="Yes, text me (old CRM sign-up form, 2018)"
    )
    imports.batch_check(batch)
    mark = time.perf_counter()
    batch = batch_run_here(batch)
    times["dry run"] = time.perf_counter() - mark
    imports.batch_start(batch)
    mark = time.perf_counter()
    batch = batch_run_here(batch)
    times["import"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - started
    assert batch.status == "done", batch.error
    from leads.models import ConsentRecord, LeadEvent

    return {
        "cpu": time.process_time() - cpu,
        "load": (load + os.getloadavg()[0]) / 2,
        "written": {
            "events": LeadEvent.objects.count(),
            "consents": ConsentRecord.objects.count(),
            "tag links": Lead.tags.through.objects.count(),
        },
        "db": db,
        "rows": batch.rows_total,
        "times": times,
        "counts": [batch.created, batch.updated, batch.skipped, batch.errors],
        "leads": Lead.objects.count(),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "baseline_mb": baseline / 1024,
        "file_mb": len(content) / 1024 / 1024,
    }


def recreate_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed():
    """20 agents, a broker, and 10,000 leads already in the CRM (the file matches 5% of them)."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from leads.models import Agent, Lead

    broker = User.objects.create(username="bench-broker", first_name="Morgan")
    Agent.objects.create(user=broker, role=Agent.Role.BROKER)
    for index in range(AGENTS):
        user = User.objects.create(username=f"bench-agent-{index}", first_name=f"Agent{index}")
        Agent.objects.create(user=user)
    now = timezone.now()
    Lead.objects.bulk_create(
        Lead(
            first_name="Existing",
            last_name=str(k),
            email=f"existing{k}@example.com",
            source="valuation",
            created_at=now,
            last_inquiry_at=now,
        )
        for k in range(EXISTING)
    )
    return broker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows)))
        return
    print(f"Import of {args.rows:,} CSV rows end to end, {args.runs} run(s) per database")
    for db in args.db.split(","):
        results = []
        for _ in range(args.runs):
            command = [sys.executable, __file__, "--child", db, "--rows", str(args.rows)]
            done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        report(db, results)


def report(db: str, results: list[dict]) -> None:
    first = results[0]
    print(
        f"\n{db}: {first['rows']:,} rows ({first['file_mb']:.1f} MB), "
        f"{first['counts'][0]:,} created, {first['counts'][1]:,} updated, "
        f"{first['counts'][2]:,} skipped, {first['counts'][3]:,} errors; "
        f"{first['leads']:,} leads after"
    )
    for step in ("upload", "dry run", "import", "total"):
        values = [result["times"][step] for result in results]
        spread = f" (min {min(values):.1f}, max {max(values):.1f})" if len(values) > 1 else ""
        print(f"  {step:8} {statistics.median(values):6.1f} s{spread}")
    cpu = statistics.median(result["cpu"] for result in results)
    load = statistics.median(result["load"] for result in results)
    print(f"  this process's CPU {cpu:.1f} s; machine load average {load:.1f} (2 cores)")
    print("  written: " + ", ".join(f"{n:,} {what}" for what, n in first["written"].items()))
    rss = [result["maxrss_mb"] for result in results]
    base = statistics.median(result["baseline_mb"] for result in results)
    print(f"  peak RSS {statistics.median(rss):6.0f} MB (process before the import: {base:.0f} MB)")


if __name__ == "__main__":
    main()

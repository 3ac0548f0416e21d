"""Events API throughput: events a second, one client at a time and 20 at once, every one stored.

    .venv/bin/python bench/channels_api.py [--events 300] [--concurrency 20] [--repeats 3]
                                           [--workers 2] [--postgres URL] [--no-sqlite]

Starts the app as it is deployed on one machine: `gunicorn realtycrm.wsgi -w 2` (DEBUG off), on
a temporary SQLite database (migrated, seed_demo for the agents and the routing rules), and, with
--postgres, again on that PostgreSQL database (dropped and created fresh). No django-q2 worker
runs: the acknowledgments and alerts each event writes are queued in the outbox (and their
dispatch tasks on the ORM broker), not sent, so the numbers are the web side's, which is what a
lead source waits for. The console backends stay the default; nothing leaves the machine.

An integration is made with `manage.py create_api_key` (its rate limit raised out of the way);
then, for each repeat, --events events are POSTed with its key, first sequentially (one
keep-alive connection), then from --concurrency clients at once (a thread and a connection
each). Every event is a new person (a new lead: the whole path, dedupe, segmentation, owner,
track, acknowledgment, the alert for a hot timeline), with an Idempotency-Key, a mix of the
event types and timelines a real feed sends. Each answer must be 201; after each run the
submissions stored are counted against the events sent.

Prints, per database and mode: events a second (median of the repeats, and their min-max) and
the latency of one POST (p50, p95 and max over every request of every repeat).
"""

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from harness import fresh_postgres, percentile, start_gunicorn, stop, wait_for_server

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8793"))
BASE = f"http://127.0.0.1:{PORT}"

TYPES = [
    ("Seller Inquiry", {"property": {"street": "{n} Elm Street", "city": "Springfield"}}),
    (
        "Property Inquiry",
        {
            "property": {
                "street": "48 Harbor View Drive",
                "city": "Springfield",
                "state": "MA",
                "code": "01103",
                "mlsNumber": "73012345",
                "price": 525000,
                "bedrooms": 3,
                "bathrooms": 2.5,
            }
        },
    ),
    ("Registration", {}),
    ("General Inquiry", {"message": "Do you have 3-bed homes near the park?"}),
    ("Visited Open House", {"property": {"street": "48 Harbor View Drive"}, "side": "buyer"}),
]
TIMELINES = ["0-3 months", "3-6 months", "6-12 months", "just looking", None]


def env_for(database_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "realtycrm.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def manage(env, *args) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def stored_submissions(env) -> int:
    out = manage(
        env,
        "shell",
        "-c",
        "from leads.models import Submission; "
        "print(Submission.objects.filter(channel='api', status='accepted').count())",
    )
    return int(out.strip().splitlines()[-1])


def event_body(run: int, number: int) -> dict:
    """The `number`th event of run `run`: a new person (their own email and phone)."""
    kind, extra = TYPES[number % len(TYPES)]
    body = {
        "source": "harborandmain.com",
        "system": "bench",
        "type": kind,
        "person": {
            "firstName": f"Bench{number}",
            "lastName": f"Run{run}",
            "emails": [{"value": f"bench-{run}-{number}@example.com"}],
            "phones": [{"value": f"+1413{200 + run:03d}{number:04d}"}],
            "tags": ["bench"],
        },
        "campaign": {"source": "facebook", "campaign": "bench"},
        **extra,
    }
    timeline = TIMELINES[number % len(TIMELINES)]
    if timeline:
        body["timeline"] = timeline
    if "property" in body:
        body["property"] = {
            key: value.format(n=number) if isinstance(value, str) else value
            for key, value in body["property"].items()
        }
    return body


def post(session: requests.Session, authorization: str, run: int, number: int) -> float:
    started = time.perf_counter()
    response = session.post(
        f"{BASE}/api/v1/events",
        json=event_body(run, number),
        headers={"Authorization": authorization, "Idempotency-Key": f"{run}-{number}"},
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise SystemExit(f"event {number}: HTTP {response.status_code} {response.text[:300]}")
    return elapsed


def run_sequential(authorization: str, run: int, events: int) -> tuple[float, list[float]]:
    session = requests.Session()
    started = time.perf_counter()
    latencies = [post(session, authorization, run, number) for number in range(events)]
    return events / (time.perf_counter() - started), latencies


def run_concurrent(
    authorization: str, run: int, events: int, clients: int
) -> tuple[float, list[float]]:
    local = threading.local()

    def one(number):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return post(local.session, authorization, run, number)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        started = time.perf_counter()
        latencies = list(pool.map(one, range(events)))
        elapsed = time.perf_counter() - started
    return events / elapsed, latencies


def bench_database(label: str, database_url: str, args) -> None:
    env = env_for(database_url)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "seed_demo")
    key = manage(env, "create_api_key", "Bench", "--rate-limit", "1000000").strip()
    key = key.splitlines()[-1]
    authorization = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    web = start_gunicorn(env, PORT, args.workers)
    results = {"sequential": [], f"{args.concurrency} concurrent clients": []}
    latencies = {mode: [] for mode in results}
    try:
        wait_for_server(BASE)
        run_sequential(authorization, 0, 10)  # warm both workers' imports and connections
        sent, run = 10, 0
        for _ in range(args.repeats):
            for mode in results:
                run += 1
                if mode == "sequential":
                    rate, seconds = run_sequential(authorization, run, args.events)
                else:
                    rate, seconds = run_concurrent(
                        authorization, run, args.events, args.concurrency
                    )
                sent += args.events
                results[mode].append(rate)
                latencies[mode].extend(seconds)
                stored = stored_submissions(env)
                if stored != sent:
                    raise SystemExit(f"{label}: {sent} events sent, {stored} stored")
    finally:
        stop(web)
    print(
        f"{label}: gunicorn -w {args.workers}, {args.events} events a run, {args.repeats} "
        f"repeats; every event answered 201 and stored ({sent} submissions, counted after "
        "each run)"
    )
    for mode, rates in results.items():
        values = latencies[mode]
        print(
            f"  {mode:<24} {statistics.median(rates):6.1f} events/s "
            f"(repeats {min(rates):.1f}-{max(rates):.1f}) · POST p50 "
            f"{statistics.median(values) * 1000:.0f} ms · p95 "
            f"{percentile(values, 0.95) * 1000:.0f} ms · max {max(values) * 1000:.0f} ms"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300, help="per run, at most 10,000")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", metavar="DATABASE_URL", help="dropped and created fresh")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; machine shared with other work while this ran")
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="realtycrm-api-bench-") as directory:
            bench_database("SQLite", f"sqlite:///{directory}/bench.sqlite3", args)
    if args.postgres:
        fresh_postgres(args.postgres)
        bench_database("PostgreSQL", args.postgres, args)


if __name__ == "__main__":
    main()

"""Intake throughput: hosted-form POSTs a second through gunicorn, from N concurrent clients.

    .venv/bin/python bench/intake_throughput.py --postgres postgres://postgres@127.0.0.1:5432/NAME
        [--posts 400] [--concurrency 8] [--repeats 3] [--workers 2]

Starts the app as it is deployed on one machine: `gunicorn realtycrm.wsgi -w 2` (DEBUG off) on
that PostgreSQL database (dropped and created fresh, migrated, seed_demo for the agents and the
rules; without --postgres a temporary SQLite file). No django-q2 worker runs: each POST writes
its lead, owner, enrolment, acknowledgment and alert and queues the dispatch tasks on the ORM
broker, which is the web side's share and what a prospect waits for. Each client (a thread, a
keep-alive connection) GETs the valuation form once for its signed token, then POSTs it again
and again, every POST a new person (own email and phone), hot ("within 3 months"), with SMS
consent. Every answer must be the redirect to the thank-you page, and after each run the
accepted submissions are counted against the POSTs sent.

Prints POSTs a second (median of the repeats, and their min-max) and the latency of one POST
(p50, p95, max over every request of every repeat).
"""

import argparse
import os
import re
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
PORT = int(os.environ.get("BENCH_PORT", "8830"))
BASE = f"http://127.0.0.1:{PORT}"
FORM = f"{BASE}/intake/valuation/"


def env_for(database_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "realtycrm.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "INTAKE_MIN_FILL_SECONDS": "0",
        "INTAKE_RATE_LIMIT": "1000000/m",
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


def accepted(env) -> int:
    out = manage(
        env,
        "shell",
        "-c",
        "from leads.models import Submission; "
        "print(Submission.objects.filter(channel='form', status='accepted').count())",
    )
    return int(out.strip().splitlines()[-1])


class Client:
    """One prospect's browser, reused: its keep-alive connection and its form token."""

    def __init__(self):
        self.session = requests.Session()
        page = self.session.get(FORM, timeout=30).text
        self.token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)

    def post(self, run: int, number: int) -> float:
        data = {
            "form_token": self.token,
            "first_name": f"Bench{number}",
            "last_name": f"Run{run}",
            "email": f"bench-{run}-{number}@example.com",
            "phone": f"+1413{200 + run:03d}{number:04d}",
            "property_address": f"{number} Elm Street, Springfield",
            "timeline": "within_3_months",
            "sms_consent": "on",
        }
        started = time.perf_counter()
        response = self.session.post(FORM, data=data, allow_redirects=False, timeout=60)
        elapsed = time.perf_counter() - started
        if response.status_code != 302:
            raise SystemExit(f"POST {run}/{number}: HTTP {response.status_code}")
        return elapsed


def run_concurrent(run: int, posts: int, clients: int) -> tuple[float, list[float]]:
    local = threading.local()

    def one(number):
        if not hasattr(local, "client"):
            local.client = Client()
        return local.client.post(run, number)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(lambda n: one(n) and None, range(clients)))  # tokens, connections
        started = time.perf_counter()
        latencies = list(pool.map(one, range(clients, clients + posts)))
        elapsed = time.perf_counter() - started
    return posts / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        if args.postgres:
            fresh_postgres(args.postgres)
            url, label = args.postgres, "PostgreSQL"
        else:
            url, label = f"sqlite:///{directory}/bench.sqlite3", "SQLite"
        env = env_for(url)
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "seed_demo")
        before = accepted(env)
        web = start_gunicorn(env, PORT, args.workers)
        rates, latencies, sent = [], [], 0
        try:
            wait_for_server(BASE)
            for run in range(1, args.repeats + 1):
                rate, seconds = run_concurrent(run, args.posts, args.concurrency)
                sent += args.posts + args.concurrency
                rates.append(rate)
                latencies.extend(seconds)
                stored = accepted(env) - before
                if stored != sent:
                    raise SystemExit(f"{sent} POSTs sent, {stored} accepted")
        finally:
            stop(web)
    print(
        f"{label}: gunicorn -w {args.workers}, {args.concurrency} concurrent clients, "
        f"{args.posts} hot valuation POSTs a run, {args.repeats} runs; every POST answered 302 "
        f"and accepted ({sent} submissions)"
    )
    print(
        f"  {statistics.median(rates):6.1f} POSTs/s (runs {min(rates):.1f}-{max(rates):.1f}) · "
        f"POST p50 {statistics.median(latencies) * 1000:.0f} ms · p95 "
        f"{percentile(latencies, 0.95) * 1000:.0f} ms · max {max(latencies) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()

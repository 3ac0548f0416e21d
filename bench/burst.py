"""A burst: 50 prospects at once for 60 seconds, through the real forms, on `make cluster`.

    .venv/bin/python bench/burst.py [--postgres] [--sqlite] [--prospects 50] [--seconds 60]
    make bench   (both databases)

What it runs (everything it starts is stopped when it ends):

- the topology of `make cluster` (bin/cluster.py): nginx on BURST_PORT (8820) in front of two
  gunicorns (3 sync workers each), two `manage.py qcluster` (2 workers each, one scheduling),
  production settings, on a fresh database: PostgreSQL realtycrm_burst (BURST_PG) or a
  temporary SQLite file (ALLOW_SQLITE_IN_PRODUCTION), and Redis (BURST_REDIS_URL, DB 6 by
  default, flushed) as the shared cache;
- the real Twilio and SendGrid backends and SDKs pointed at bench/fake_provider.py, in a process
  of its own on BURST_PORT + 3, which records the moment it accepts each message;
- `seed_demo --leads 0` (the demo agents and routing rules), then --prospects threads, each a
  prospect after another: GET one of the six intake forms for its form token, POST it like a
  browser (bench/faults.py's answers; one in four "within 3 months", so hot; nine in ten tick
  the SMS box), for --seconds.

Then it waits (up to --drain seconds) until no message of the burst is due, stops everything and
prints:

- leads/s (leads created / burst seconds) and the POST's p50/p95 (the redirect's wait);
- acknowledgment: from Lead.created_at (set inside the intake transaction, a few milliseconds
  before its commit: so the figures are an upper bound on commit → provider) to the provider
  accepting the lead's first acknowledgment (text or email); alert: the same to the first
  alert message (text or email) about a hot lead reaching the provider; p50/p95/max, overall
  and per 10-second window of the burst (by the lead's creation), so growth shows;
- "every lead accounted for": each accepted POST made exactly one lead; each lead exactly one
  acknowledgment per channel, each delivered once; each hot lead one alert per channel,
  delivered once; nothing delivered twice.

Targets (issue 15): PostgreSQL p95 under 2 s with no growth over the minute; SQLite under 5 s.
Logs and the summary stay in bench/results/burst-<time>-<database>/.
"""

import argparse
import json
import multiprocessing
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "bin"))
from cluster import Cluster, cluster_env  # noqa: E402
from fake_provider import FakeProvider  # noqa: E402
from faults import SLUG_ANSWERS, TIMELINES, provider_env  # noqa: E402
from harness import fresh_postgres as drop_and_create  # noqa: E402
from harness import percentile  # noqa: E402

PORT = int(os.environ.get("BURST_PORT", "8820"))
PG = os.environ.get("BURST_PG", "postgres://postgres@127.0.0.1:5432")
PG_DATABASE = os.environ.get("BURST_PG_DATABASE", "realtycrm_burst")
# Where the app connects, when not straight to BURST_PG: e.g. a pgbouncer in transaction pooling
# (BURST_APP_PG=postgres://postgres@127.0.0.1:6432 DATABASE_POOLING=transaction). The database is
# still dropped and created on BURST_PG.
APP_PG = os.environ.get("BURST_APP_PG", PG)
REDIS_URL = os.environ.get("BURST_REDIS_URL", "redis://127.0.0.1:6379/6")
WINDOW = 10


# --- The fake provider, in a process of its own (the load's threads would delay its clock) -----


def _provider(port: int, directory: str, ready, stop) -> None:
    fake = FakeProvider(port=port).start()
    ready.set()
    stop.wait()
    fake.stop()
    fake.save(Path(directory))


def start_provider(port: int, directory: Path):
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    process = context.Process(target=_provider, args=(port, str(directory), ready, stop))
    process.start()
    if not ready.wait(20):
        raise SystemExit("the fake provider did not start")
    return process, stop


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- The load ------------------------------------------------------------------------------------


class Burst:
    def __init__(self, base: str, prospects: int, seconds: float, seed: int):
        self.base, self.prospects, self.seconds = base, prospects, seconds
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.number = 0
        self.posts: list[tuple[int, float, float]] = []  # (number, started, seconds) of a 302
        self.answers: Counter = Counter()

    def run(self) -> float:
        self.started = time.time()
        self.deadline = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self._prospect) for _ in range(self.prospects)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.time() - self.started

    def _next(self) -> int:
        with self.lock:
            self.number += 1
            return self.number

    def _prospect(self) -> None:
        session = requests.Session()
        while time.monotonic() < self.deadline:
            number = self._next()
            outcome = self._submit(session, number)
            with self.lock:
                self.answers[outcome] += 1

    def _submit(self, session: requests.Session, number: int) -> str:
        slug = list(SLUG_ANSWERS)[number % len(SLUG_ANSWERS)]
        url = f"{self.base}/intake/{slug}/?utm_source=burst&utm_campaign=run"
        try:
            page = session.get(url, timeout=30)
            found = re.search(r'name="form_token" value="([^"]+)"', page.text)
            if page.status_code != 200 or found is None:
                return f"GET {page.status_code}"
            data = {
                "form_token": found.group(1),
                "first_name": f"Burst{number}",
                "last_name": "Prospect",
                "email": f"burst{number}@example.com",
                "phone": f"+1413556{number:04d}",
                "timeline": TIMELINES[number % len(TIMELINES)],
                **{k: v.format(n=number) for k, v in SLUG_ANSWERS[slug].items()},
            }
            if number % 10:
                data["sms_consent"] = "on"
            started = time.time()
            response = session.post(
                url, data=data, headers={"Referer": url}, allow_redirects=False, timeout=60
            )
            elapsed = time.time() - started
            if response.status_code == 302:
                with self.lock:
                    self.posts.append((number, started, elapsed))
            return f"POST {response.status_code}"
        except requests.RequestException as exc:
            return f"error {type(exc).__name__}"


# --- The database, read directly (no Django in this process) ------------------------------------


class Database:
    def __init__(self, url: str | None, sqlite_path: Path | None):
        self.url, self.sqlite_path = url, sqlite_path

    def rows(self, sql: str) -> list[tuple]:
        if self.sqlite_path:
            with sqlite3.connect(self.sqlite_path, timeout=30) as connection:
                return connection.execute(sql).fetchall()
        with psycopg.connect(self.url, autocommit=True) as connection:
            return connection.execute(sql).fetchall()

    def leads(self) -> list[tuple]:
        rows = self.rows(
            "SELECT id, email, created_at, intent FROM leads_lead WHERE email LIKE 'burst%'"
        )
        return [(pk, email, _timestamp(created), intent) for pk, email, created, intent in rows]

    def messages(self) -> list[tuple]:
        return self.rows(
            'SELECT m.id, m.lead_id, m.channel, m."to", m.body, m.purpose, m.status '
            "FROM sequences_message m JOIN leads_lead l ON l.id = m.lead_id "
            "WHERE l.email LIKE 'burst%' AND m.purpose IN ('acknowledgment', 'alert')"
        )

    def pending(self) -> int:
        return self.rows(
            "SELECT count(*) FROM sequences_message m JOIN leads_lead l ON l.id = m.lead_id "
            "WHERE l.email LIKE 'burst%' AND m.purpose IN ('acknowledgment', 'alert') "
            "AND m.status IN ('queued', 'sending')"
        )[0][0]


def _timestamp(value) -> float:
    if isinstance(value, str):  # SQLite: UTC as text
        value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
    return value.timestamp()


# --- The numbers ---------------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    if not values:
        return "n=0"
    return (
        f"p50 {statistics.median(values):6.2f} s · p95 {percentile(values, 0.95):6.2f} s · "
        f"max {max(values):6.2f} s (n={len(values)})"
    )


def analyse(burst: Burst, seconds: float, db: Database, texts, emails) -> list[str]:
    leads = db.leads()
    messages = db.messages()
    text_at, email_at = defaultdict(list), defaultdict(list)
    for text in texts:
        text_at[(text["to"], text["body"])].append(text["at"])
    for email in emails:
        email_at[email["reference"]].append(email["at"])

    by_lead = defaultdict(lambda: defaultdict(list))  # lead → purpose → [(channel, times)]
    for pk, lead_id, channel, to, body, purpose, status in messages:
        if status == "suppressed":  # e.g. a text without SMS consent: never meant to go
            continue
        times = text_at[(to, body)] if channel == "sms" else email_at[str(pk)]
        by_lead[lead_id][purpose].append(((channel, to), times))

    problems = Counter()
    emails_made = Counter(email for _, email, _, _ in leads)
    submitted = {f"burst{number}@example.com" for number, _, _ in burst.posts}
    problems["accepted POST without a lead"] = len(submitted - set(emails_made))
    problems["lead made twice"] = sum(1 for n in emails_made.values() if n > 1)
    ack, alert, windows = [], [], defaultdict(lambda: ([], []))
    hot = warm_alerted = 0
    for pk, _email, created, intent in leads:
        window = int((created - burst.started) // WINDOW)
        hot += intent == "hot"
        warm_alerted += intent != "hot" and bool(by_lead[pk]["alert"])
        for purpose, latencies, label in (("acknowledgment", ack, 0), ("alert", alert, 1)):
            sent = by_lead[pk][purpose]
            if not sent:
                if purpose == "acknowledgment" or intent == "hot":
                    problems[f"lead without an {purpose}"] += 1
                continue
            # One per channel and recipient (a claim offer alerts several agents, once each).
            channels = Counter(recipient for recipient, _ in sent)
            if any(n > 1 for n in channels.values()):
                problems[f"two {purpose}s to one recipient on one channel"] += 1
            for _recipient, times in sent:
                if len(times) > 1:
                    problems[f"{purpose} delivered twice"] += 1
                if not times:
                    problems[f"{purpose} never delivered"] += 1
            delivered = [min(times) for _, times in sent if times]
            # Latency: acknowledgments of every lead, alerts of the hot ones (a warm lead's
            # outreach alert is counted above, not timed).
            if delivered and (purpose == "acknowledgment" or intent == "hot"):
                latency = min(delivered) - created
                latencies.append(latency)
                windows[window][label].append(latency)

    post_seconds = [elapsed for _, _, elapsed in burst.posts]
    lines = [
        f"{len(burst.posts)} leads submitted in {seconds:.1f} s by {burst.prospects} concurrent "
        f"prospects: {len(leads) / seconds:.1f} leads/s ({len(leads)} leads, {hot} hot, {warm_alerted} warm with an outreach alert); "
        f"answers {dict(sorted(burst.answers.items()))}",
        f"  POST answered (redirect)            {spread(post_seconds)}",
        f"  lead created → acknowledgment       {spread(ack)}",
        f"  hot lead created → alert            {spread(alert)}",
        f"  per {WINDOW} s of the burst (by the lead's creation):",
    ]
    for window in sorted(windows):
        acks, alerts = windows[window]
        lines.append(
            f"    +{window * WINDOW:3d} s  ack {spread(acks)}\n            alert {spread(alerts)}"
        )
    wrong = {k: v for k, v in problems.items() if v}
    lines.append(
        "  every lead accounted for: "
        + (
            "yes (one lead per POST, one acknowledgment and alert each, none twice)"
            if not wrong
            else f"NO: {wrong}"
        )
    )
    return lines


# --- The run -------------------------------------------------------------------------------------


def fresh_postgres() -> str:
    drop_and_create(f"{PG}/{PG_DATABASE}")
    return f"{APP_PG}/{PG_DATABASE}"


def run(database: str, args) -> list[str]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = ROOT / "bench" / "results" / f"burst-{stamp}-{database}"
    logs.mkdir(parents=True, exist_ok=True)
    redis.Redis.from_url(REDIS_URL).flushdb()
    provider_port = PORT + 3
    provider, provider_stop = start_provider(provider_port, logs)
    with tempfile.TemporaryDirectory(prefix="realtycrm-burst-") as directory:
        sqlite_path = Path(directory) / "burst.sqlite3" if database == "sqlite" else None
        url = f"sqlite:///{sqlite_path}" if sqlite_path else fresh_postgres()
        env = cluster_env(
            {**os.environ, "PROXY_PORT": str(PORT)},
            DATABASE_URL=url,
            REDIS_URL=REDIS_URL,
            ALLOW_SQLITE_IN_PRODUCTION="true",
            Q_WORKERS="2",
            # A burst's alerts all go to the few demo agents: past the hourly cap they would be
            # grouped into one text at the end of the hour, and measure nothing.
            ALERT_SMS_PER_AGENT_PER_HOUR="100000",
            **provider_env(f"http://127.0.0.1:{provider_port}"),
        )
        cluster = Cluster(
            env, proxy_port=PORT, web_ports=(PORT + 1, PORT + 2), web_workers=3, logs=logs
        )
        db = Database(None if sqlite_path else url, sqlite_path)
        try:
            cluster.setup()
            cluster.manage("seed_demo", "--leads", "0")
            cluster.start()
            cluster.wait_ready()
            time.sleep(3)  # the qclusters' workers
            burst = Burst(cluster.url, args.prospects, args.seconds, args.seed)
            print(f"{database}: burst of {args.prospects} prospects for {args.seconds:.0f} s …")
            seconds = burst.run()
            drain_until = time.monotonic() + args.drain
            while db.pending() and time.monotonic() < drain_until:
                time.sleep(1)
            left = db.pending()
        finally:
            cluster.stop()
            provider_stop.set()
            provider.join(30)
        texts = read_jsonl(logs / "texts.jsonl")
        emails = read_jsonl(logs / "emails.jsonl")
        lines = [
            f"bench/burst.py --{database} --prospects {args.prospects} --seconds "
            f"{args.seconds:.0f}; run {stamp} (nginx → 2 gunicorn × 3 sync workers, 2 qclusters "
            f"× 2 workers, production settings, Redis cache; machine shared with other work)",
            *analyse(burst, seconds, db, texts, emails),
            "  load average at the end (1, 5, 15 min): "
            + ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        ]
        if left:
            lines.append(f"  {left} acknowledgments/alerts still due {args.drain:.0f} s after")
    (logs / "summary.txt").write_text("\n".join(lines) + "\n")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--prospects", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--drain", type=float, default=180, help="seconds to wait after")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    databases = [d for d in ("postgres", "sqlite") if getattr(args, d)] or ["postgres", "sqlite"]
    for database in databases:
        print("\n".join(run(database, args)), flush=True)


if __name__ == "__main__":
    main()

"""The fault harness: does the outbox send every due message once while everything fails?

    .venv/bin/python bench/faults.py [--prospects 500] [--minutes 6] [--kill-every 5]
                                     [--outage-seconds 90] [--no-pg-restart]
    make faults

What it runs (all on this machine, everything it starts is killed when it stops):

- a fresh PostgreSQL database, realtycrm_faults (dropped and created again at each run), and
  Redis database 5 (flushed), with DJANGO_SETTINGS_MODULE=realtycrm.settings.production;
- gunicorn (3 workers) serving the app on 127.0.0.1, and two `manage.py qcluster` processes
  (2 workers each) on the ORM broker; a ticker process runs the scheduler's tick
  (sequences_tick: due steps, lease recovery, drains) every 2 s, standing in for the
  one-minute schedule in compressed time (below);
- the real Twilio and SendGrid backends and SDKs, pointed at bench/fake_provider.py on
  127.0.0.1, which records every message it accepts, can answer 503, and withholds the answer
  to a share of the sends past PROVIDER_TIMEOUT_SECONDS (accepted, but the sender cannot know);
- a load of prospects submitting the six intake forms like a browser (GET the form for the
  CSRF cookie and the form token, POST it), several at a time.

The faults, on a timeline from the first submission:

- every --kill-every seconds (5) a SIGKILL: a django-q2 worker process (or its pusher or
  monitor) of one of the clusters, or a gunicorn worker, and every sixth time a whole qcluster
  (its process group), started again at once;
- the provider down (503 for texts, lookups and emails) for --outage-seconds (90), from t=30 s;
- PostgreSQL restarted once (pg_ctlcluster … restart) 20 s after the outage ends: this
  interrupts every other database user on the machine for a few seconds;
- 2 % of sends accepted with their answer withheld (the sender times out), the whole time.

Compressed time: MESSAGE_RETRY_BASE_SECONDS=1 makes the backoff's minute one second, so the
retries run 1, 2, 4, 8, 16 then every 30 s (MESSAGE_RETRY_MAX_DELAY_MINUTES=30 "minutes" of a
second): the 90 s outage is the outbox's view of a 90-minute outage, six times the old retry
budget (1+2+4+8 = 15 minutes, then `failed`). The retry horizon stays 24 real hours.
MESSAGE_LEASE_SECONDS=15 and PROVIDER_TIMEOUT_SECONDS=2 shorten the lease and the timeout the
same way; the tick runs every 2 s. Texts are allowed at any hour (SMS_SENDING_HOURS), so the
time of day does not matter.

Then the faults stop and it waits (to --minutes in all) until no message is due or sending,
stops everything and prints: submissions, leads, messages due, delivered, lost and delivered
twice, by channel (a text is identified by its number and body, an email by our message id
in its custom args). Logs and the summary stay in bench/results/faults-<time>/.
"""

import argparse
import base64
import contextlib
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_provider import FakeProvider
from harness import children, descendants

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORT = int(os.environ.get("FAULTS_PORT", "8793"))
PROVIDER_PORT = int(os.environ.get("FAULTS_PROVIDER_PORT", "8794"))
BASE = f"http://127.0.0.1:{PORT}"
PG = os.environ.get("FAULTS_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE = "realtycrm_faults"
REDIS_URL = "redis://127.0.0.1:6379/5"
TICK_SECONDS = 2

SLUG_ANSWERS = {
    "valuation": {"property_address": "{n} Elm Street, Springfield", "bedrooms": "3"},
    "listing-ad": {"property_address": "{n} Harbor View Drive"},
    "giveaway": {},
    "open-house": {"open_house": "48 Harbor View Drive, Sunday 1-3pm", "side": "buyer"},
    "website": {"inquiry_type": "buying", "message": "Any 3-bed homes near the park?"},
    "reactivation": {"side": "seller", "message": "Thinking of downsizing."},
}
TIMELINES = ["within_3_months", "3_to_6_months", "6_to_18_months", "just_curious"]

TICKER = f"""
import logging, time
from django.db import close_old_connections, connection
from sequences.services.enrollment import scheduler_tick
log = logging.getLogger("faults.ticker")
while True:
    try:
        close_old_connections()
        scheduler_tick()
    except Exception as exc:
        log.warning("tick failed: %s", exc)
        connection.close()
    time.sleep({TICK_SECONDS})
"""


def sendgrid_public_key() -> str:
    """A real P-256 public key in SendGrid's format (production refuses unsigned events)."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def provider_env(provider_url: str) -> dict:
    """The real Twilio and SendGrid backends and SDKs, pointed at the fake provider, and a load
    the forms let through (no minimum fill time, no per-IP cap, texts at any hour). Shared
    with bench/burst.py."""
    return {
        "SMS_BACKEND": "sequences.backends.twilio.TwilioBackend",
        "EMAIL_BACKEND": "sequences.backends.sendgrid.EmailBackend",
        "TWILIO_ACCOUNT_SID": "AC" + uuid.uuid4().hex,
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + uuid.uuid4().hex,
        "TWILIO_API_URL": provider_url,
        "SENDGRID_API_KEY": "SG.faults-" + secrets.token_hex(8),
        "SENDGRID_API_URL": provider_url,
        "SENDGRID_WEBHOOK_PUBLIC_KEY": sendgrid_public_key(),
        "INTAKE_MIN_FILL_SECONDS": "0",
        "INTAKE_RATE_LIMIT": "100000/m",
        "SMS_SENDING_HOURS": "00:00-24:00",
        "SMS_SENDING_HOURS_BY_STATE": "",
        "LOG_LEVEL": "WARNING",
    }


def env_for(provider_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "realtycrm.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": BASE,
        "DATABASE_URL": f"{PG}/{DATABASE}",
        "REDIS_URL": REDIS_URL,
        # Plain http on the loopback: no redirect to https, no HSTS. The cookies stay Secure
        # (production's default); the harness sends the CSRF cookie back itself.
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        **provider_env(provider_url),
        "PROVIDER_TIMEOUT_SECONDS": "2",
        "MESSAGE_LEASE_SECONDS": "15",
        "MESSAGE_RETRY_BASE_SECONDS": "1",
        "Q_WORKERS": "2",
        "PYTHONPATH": str(ROOT),
    }


# --- Processes -----------------------------------------------------------------------------------


class Processes:
    """Everything the harness started, by name, each in its own process group."""

    def __init__(self, env: dict, logs: Path):
        self.env, self.logs = env, logs
        self.running: dict[str, subprocess.Popen] = {}
        self.lock = threading.Lock()

    def manage(self, *args):
        with (self.logs / "setup.log").open("a") as log:
            subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=self.env,
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start(self, name: str):
        commands = {
            "web": [
                str(BIN / "gunicorn"),
                "realtycrm.wsgi",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                "3",
                "--timeout",
                "30",
                "--graceful-timeout",
                "3",
            ],
            "cluster-a": [sys.executable, "manage.py", "qcluster"],
            "cluster-b": [sys.executable, "manage.py", "qcluster"],
            "ticker": [sys.executable, "manage.py", "shell", "-c", TICKER],
        }
        log = (self.logs / f"{name}.log").open("a")
        with self.lock:
            self.running[name] = subprocess.Popen(
                commands[name],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill_group(self, name: str, sig=signal.SIGKILL):
        with self.lock:
            process = self.running.get(name)
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def restart_dead(self) -> list[str]:
        dead = [name for name, p in list(self.running.items()) if p.poll() is not None]
        for name in dead:
            self.kill_group(name)  # whatever is left of its group
            self.start(name)
        return dead

    def stop_all(self):
        for name in list(self.running):
            self.kill_group(name, signal.SIGTERM)
        for name in list(self.running):
            self.kill_group(name, signal.SIGKILL)


def leaves(pid: int) -> list[int]:
    """A qcluster's worker, pusher and monitor processes (never its main or sentinel)."""
    return [child for child in descendants(pid) if not children(child)]


# --- The load ------------------------------------------------------------------------------------


class Load:
    def __init__(self, prospects: int, seconds: float, threads: int, seed: int):
        self.rng = random.Random(seed)
        self.todo = list(range(prospects))
        self.interval = seconds / max(prospects, 1)
        self.threads = threads
        self.lock = threading.Lock()
        self.accepted: list[int] = []  # prospects whose POST was answered with the redirect
        self.answers: Counter = Counter()  # every answer (or error) to a GET or POST
        self.gave_up: list[int] = []
        self.started = time.monotonic()

    def run(self):
        workers = [threading.Thread(target=self._worker, daemon=True) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        return workers

    def _next(self):
        with self.lock:
            if not self.todo:
                return None
            number = self.todo.pop(0)
        due = self.started + number * self.interval
        time.sleep(max(0.0, due - time.monotonic()))
        return number

    def _worker(self):
        while (number := self._next()) is not None:
            for _ in range(8):  # a killed web worker or a database restart: try again
                outcome = self._submit(number)
                with self.lock:
                    self.answers[outcome] += 1
                if outcome == "POST 302":
                    with self.lock:
                        self.accepted.append(number)
                    break
                time.sleep(1)
            else:
                with self.lock:
                    self.gave_up.append(number)

    def _submit(self, number: int) -> str:
        slug = list(SLUG_ANSWERS)[number % len(SLUG_ANSWERS)]
        url = f"{BASE}/intake/{slug}/?utm_source=faults&utm_campaign=run"
        try:
            page = requests.get(url, timeout=15)
            if page.status_code != 200:
                return f"GET {page.status_code}"
            # The public forms carry a signed form token, no CSRF cookie (leads/forms.py).
            found = re.search(r'name="form_token" value="([^"]+)"', page.text)
            if found is None:
                return "GET without a form token"
            data = {
                "form_token": found.group(1),
                "first_name": f"Fault{number}",
                "last_name": "Prospect",
                "email": f"fault{number}@example.com",
                "phone": f"+1413556{number:04d}",
                "timeline": TIMELINES[number % len(TIMELINES)],
                **{k: v.format(n=number) for k, v in SLUG_ANSWERS[slug].items()},
            }
            if number % 10:  # nine in ten tick the SMS box
                data["sms_consent"] = "on"
            response = requests.post(
                url,
                data=data,
                headers={"Referer": url},
                allow_redirects=False,
                timeout=30,
            )
            return f"POST {response.status_code}"
        except requests.RequestException as exc:
            return f"error {type(exc).__name__}"


# --- Counting ------------------------------------------------------------------------------------


def database(dbname: str = DATABASE):
    return psycopg.connect(f"{PG}/{dbname}", autocommit=True)


def fresh_database():
    with database("postgres") as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    redis.Redis.from_url(REDIS_URL).flushdb()


def scalar(sql: str, *params):
    for _ in range(30):
        try:
            with database() as connection:
                return connection.execute(sql, params).fetchone()[0]
        except psycopg.OperationalError:
            time.sleep(1)  # the restart
    raise SystemExit("the database did not come back")


def pending(baseline: int) -> int:
    return scalar(
        "SELECT count(*) FROM sequences_message WHERE id > %s AND (status = 'sending' OR "
        "(status = 'queued' AND (scheduled_for <= now() OR attempts > 0)))",
        baseline,
    )


def report(
    baseline_message: int, baseline_lead: int, load: Load, fake: FakeProvider, started: float
) -> list:
    with database() as connection:
        rows = connection.execute(
            'SELECT id, channel, "to", body, status, attempts, possible_duplicate, audience, '
            "purpose, scheduled_for, status_reason, last_error FROM sequences_message "
            "WHERE id > %s ORDER BY id",
            (baseline_message,),
        ).fetchall()
        leads = connection.execute(
            "SELECT count(*) FROM leads_lead WHERE id > %s", (baseline_lead,)
        ).fetchone()[0]
        submissions = connection.execute(
            "SELECT status, count(*) FROM leads_submission GROUP BY status"
        ).fetchall()
    now = datetime.now(UTC)
    text_times, email_times = defaultdict(list), defaultdict(list)
    for text in fake.texts:
        text_times[(text["to"], text["body"])].append((text["at"] - started, text["withheld"]))
    for email in fake.emails:
        email_times[email["reference"]].append((email["at"] - started, email["withheld"]))
    texts = Counter({key: len(times) for key, times in text_times.items()})
    emails = Counter({key: len(times) for key, times in email_times.items()})
    sms_keys = Counter((r[2], r[3]) for r in rows if r[1] == "sms")
    by = defaultdict(Counter)
    lost, twice, ghosts, ambiguous = defaultdict(list), defaultdict(list), [], []
    for pk, channel, to, body, status, attempts, flagged, audience, *_rest in rows:
        scheduled_for = _rest[1]
        if status == "queued" and attempts == 0 and scheduled_for > now:
            by[channel]["not due yet"] += 1
            continue
        by[channel]["due"] += 1
        by[channel][f"status {status}"] += 1
        if flagged:
            by[channel]["flagged possible_duplicate"] += 1
        if channel == "sms":
            if sms_keys[(to, body)] > 1:
                ambiguous.append(pk)
            accepted = texts[(to, body)]
        else:
            accepted = emails[str(pk)]
        if accepted:
            by[channel]["delivered"] += 1
        if accepted > 1:
            times = text_times[(to, body)] if channel == "sms" else email_times[str(pk)]
            twice[channel].append((pk, accepted, audience, _rest[0], attempts, flagged, times))
        if status == "sent" and not accepted:
            ghosts.append(pk)
        if not accepted and status != "suppressed":
            lost[channel].append((pk, status, _rest[2], _rest[3] or ""))
        if status == "suppressed":
            by[channel]["suppressed"] += 1
    lines = [
        f"submissions: {len(load.accepted)} prospects answered with the thank-you redirect "
        f"(of {len(load.accepted) + len(load.gave_up)}; {len(load.gave_up)} gave up after 8 "
        f"tries); requests: {dict(sorted(load.answers.items()))}",
        "Submission rows: "
        + ", ".join(f"{status} {count}" for status, count in submissions)
        + " (received: stored as posted, never processed into a lead)",
        f"leads: {leads}",
    ]
    for channel in ("sms", "email"):
        counts = by[channel]
        lines.append(
            f"{channel}: due {counts['due']}, delivered {counts['delivered']}, "
            f"lost {len(lost[channel])}, delivered twice {len(twice[channel])}, "
            f"suppressed {counts['suppressed']}, flagged possible_duplicate by the outbox "
            f"{counts['flagged possible_duplicate']}, not due yet {counts['not due yet']}"
        )
        statuses = {k[7:]: v for k, v in sorted(counts.items()) if k.startswith("status ")}
        lines.append(f"  final statuses of the due {channel} messages: {statuses}")
        for pk, n, audience, purpose, attempts, flagged, times in twice[channel][:40]:
            lines.append(
                f"  delivered {n} times: {channel} {pk} ({audience} {purpose}, {attempts} "
                f"attempts, flagged {flagged}), accepted at t="
                + ", ".join(f"{t:.1f}" + (" (answer withheld)" if w else "") for t, w in times)
                + " s"
            )
        for pk, status, reason, error in lost[channel][:20]:
            lines.append(f"  lost {channel} {pk}: {status}: {reason} {error[:120]}")
    total_due = sum(by[c]["due"] for c in by)
    lines.append(
        f"all: due {total_due}, delivered {sum(by[c]['delivered'] for c in by)}, "
        f"lost {sum(len(v) for v in lost.values())}, "
        f"delivered twice {sum(len(v) for v in twice.values())}"
    )
    if ghosts:
        lines.append(f"recorded sent but never accepted by the provider: {ghosts[:50]}")
    if ambiguous:
        lines.append(f"texts sharing a number and a body (counted together): {ambiguous[:50]}")
    lines.append(f"provider requests: {dict(sorted(fake.counts.items()))}")
    return lines


# --- The run -------------------------------------------------------------------------------------


def pg_restart() -> float:
    versions = os.listdir("/etc/postgresql")
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "restart"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prospects", type=int, default=500)
    parser.add_argument("--load-seconds", type=float, default=150)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=6, help="the whole run, at most")
    parser.add_argument("--kill-every", type=float, default=5)
    parser.add_argument("--outage-start", type=float, default=30)
    parser.add_argument("--outage-seconds", type=float, default=90)
    parser.add_argument("--hang-fraction", type=float, default=0.02)
    parser.add_argument("--no-pg-restart", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    deadline = time.monotonic() + args.minutes * 60
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = ROOT / "bench" / "results" / f"faults-{stamp}"
    logs.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)

    fake = FakeProvider(port=PROVIDER_PORT, seed=args.seed).start()
    fake.delay = (0.0, 0.03)
    env = env_for(fake.url)
    procs = Processes(env, logs)
    events: list[str] = []

    def event(text: str):
        line = f"t={time.monotonic() - load.started:6.1f}s {text}"
        events.append(line)
        print(line, flush=True)

    try:
        fresh_database()
        procs.manage("migrate", "--no-input", "-v", "0")
        procs.manage("collectstatic", "--no-input", "-v", "0")
        procs.manage("setup_schedules")
        procs.manage("seed_demo", "--leads", "0")
        baseline_message = scalar("SELECT coalesce(max(id), 0) FROM sequences_message")
        baseline_lead = scalar("SELECT coalesce(max(id), 0) FROM leads_lead")
        for name in ("web", "cluster-a", "cluster-b", "ticker"):
            procs.start(name)
        for _ in range(150):
            try:
                if requests.get(f"{BASE}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            raise SystemExit(f"gunicorn did not start: see {logs}/web.log")
        time.sleep(3)

        load = Load(args.prospects, args.load_seconds, args.threads, args.seed)
        print(f"load: {args.prospects} prospects over {args.load_seconds:.0f} s; logs in {logs}")
        fake.hang_fraction = args.hang_fraction
        started = time.time()
        threads = load.run()
        outage_end = args.outage_start + args.outage_seconds
        pg_at = None if args.no_pg_restart else outage_end + 20
        chaos_end = max(args.load_seconds, outage_end, pg_at or 0) + 20
        kills, next_kill, outage = Counter(), args.kill_every, "before"
        while True:
            t = time.monotonic() - load.started
            if t >= chaos_end or time.monotonic() > deadline - 60:
                break
            if outage == "before" and t >= args.outage_start:
                fake.down, outage = True, "on"
                event("provider down (503)")
            elif outage == "on" and t >= outage_end:
                fake.down, outage = False, "after"
                event("provider back")
            if pg_at is not None and t >= pg_at:
                pg_at = None
                event(f"PostgreSQL restarted ({pg_restart():.1f} s)")
            if t >= next_kill:
                next_kill += args.kill_every
                number = sum(kills.values()) + 1
                if number % 6 == 0:
                    name = rng.choice(["cluster-a", "cluster-b"])
                    procs.kill_group(name)
                    procs.start(name)
                    kills["whole qcluster"] += 1
                    event(f"SIGKILL {name} (all its processes), started again")
                else:
                    name = rng.choice(["cluster-a", "cluster-b", "cluster-a", "cluster-b", "web"])
                    process = procs.running[name]
                    targets = children(process.pid) if name == "web" else leaves(process.pid)
                    if targets:
                        pid = rng.choice(targets)
                        try:
                            os.kill(pid, signal.SIGKILL)
                            kills["gunicorn worker" if name == "web" else "qcluster worker"] += 1
                            event(f"SIGKILL {name} process {pid}")
                        except ProcessLookupError:
                            pass
            for name in procs.restart_dead():
                event(f"{name} had stopped: started again")
            time.sleep(0.2)
        fake.hang_fraction = 0.0
        fake.down = False
        event(f"faults stop; kills: {dict(kills)}")
        for thread in threads:
            thread.join(timeout=max(1.0, deadline - time.monotonic() - 30))
        event("load done")
        quiet_since = None
        while time.monotonic() < deadline - 10:
            procs.restart_dead()
            if pending(baseline_message) == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 6:
                    break
            else:
                quiet_since = None
            time.sleep(1)
        event(f"settled: {pending(baseline_message)} messages still due or sending")
    finally:
        procs.stop_all()
        fake.stop()
        fake.save(logs)
    lines = [
        f"bench/faults.py --prospects {args.prospects} --minutes {args.minutes} --kill-every "
        f"{args.kill_every} --outage-seconds {args.outage_seconds} (from t={args.outage_start}"
        f" s) --hang-fraction {args.hang_fraction}"
        f"{' --no-pg-restart' if args.no_pg_restart else ''}; run {stamp}",
        *report(baseline_message, baseline_lead, load, fake, started),
    ]
    print("\n".join(lines))
    (logs / "summary.txt").write_text("\n".join([*events, *lines]) + "\n")
    if len(load.accepted) < args.prospects:
        # A run whose load did not get through measured nothing: say so, never a quiet zero.
        raise SystemExit(f"only {len(load.accepted)} of {args.prospects} prospects got through")


if __name__ == "__main__":
    main()

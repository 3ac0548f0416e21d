"""Speed to lead: from a form POST to the prospect's acknowledgment and to the owner's hot-lead
alert, each handed to the provider backend.

    .venv/bin/python bench/speed_to_lead.py [--submissions 200] [--pace 0.3]
    .venv/bin/python bench/speed_to_lead.py --concurrency 50 --seconds 60      # a burst
    .venv/bin/python bench/speed_to_lead.py --concurrency 50 --seconds 60 \
        --database-url postgres://postgres@127.0.0.1:5432/rc_dispatch_bench --gunicorn 2

Starts the app the way `make run` does, on a temporary SQLite database (never db.sqlite3):
migrate, setup_schedules, seed_demo, then `manage.py qcluster` and `manage.py runserver`
side by side. The backends are replaced by recording ones (bench/sequences_recording.py)
that append the moment of each hand-off to a file. Then it submits the valuation form
200 times, like a browser: GET the form (its signed form token), POST it with SMS consent,
one submission every --pace seconds. For each submission: seconds from just before the POST
to the first acknowledgment (text or email) handed to a backend; p50 and p95 are printed,
and the same for texts alone. Every submission is hot ("within 3 months"), so each also
interrupts its owner (a demo agent, by the shipped round-robin rule): seconds from just before
the POST to the alert text naming that lead handed to the backend.

With --concurrency N, N prospects submit side by side, each as fast as the server answers, for
--seconds (about 20 leads/s at 50 on this machine: a Facebook campaign's burst); the p95 is
also printed per third of the burst, so a backlog that grows shows as a rising p95.
--database-url runs on PostgreSQL (the database is dropped and created again; its name should
be yours alone), --gunicorn N serves with N gunicorn sync workers instead of runserver.
--workers sets Q_WORKERS for the qcluster. Environment passes through, so
MESSAGE_SEND_AFTER_COMMIT=worker (or thread, the default) compares the dispatch modes, and
REDIS_URL=redis://127.0.0.1:6379/1 puts django-q2 on Redis (that database is flushed first).
BENCH_SERVER_LOG=/path/file collects the web server's and the worker's stderr.

Times run from just before the POST (the lead's commit is inside it) to the hand-off.

Targets: p95 under 2 seconds for both (issues 3 and 4).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from harness import fresh_postgres, percentile, stop, wait_for_server

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8791"))
BASE = f"http://127.0.0.1:{PORT}"


def env_for(directory: str, database_url: str, workers: int) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "realtycrm.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": database_url or f"sqlite:///{directory}/bench.sqlite3",
        "Q_WORKERS": str(workers),
        "SMS_BACKEND": "bench.sequences_recording.RecordingSmsBackend",
        "EMAIL_BACKEND": "bench.sequences_recording.RecordingEmailBackend",
        "BENCH_HANDOFF_FILE": f"{directory}/handoffs.jsonl",
        "INTAKE_MIN_FILL_SECONDS": "0",
        "INTAKE_RATE_LIMIT": "100000/m",
        # Every hot lead's alert text goes on its own (a burst would otherwise fold them into
        # the hour's grouped text after a few per agent), so each one's latency is measured.
        "ALERT_SMS_PER_AGENT_PER_HOUR": "100000",
        # Texts at any hour, so the time of day the benchmark runs does not matter.
        "SMS_SENDING_HOURS": "00:00-24:00",
        "SMS_SENDING_HOURS_BY_STATE": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def manage(env, *args):
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def start(env, *args, program=("manage.py",)):
    log = os.environ.get("BENCH_SERVER_LOG")  # a file for the servers' errors, to read after
    return subprocess.Popen(
        [sys.executable, *program, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "a") if log else subprocess.DEVNULL,
        start_new_session=True,
    )


def fresh_redis(url: str) -> None:
    import redis

    redis.from_url(url).flushdb()


def submit(number: int, session=None) -> tuple[str, str, float, float]:
    """One browser-like submission. Returns (email, phone, POST started, POST seconds)."""
    session = session or requests.Session()
    page = session.get(f"{BASE}/intake/valuation/", timeout=60).text
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    email, phone = f"bench{number}@example.com", f"+1413{5560000 + number:07d}"
    data = {
        "form_token": token,
        "first_name": f"Bench{number}",
        "email": email,
        "phone": phone,
        "property_address": f"{number} Elm Street, Springfield",
        "timeline": "within_3_months",
        "sms_consent": "on",
    }
    started = time.time()
    response = session.post(
        f"{BASE}/intake/valuation/",
        data=data,
        headers={"Referer": f"{BASE}/intake/valuation/"},
        allow_redirects=False,
        timeout=60,
    )
    elapsed = time.time() - started
    if response.status_code != 302:
        raise SystemExit(f"submission {number}: HTTP {response.status_code}")
    return email, phone, started, elapsed


def burst(concurrency: int, seconds: float) -> list:
    """`concurrency` prospects submitting side by side, each as soon as its last one answered."""
    posts, lock, numbers = [], threading.Lock(), iter(range(10_000_000))
    deadline = time.time() + seconds

    def prospect():
        session = requests.Session()
        while time.time() < deadline:
            with lock:
                number = next(numbers)
            try:
                result = submit(number, session)
            except (requests.RequestException, SystemExit) as exc:
                print(f"  submission {number} failed: {exc}", file=sys.stderr)
                continue
            with lock:
                posts.append((number, *result))

    threads = [threading.Thread(target=prospect) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(posts)


def wait_for_handoffs(path: Path, posts: list, timeout: float) -> None:
    """Until every submission's acknowledgment and alert were handed over (or `timeout`)."""
    wanted = {f"bench{number}@example.com" for number, *_ in posts}
    wanted |= {f"Bench{number}" for number, *_ in posts}
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = path.read_text() if path.exists() else ""
        seen = set(re.findall(r'"to": "(bench\d+@example\.com)"', text))
        seen |= set(re.findall(r'"body": "HOT[^"]*?(Bench\d+)\b', text))
        if wanted <= seen:
            return
        time.sleep(1)


WRITTEN = (
    "import json; from sequences.models import Message; print('written:', json.dumps({m.pk: "
    "[m.purpose, m.created_at.timestamp()] for m in Message.objects.filter(purpose__in="
    "('acknowledgment', 'alert')).only('pk', 'purpose', 'created_at')}))"
)


def messages_written(env) -> dict[str, list]:
    """{message id: [purpose, when its row was written]}: the row is written in the lead's
    transaction, a few milliseconds before its commit."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", WRITTEN],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    line = [line for line in result.stdout.splitlines() if line.startswith("written:")][-1]
    return json.loads(line.removeprefix("written:"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--pace", type=float, default=0.3, help="seconds between submissions")
    parser.add_argument("--concurrency", type=int, default=0, help="a burst of N side by side")
    parser.add_argument("--seconds", type=float, default=60, help="how long the burst lasts")
    parser.add_argument("--database-url", default="", help="PostgreSQL (dropped, created)")
    parser.add_argument("--gunicorn", type=int, default=0, help="N gunicorn sync workers")
    parser.add_argument("--workers", type=int, default=2, help="Q_WORKERS for the qcluster")
    parser.add_argument(
        "--drain-timeout", type=float, default=180, help="after a burst: wait for the backlog"
    )
    args = parser.parse_args()
    if args.database_url:
        fresh_postgres(args.database_url)
    if os.environ.get("REDIS_URL"):
        fresh_redis(os.environ["REDIS_URL"])
    with tempfile.TemporaryDirectory(prefix="realtycrm-speed-bench-") as directory:
        env = env_for(directory, args.database_url, args.workers)
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "setup_schedules")
        manage(env, "seed_demo")
        if args.gunicorn:
            web = start(
                env,
                "realtycrm.wsgi",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                str(args.gunicorn),
                program=("-m", "gunicorn"),
            )
        else:
            web = start(env, "runserver", "--noreload", f"127.0.0.1:{PORT}")
        worker = start(env, "qcluster")
        try:
            wait_for_server(BASE, tries=300, timeout=1)
            time.sleep(3)  # the worker's processes are up
            if args.concurrency:
                numbered = burst(args.concurrency, args.seconds)
                wait_for_handoffs(Path(env["BENCH_HANDOFF_FILE"]), numbered, args.drain_timeout)
            else:
                numbered = []
                for number in range(args.submissions):
                    numbered.append((number, *submit(number)))
                    time.sleep(args.pace)
                time.sleep(5)  # the last acknowledgments
        finally:
            stop(web)
            stop(worker)
        written = messages_written(env)
        handoffs = [
            json.loads(line)
            for line in Path(env["BENCH_HANDOFF_FILE"]).read_text().splitlines()
            if line.strip()
        ]
    first_at: dict[str, float] = {}
    for handoff in handoffs:
        first_at[handoff["to"]] = min(first_at.get(handoff["to"], handoff["at"]), handoff["at"])
    alert_at: dict[str, float] = {}
    for handoff in handoffs:
        match = re.search(r"(Bench\d+)\b", handoff.get("body", ""))
        if handoff["channel"] == "sms" and handoff["body"].startswith("HOT") and match:
            alert_at.setdefault(match.group(1), handoff["at"])
    posts = numbered
    alerts = [
        alert_at[f"Bench{number}"] - started
        for number, _, _, started, _ in posts
        if f"Bench{number}" in alert_at
    ]
    any_ack, sms_ack, missing, ack_by_start = [], [], 0, []
    for _, email, phone, started, _ in posts:
        times = [first_at[to] for to in (email, phone) if to in first_at]
        if not times:
            missing += 1
            continue
        any_ack.append(min(times) - started)
        ack_by_start.append((started, min(times) - started))
        if phone in first_at:
            sms_ack.append(first_at[phone] - started)
    post_seconds = [elapsed for *_, elapsed in posts]
    vendor = "PostgreSQL" if args.database_url else "SQLite"
    web_kind = f"gunicorn x{args.gunicorn}" if args.gunicorn else "runserver"
    mode = os.environ.get("MESSAGE_SEND_AFTER_COMMIT", "default")
    broker = "Redis" if os.environ.get("REDIS_URL") else "ORM"
    if args.concurrency:
        spread = max(p[3] for p in posts) - min(p[3] for p in posts) if posts else 0
        shape = f"{args.concurrency} side by side for {args.seconds:.0f} s, "
        shape += f"{len(posts) / max(spread, 0.001):.1f} leads/s"
    else:
        shape = f"one every {args.pace}s"
    print(
        f"{len(posts)} valuation submissions to {web_kind} + qcluster ({vendor}, {broker} broker, "
        f"Q_WORKERS={args.workers}, MESSAGE_SEND_AFTER_COMMIT={mode}; {shape}); "
        "machine shared with other work while this ran"
    )
    # From the row's write (in the lead's transaction, just before its commit) to the hand-off.
    from_write: dict[str, list[float]] = {"acknowledgment": [], "alert": []}
    for handoff in handoffs:
        purpose, at = written.get(str(handoff["ref"]), (None, None))
        if purpose in from_write:
            from_write[purpose].append(handoff["at"] - at)
    for label, values in (
        ("written → acknowledgment handed over (each)", from_write["acknowledgment"]),
        ("written → alert to the agent handed over (each)", from_write["alert"]),
        ("POST → first acknowledgment handed over", any_ack),
        ("POST → acknowledgment text handed over", sms_ack),
        ("POST → owner's hot-lead alert text handed over", alerts),
        ("POST answered (redirect to thank-you)", post_seconds),
    ):
        if not values:
            print(f"  {label:<48} none")
            continue
        print(
            f"  {label:<48} p50 {statistics.median(values):.3f} s · "
            f"p95 {percentile(values, 0.95):.3f} s · max {max(values):.3f} s (n={len(values)})"
        )
    if args.concurrency and len(ack_by_start) >= 3:
        ack_by_start.sort()
        third = len(ack_by_start) // 3
        parts = [ack_by_start[:third], ack_by_start[third : 2 * third], ack_by_start[2 * third :]]
        print(
            "  acknowledgment p95 by third of the burst: "
            + " · ".join(f"{percentile([v for _, v in part], 0.95):.3f} s" for part in parts)
        )
    if missing:
        print(f"  {missing} submissions got no acknowledgment within the run")
    if len(alerts) < len(posts):
        print(f"  {len(posts) - len(alerts)} submissions alerted nobody within the run")


if __name__ == "__main__":
    main()

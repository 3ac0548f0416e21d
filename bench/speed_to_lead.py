"""Speed to lead: from a form POST to the prospect's acknowledgment and to the owner's hot-lead
alert, each handed to the provider backend.

    .venv/bin/python bench/speed_to_lead.py [--submissions 200] [--pace 0.3]

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

Targets: p95 under 2 seconds for both (issues 3 and 4).
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8791"))
BASE = f"http://127.0.0.1:{PORT}"


def env_for(directory: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "realtycrm.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{directory}/bench.sqlite3",
        "SMS_BACKEND": "bench.sequences_recording.RecordingSmsBackend",
        "EMAIL_BACKEND": "bench.sequences_recording.RecordingEmailBackend",
        "BENCH_HANDOFF_FILE": f"{directory}/handoffs.jsonl",
        "INTAKE_MIN_FILL_SECONDS": "0",
        "INTAKE_RATE_LIMIT": "100000/m",
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


def start(env, *args):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process):
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def wait_for_server():
    for _ in range(100):
        try:
            if requests.get(f"{BASE}/healthz", timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise SystemExit("the web server did not start")


def submit(number: int) -> tuple[str, str, float, float]:
    """One browser-like submission. Returns (email, phone, POST started, POST seconds)."""
    session = requests.Session()
    page = session.get(f"{BASE}/intake/valuation/", timeout=10).text
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    email, phone = f"bench{number}@example.com", f"+1413556{number:04d}"
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
        timeout=30,
    )
    elapsed = time.time() - started
    if response.status_code != 302:
        raise SystemExit(f"submission {number}: HTTP {response.status_code}")
    return email, phone, started, elapsed


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--pace", type=float, default=0.3, help="seconds between submissions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="realtycrm-speed-bench-") as directory:
        env = env_for(directory)
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "setup_schedules")
        manage(env, "seed_demo")
        worker, web = start(env, "qcluster"), start(env, "runserver", f"127.0.0.1:{PORT}")
        try:
            wait_for_server()
            time.sleep(3)  # the worker's processes are up
            posts = []
            for number in range(args.submissions):
                posts.append(submit(number))
                time.sleep(args.pace)
            time.sleep(5)  # the last acknowledgments
        finally:
            stop(web)
            stop(worker)
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
    alerts = [
        alert_at[f"Bench{number}"] - started
        for number, (_, _, started, _) in enumerate(posts)
        if f"Bench{number}" in alert_at
    ]
    any_ack, sms_ack, missing = [], [], 0
    for email, phone, started, _ in posts:
        times = [first_at[to] for to in (email, phone) if to in first_at]
        if not times:
            missing += 1
            continue
        any_ack.append(min(times) - started)
        if phone in first_at:
            sms_ack.append(first_at[phone] - started)
    post_seconds = [elapsed for *_, elapsed in posts]
    print(
        f"{args.submissions} valuation submissions to runserver + qcluster (SQLite, "
        f"one every {args.pace}s); machine shared with other work while this ran"
    )
    for label, values in (
        ("POST → first acknowledgment handed over", any_ack),
        ("POST → acknowledgment text handed over", sms_ack),
        ("POST → owner's hot-lead alert text handed over", alerts),
        ("POST answered (redirect to thank-you)", post_seconds),
    ):
        print(
            f"  {label:<48} p50 {statistics.median(values):.3f} s · "
            f"p95 {percentile(values, 0.95):.3f} s · max {max(values):.3f} s (n={len(values)})"
        )
    if missing:
        print(f"  {missing} submissions got no acknowledgment within the run")
    if len(alerts) < len(posts):
        print(f"  {len(posts) - len(alerts)} submissions alerted nobody within the run")


if __name__ == "__main__":
    main()

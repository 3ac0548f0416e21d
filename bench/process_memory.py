"""How much memory one of our processes holds, and what fills it: a fresh process per run.

    .venv/bin/python bench/process_memory.py [--runs 5] [--imports]

Each run starts a new Python (realtycrm.settings.production, DEBUG off, the recording backends,
its own PostgreSQL database rc_peer_mem, migrated and seeded once) that does what a web worker
and then a django-q2 worker do: import the WSGI application, answer the valuation form (GET and
POST), the broker's leads list, a lead's page and Today, then send the messages the POST queued
through the task a qcluster worker runs (sequences.tasks.message_dispatch). It prints VmRSS, PSS
and private memory (/proc/self/status, smaps_rollup) after each stage, and whether the phone
library's geocoder (or another heavy module) was loaded. Medians and ranges over --runs.

--imports also prints, for one more run, what each large third-party package's first import
allocated (tracemalloc, inclusive of what it pulled in) and which of our modules imported it.

Live gunicorn and qcluster processes after real traffic: bench/peer_compare.py, section (c).
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE = "rc_peer_mem"

CHILD = r"""
import importlib._bootstrap as bootstrap, json, re, sys, time
sys.path.insert(0, "bench")
from process_probe import WATCHED, memory

TRACE = IMPORTS
found, stages = [], {}
if TRACE:
    import tracemalloc
    tracemalloc.start()
    PACKAGES = {"ninja", "pydantic", "psycopg", "requests", "sendgrid", "twilio", "icalendar",
                "phonenumbers", "cryptography", "py_vapid", "redis", "django_q", "django_filters",
                "crispy_forms", "axes", "whitenoise", "openpyxl", "pywebpush", "http_ece",
                "dateutil", "urllib3", "charset_normalizer", "django_htmx"}
    original = bootstrap._find_and_load

    def ours_importing():
        frame, chain = sys._getframe(2), []
        while frame and len(chain) < 3:
            name = frame.f_code.co_filename
            if name.startswith(ROOT) and "site-packages" not in name:
                chain.append(name[len(ROOT) + 1:] + ":" + str(frame.f_lineno))
            frame = frame.f_back
        return " < ".join(chain) or "(django, at setup)"

    def traced(name, import_):
        if name in PACKAGES and name not in sys.modules:
            before, caller = tracemalloc.get_traced_memory()[0], ours_importing()
            module = original(name, import_)
            found.append((name, (tracemalloc.get_traced_memory()[0] - before) / 2**20, caller))
            return module
        return original(name, import_)

    bootstrap._find_and_load = traced

stages["python"] = memory()
import django
django.setup()
stages["django.setup()"] = memory()
from realtycrm.wsgi import application
from django.urls import get_resolver
get_resolver().url_patterns
stages["WSGI app + URLconf"] = memory()

from django.contrib.auth.models import User
from django.test import Client
from leads.models import Lead
from sequences.models import Message
client = Client(HTTP_HOST="127.0.0.1")
page = client.get("/intake/valuation/").content.decode()
token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
number = int(time.time() * 1000) % 10**6
answer = client.post("/intake/valuation/", {
    "form_token": token, "first_name": "Memory", "last_name": "Probe",
    "email": f"memory{number}@example.com", "phone": f"+14137{number:06d}",
    "property_address": "1 Elm Street", "timeline": "within_3_months", "sms_consent": "on"})
assert answer.status_code == 302, answer.status_code
client.force_login(User.objects.get(username="broker"))
lead = Lead.objects.order_by("-id").first()
for url in ("/leads/", f"/leads/{lead.id}/", "/"):
    assert client.get(url).status_code == 200, url
stages["web: form, list, lead, Today"] = memory()

from sequences.tasks import message_dispatch
for message_id in Message.objects.filter(lead=lead, status="queued").values_list("id", flat=True):
    message_dispatch(message_id)
stages["worker: the lead's messages sent"] = memory()
print(json.dumps({"stages": stages, "watched": [m for m in WATCHED if m in sys.modules],
                  "modules": len(sys.modules), "imports": found}))
"""


def env() -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "realtycrm.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1:8852",
        "DATABASE_URL": f"{PG}/{DATABASE}",
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SMS_BACKEND": "bench.sequences_recording.RecordingSmsBackend",
        "EMAIL_BACKEND": "bench.sequences_recording.RecordingEmailBackend",
        "BENCH_HANDOFF_FILE": "/dev/null",
        "INTAKE_MIN_FILL_SECONDS": "0",
        "INTAKE_RATE_LIMIT": "1000000/m",
        "SMS_SENDING_HOURS": "00:00-24:00",
        "SMS_SENDING_HOURS_BY_STATE": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def prepare():
    """Create, migrate and seed the database the first time; migrate it again every time (a
    database made by an older checkout lacks the newer tables)."""
    steps = [("migrate", "--no-input", "-v", "0")]
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
            steps += [
                ("collectstatic", "--no-input", "-v", "0"),
                ("setup_schedules",),
                ("seed_demo", "--leads", "50"),
            ]
    for args in steps:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )


def run(imports: bool) -> dict:
    code = CHILD.replace("IMPORTS", str(imports)).replace("ROOT", repr(str(ROOT)))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env(), capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"the measured process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--imports", action="store_true")
    args = parser.parse_args()
    prepare()
    results = [run(False) for _ in range(args.runs)]
    print(
        f"One fresh process per run, {args.runs} runs: MB, median (range);"
        " realtycrm.settings.production, DEBUG off"
    )
    print(f"  {'after':<36} {'RSS':>20} {'PSS':>20} {'private':>20}")
    for stage in results[0]["stages"]:
        cells = []
        for key in ("rss", "pss", "private"):
            values = [r["stages"][stage].get(key, 0) for r in results]
            cells.append(
                f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})".rjust(20)
            )
        print(f"  {stage:<36} {' '.join(cells)}")
    last = results[-1]
    print(f"  modules loaded: {last['modules']}; heavy ones: {', '.join(last['watched'])}")
    geocoder = (
        "phonenumbers.geocoder" in last["watched"] or "phonenumbers.geodata" in last["watched"]
    )
    print(f"  phone geocoder loaded: {'YES' if geocoder else 'no'}")
    if args.imports:
        traced = run(True)
        print("\nFirst import of each large package: Python allocations (tracemalloc), inclusive")
        for name, megabytes, caller in sorted(traced["imports"], key=lambda row: -row[1]):
            if megabytes >= 0.1:
                print(f"  {name:<20} {megabytes:5.1f} MB  imported by {caller}")


if __name__ == "__main__":
    main()

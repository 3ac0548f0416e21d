"""RealtyCRM against an open-source peer, DjangoCRM, in one run on this machine.

    .venv/bin/python bench/peer_compare.py --peer /work/peer [--leads 10000] [--clients 10]
        [--seconds 20] [--rounds 3] [--list-requests 150] [--ours-only]

Both apps run on PostgreSQL (fresh databases rc_peer_ours and rc_peer_theirs, dropped and created
at each run), each behind gunicorn with 2 sync workers, DEBUG off, on 127.0.0.1 (ours on
BENCH_PORT 8850, the peer on 8851). They are measured in turn, never at the same time, round by
round (ours, theirs, ours, theirs...), so a burst of other work on this shared machine hits both.

What it measures:

(a) Intake: --clients concurrent prospects for --seconds, like a browser: GET the public form
    (ours: the valuation form, its signed form token; theirs: the contact form, its CSRF token
    and cookie), then POST it. Accepted leads/s, POST p50/p95, errors; the leads are counted in
    each database afterwards (ours: leads_lead, theirs: crm_request), not just the answers.
(b) A list: ours, the leads list signed in as the broker (25 a page); theirs, the Requests list
    and the Leads list signed in as the superuser (30 and 100 a page), over the first 20 pages
    (fewer when --leads fills fewer), one request at a time: p50/p95. SQL queries per page, and
    per form POST, are counted in a separate process with the same settings (Django's
    CaptureQueriesContext through the test client).
(c) Memory after the list benchmark: VmRSS, PSS and private memory (/proc/PID/status and
    smaps_rollup) of each gunicorn worker, and of our django-q2 cluster's processes after they
    have sent the intake's acknowledgments. Each worker is asked what it has imported (the
    phone library's geocoder must not be there) through bench/process_probe.py: a gunicorn
    post_request hook for the web workers, a django-q2 task for the cluster's workers.

The peer (https://github.com/DjangoCRM/django-crm), set up outside this repository; its code is
never committed here. Steps this script expects done once (it does the rest itself):

    # a checkout of the peer in /work/peer (any way: git clone, git archive of a mirror)
    cd /work/peer
    # Django 6 needs Python 3.12 or later (ours runs on 3.11)
    python3.12 -m venv .venv
    # its requirements.txt without mysqlclient (MySQL is not used), plus PostgreSQL and gunicorn
    grep -vi mysqlclient requirements.txt > requirements-bench.txt
    printf 'psycopg[binary]\\ngunicorn\\n' >> requirements-bench.txt
    .venv/bin/pip install -r requirements-bench.txt

Then at each run this script writes /work/peer/bench_settings.py (their settings, with PostgreSQL,
DEBUG off, ALLOWED_HOSTS and a dummy email backend) and runs their own `manage.py setupdata`
(migrate, the shipped fixtures, a superuser and a sales manager). Their contact form needs an
address to file the request under: with no lead-source email and no user in the "operators"
group every POST answers 500 (`'NoneType' object has no attribute 'email'` in
crm/utils/create_form_request.py), so the script sets the email of the shipped lead source
"website form (iframe)" (the form used here: /en/contact-form/206f5c03-.../), as their
installation guide says to. --leads requests and --leads leads are bulk-inserted for their lists,
--leads leads for ours (plus ours' demo agents and rules: `seed_demo --leads 0`).

Ours runs with realtycrm.settings.production (Redis database 12 for the cache, flushed), the
recording SMS and email backends (bench/sequences_recording.py), INTAKE_MIN_FILL_SECONDS=0 and a
high INTAKE_RATE_LIMIT (one IP sends everything). The qcluster is started after the intake and
list rounds, so neither app has a background process competing with its web workers while it
is measured (the peer has none; it sends its notification emails in the request).

The machine has 2 cores shared with other work: the numbers move from run to run; compare the
two apps within one run, and read the spread across rounds.
"""

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import redis
import requests
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import children, descendants, fresh_postgres, percentile, stop
from process_probe import memory

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
OURS_PORT = int(os.environ.get("BENCH_PORT", "8850"))
THEIRS_PORT = OURS_PORT + 1
OURS_DB, THEIRS_DB = "rc_peer_ours", "rc_peer_theirs"
REDIS_URL = "redis://127.0.0.1:6379/12"
PEER_FORM_UUID = "206f5c03-3f16-4341-851e-d446dce45aa0"  # their fixture "website form (iframe)"
PROBE = str(Path(__file__).resolve().parent / "process_probe.py")

PEER_SETTINGS = """\
# Written by RealtyCRM's bench/peer_compare.py at each run: the peer on PostgreSQL, DEBUG off.
from webcrm.settings import *  # noqa

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "NAME": "{db}",
             "USER": "postgres", "PASSWORD": "", "HOST": "127.0.0.1", "PORT": "5432"}}}}
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
"""

# Bulk-inserted list data, run with each app's own `manage.py shell -c`.
FILL_OURS = """
import random
from datetime import timedelta
from django.contrib.auth.models import User
from django.utils import timezone
from leads.models import Agent, Lead
rng = random.Random(2026)
now = timezone.now()
agents = list(User.objects.filter(agent__role=Agent.Role.AGENT))
timelines = {"within_3_months": "hot", "3_to_6_months": "hot", "6_to_18_months": "warm",
             "just_curious": "long_term"}
batch = []
for index in range(COUNT):
    timeline = rng.choice(list(timelines))
    created = now - timedelta(minutes=rng.uniform(1, 60 * 24 * 365))
    batch.append(Lead(
        first_name=f"Fill{index}", last_name=rng.choice(["Smith", "Garcia", "Nguyen", "Okafor"]),
        email=f"fill{index}@example.com", phone=f"+1413{index:07d}",
        source=rng.choice(["valuation", "listing_ad", "giveaway", "open_house", "website"]),
        timeline=timeline, intent=timelines[timeline], side="seller",
        property_address=f"{index} Elm Street", owner=agents[index % len(agents)],
        stage="new", created_at=created, last_inquiry_at=created))
Lead.objects.bulk_create(batch, batch_size=5000)
"""

FILL_THEIRS = """
import random
from datetime import timedelta
from django.contrib.auth.models import User
from django.utils import timezone
from crm.models import Lead, LeadSource, Request
from crm.utils.ticketproc import new_ticket
rng = random.Random(2026)
LeadSource.objects.filter(uuid="UUID").update(email="sales@example.com")
source = LeadSource.objects.get(uuid="UUID")
owner = User.objects.get(username="IamSALES")
today = timezone.localdate()
requests_, leads = [], []
for index in range(COUNT):
    last = rng.choice(["Smith", "Garcia", "Nguyen", "Okafor"])
    requests_.append(Request(
        first_name=f"Fill{index}", last_name=last, email=f"fill{index}@example.com",
        phone=f"+1413{index:07d}", request_for="Home valuation",
        description=f"{index} Elm Street", department=source.department,
        receipt_date=today - timedelta(days=rng.randint(0, 365)), lead_source=source,
        ticket=new_ticket(), owner=owner))
    leads.append(Lead(
        first_name=f"Fill{index}", last_name=last, email=f"fill{index}@example.com",
        phone=f"+1413{index:07d}", department=source.department, lead_source=source,
        owner=owner))
Request.objects.bulk_create(requests_, batch_size=5000)
Lead.objects.bulk_create(leads, batch_size=5000)
"""

# A signed-in session for the list benchmark, and the SQL queries of a few list pages.
SESSION_AND_QUERIES = """
import json
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(User.objects.get(username="USERNAME"))
counts = {}
for url in URLS:
    client.get(url)  # warm: the first request of a process fills caches
    with CaptureQueriesContext(connection) as queries:
        status = client.get(url).status_code
    counts[url] = [status, len(queries.captured_queries)]
print(json.dumps({"session": client.cookies[settings.SESSION_COOKIE_NAME].value,
                  "queries": counts}))
"""


# SQL queries of one public-form POST (the page GET for its token not counted), in-process.
INTAKE_QUERIES = """
import json, re
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
counts = []
for number in range(900000, 900005):
    client = Client(HTTP_HOST="127.0.0.1")
    page = client.get(__FORM__).content.decode()
    token = re.search(__TOKEN_RE__, page).group(1)
    data = {key: value.replace("NUMBER", str(number)).replace("TOKEN", token)
            for key, value in __DATA__.items()}
    with CaptureQueriesContext(connection) as queries:
        status = client.post(__FORM__, data).status_code
    counts.append([status, len(queries.captured_queries)])
print(json.dumps(counts))
"""


def spread(values, unit="", digits=1):
    """Median with the range across rounds: '12.3 (11.0-14.1)'."""
    if not values:
        return "-"
    fmt = f"{{:.{digits}f}}"
    median = fmt.format(statistics.median(values))
    if len(values) == 1:
        return f"{median}{unit}"
    return f"{median}{unit} ({fmt.format(min(values))}-{fmt.format(max(values))})"


# --- The two apps ----------------------------------------------------------------------------------


class App:
    """One app under test: how to run its commands, its gunicorn, its form and its lists."""

    name: str
    port: int
    database: str

    def __init__(self, logs: Path):
        self.logs = logs
        self.server: subprocess.Popen | None = None
        self.session = ""
        self.queries: dict[str, list[int]] = {}
        self.post_queries: list[list[int]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, *args, capture=False) -> str:
        log = (self.logs / f"{self.name}-setup.log").open("a")
        done = subprocess.run(
            [self.python, "manage.py", *args],
            cwd=self.cwd,
            env=self.env,
            check=True,
            stdout=subprocess.PIPE if capture else log,
            stderr=log,
            text=True,
        )
        return done.stdout or ""

    def shell(self, code: str, capture=False) -> str:
        return self.run("shell", "-c", code, capture=capture)

    def start(self, preload: bool = False):
        log = (self.logs / f"{self.name}-gunicorn.log").open("a")
        self.server = subprocess.Popen(
            [
                self.gunicorn,
                *(["--preload"] if preload else []),
                self.wsgi,
                "--config",
                PROBE,
                "--workers",
                "2",
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
            ],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(150):
            try:
                requests.get(self.form_url, timeout=30)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise SystemExit(f"{self.name}: gunicorn did not start (see {log.name})")

    def workers(self) -> list[int]:
        return children(self.server.pid) if self.server else []

    def stop(self):
        if self.server is not None:
            stop(self.server)
            self.server = None

    def count(self) -> int:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(self.count_table))
        with psycopg.connect(f"{PG}/{self.database}") as conn:
            return conn.execute(query).fetchone()[0]

    def intake_queries(self) -> list[list[int]]:
        """[status, queries] of five form POSTs (new prospects), counted in-process."""
        code = (
            INTAKE_QUERIES.replace("__FORM__", repr(self.form_path))
            .replace("__TOKEN_RE__", repr(self.hidden_field_re))
            .replace("__DATA__", repr(self.form_data("NUMBER", "TOKEN")))
        )
        return json.loads(self.shell(code, capture=True).strip().splitlines()[-1])

    def submit(self, http: requests.Session, number: int) -> tuple[bool, float]:
        page = http.get(self.form_url, timeout=30)  # their CSRF cookie too, like a browser
        token = re.search(self.hidden_field_re, page.text).group(1)
        started = time.perf_counter()
        answer = http.post(
            self.form_url,
            data=self.form_data(str(number), token),
            headers={"Referer": self.form_url},
            allow_redirects=False,
            timeout=60,
        )
        return self.accepted(answer), time.perf_counter() - started

    def sign_in(self, username: str, urls: list[str]):
        code = SESSION_AND_QUERIES.replace("USERNAME", username).replace("URLS", repr(urls))
        found = json.loads(self.shell(code, capture=True).strip().splitlines()[-1])
        self.session, self.queries = found["session"], found["queries"]


class Ours(App):
    name, port, database = "RealtyCRM", OURS_PORT, OURS_DB
    python, gunicorn, cwd, wsgi = sys.executable, str(BIN / "gunicorn"), ROOT, "realtycrm.wsgi"
    count_table = "leads_lead"
    form_path = "/intake/valuation/"
    lists = {"leads list (25 a page)": ("/leads/?page={page}", 25)}

    def __init__(self, logs: Path):
        super().__init__(logs)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "realtycrm.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "127.0.0.1,testserver",
            "SITE_URL": self.base,
            "DATABASE_URL": f"{PG}/{self.database}",
            "REDIS_URL": REDIS_URL,
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "SMS_BACKEND": "bench.sequences_recording.RecordingSmsBackend",
            "EMAIL_BACKEND": "bench.sequences_recording.RecordingEmailBackend",
            "BENCH_HANDOFF_FILE": str(logs / "handoffs.jsonl"),
            "PROBE_FILE": str(logs / "probe.jsonl"),
            "INTAKE_MIN_FILL_SECONDS": "0",
            "INTAKE_RATE_LIMIT": "1000000/m",
            "SMS_SENDING_HOURS": "00:00-24:00",
            "SMS_SENDING_HOURS_BY_STATE": "",
            "Q_WORKERS": "2",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        self.cluster: subprocess.Popen | None = None

    @property
    def form_url(self) -> str:
        return self.base + self.form_path

    def set_up(self, leads: int):
        redis.Redis.from_url(REDIS_URL).flushdb()
        self.run("migrate", "--no-input", "-v", "0")
        self.run("collectstatic", "--no-input", "-v", "0")
        self.run("setup_schedules")
        self.run("seed_demo", "--leads", "0")
        self.shell(FILL_OURS.replace("COUNT", str(leads)))
        self.sign_in("broker", ["/leads/?page=1", "/leads/?page=5"])

    hidden_field_re = r'name="form_token" value="([^"]+)"'

    @staticmethod
    def form_data(number: str, token: str) -> dict:
        return {
            "form_token": token,
            "first_name": f"Bench{number}",
            "last_name": "Prospect",
            "email": f"bench{number}@example.com",
            "phone": f"+14136{number:0>6}",
            "property_address": f"{number} Elm Street, Springfield",
            "timeline": "within_3_months",
            "sms_consent": "on",
        }

    @staticmethod
    def accepted(answer) -> bool:
        return answer.status_code == 302  # to the thank-you page

    def start_cluster(self):
        log = (self.logs / "qcluster.log").open("a")
        self.cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def outbox(self) -> dict[str, int]:
        with psycopg.connect(f"{PG}/{self.database}") as conn:
            rows = conn.execute(
                "SELECT status, count(*) FROM sequences_message GROUP BY status"
            ).fetchall()
        return dict(rows)

    def queue_depth(self) -> int:
        """Tasks waiting in django-q2's ORM broker (a message's dispatch is one of them)."""
        with psycopg.connect(f"{PG}/{self.database}") as conn:
            return conn.execute("SELECT count(*) FROM django_q_ormq").fetchone()[0]

    def stop(self):
        super().stop()
        if self.cluster is not None:
            stop(self.cluster)
            self.cluster = None


class Theirs(App):
    name, port, database = "DjangoCRM", THEIRS_PORT, THEIRS_DB
    wsgi = "webcrm.wsgi"
    count_table = "crm_request"
    form_path = f"/en/contact-form/{PEER_FORM_UUID}/"
    lists = {
        "Requests list (30 a page)": ("/en/123/crm/request/?p={page}", 30),
        "Leads list (100 a page)": ("/en/123/crm/lead/?p={page}", 100),
    }

    def __init__(self, logs: Path, peer: Path):
        super().__init__(logs)
        self.cwd = peer
        self.python = str(peer / ".venv/bin/python")
        self.gunicorn = str(peer / ".venv/bin/gunicorn")
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PROBE_FILE": str(logs / "probe.jsonl"),
        }

    @property
    def form_url(self) -> str:
        return self.base + self.form_path

    def set_up(self, leads: int):
        (self.cwd / "bench_settings.py").write_text(PEER_SETTINGS.format(db=self.database))
        self.run("setupdata")
        self.shell(FILL_THEIRS.replace("COUNT", str(leads)).replace("UUID", PEER_FORM_UUID))
        self.sign_in(
            "IamSUPER",
            ["/en/123/crm/request/?p=1", "/en/123/crm/request/?p=5", "/en/123/crm/lead/?p=1"],
        )

    hidden_field_re = r'name="csrfmiddlewaretoken" value="([^"]+)"'

    @staticmethod
    def form_data(number: str, token: str) -> dict:
        return {
            "csrfmiddlewaretoken": token,
            "name": f"Bench{number} Prospect",
            "email": f"bench{number}@example.com",
            "subject": "Home valuation",
            "phone": f"+14136{number:0>6}",
            "company": "-",
            "message": f"{number} Elm Street, Springfield; moving within 3 months",
            "leadsource_token": PEER_FORM_UUID,
        }

    @staticmethod
    def accepted(answer) -> bool:
        # Their form answers 200 with a thank-you page, and 200 with the form again when invalid.
        return answer.status_code == 200 and "thanks for your request" in answer.text


# --- Processes -------------------------------------------------------------------------------------


class Counter:
    def __init__(self, start: int):
        self.next, self.lock = start, threading.Lock()

    def take(self) -> int:
        with self.lock:
            self.next += 1
            return self.next


def intake_round(app: App, clients: int, seconds: float, numbers: Counter) -> dict:
    """--clients browsers, each submitting one lead after another for --seconds."""
    before = app.count()
    accepted, refused, errors, posts = [0], [0], [0], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def prospect():
        http = requests.Session()
        while time.monotonic() < deadline:
            try:
                ok, elapsed = app.submit(http, numbers.take())
            except (requests.RequestException, AttributeError):  # no token in the page
                with lock:
                    errors[0] += 1
                http = requests.Session()
                continue
            with lock:
                posts.append(elapsed)
                (accepted if ok else refused)[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=prospect) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    created = app.count() - before
    return {
        "created": created,
        "per_second": created / wall,
        "accepted": accepted[0],
        "refused": refused[0],
        "errors": errors[0],
        "p50": statistics.median(posts) * 1000 if posts else float("nan"),
        "p95": percentile(posts, 0.95) * 1000,
    }


def list_round(app: App, url: str, pages: int, requests_: int) -> list[float]:
    http = requests.Session()
    cookie = {"Cookie": f"sessionid={app.session}"}
    timings = []
    for index in range(requests_):
        target = app.base + url.format(page=index % pages + 1)
        started = time.perf_counter()
        answer = http.get(target, headers=cookie, allow_redirects=False, timeout=60)
        timings.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{app.name}: {target} answered {answer.status_code}")
    return timings


def probe(app: App):
    """Each gunicorn worker describes itself (a sync worker takes one request at a time, so a few
    requests reach both)."""
    for _ in range(8):
        requests.get(app.base + "/__probe__", timeout=10)


def probe_lines(path: Path) -> dict[int, dict]:
    if not path.exists():
        return {}
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {line["pid"]: line for line in lines}  # the latest line per process


def qcluster_roles(root: int, probes: dict[int, dict]) -> dict[int, str]:
    """django-q2: qcluster main → sentinel → workers, monitor and pusher. A worker is a process
    that ran the probe task; the monitor and the pusher cannot be told apart from outside."""
    roles = {root: "qcluster main"}
    for sentinel in children(root):
        roles[sentinel] = "qcluster sentinel"
        for pid in descendants(sentinel):
            roles[pid] = "qcluster worker" if pid in probes else "qcluster monitor/pusher"
    return roles


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", type=Path, default=Path("/work/peer"))
    parser.add_argument("--leads", type=int, default=10_000, help="rows in each app's lists")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--list-requests", type=int, default=150, help="per list per round")
    parser.add_argument("--ours-only", action="store_true", help="when the peer cannot run")
    parser.add_argument(
        "--preload",
        action="store_true",
        help="start our gunicorn with --preload (workers share the imported app with the "
        "master); never the peer's, whose apps start threads in ready() that a fork would lose",
    )
    args = parser.parse_args()

    logs = Path(tempfile.mkdtemp(prefix="rc-peer-compare-"))
    ours = Ours(logs)
    apps: list[App] = [ours]
    if not args.ours_only:
        if not (args.peer / ".venv/bin/gunicorn").exists():
            raise SystemExit(f"{args.peer}/.venv has no gunicorn: see this script's docstring")
        apps.append(Theirs(logs, args.peer))
    print(f"logs: {logs}", flush=True)
    for app in apps:
        print(f"setting up {app.name} ({app.database}, {args.leads:,} list rows)...", flush=True)
        fresh_postgres(f"{PG}/{app.database}")
        app.set_up(args.leads)
        app.post_queries = app.intake_queries()
    try:
        for app in apps:
            app.start(preload=args.preload and app is ours)
        load_before = os.getloadavg()[0]
        intake: dict[str, list[dict]] = {app.name: [] for app in apps}
        lists: dict[tuple[str, str], list[list[float]]] = {}
        numbers = Counter(0)
        for round_ in range(args.rounds):
            for app in apps:
                result = intake_round(app, args.clients, args.seconds, numbers)
                intake[app.name].append(result)
                print(
                    f"  round {round_ + 1} intake {app.name:<10} {result['per_second']:6.1f} leads/s"
                    f" · POST p50 {result['p50']:.0f} ms p95 {result['p95']:.0f} ms"
                    f" · {result['created']} created, {result['refused']} refused,"
                    f" {result['errors']} errors",
                    flush=True,
                )
            for app in apps:
                for label, (url, per_page) in app.lists.items():
                    # Pages 1-20, or as many as the rows fill (a page past the end redirects).
                    pages = max(1, min(20, args.leads // per_page))
                    timings = list_round(app, url, pages, args.list_requests)
                    lists.setdefault((app.name, label), []).append(timings)
                    print(
                        f"  round {round_ + 1} list {app.name:<10} {label:<26}"
                        f" p50 {statistics.median(timings):.0f} ms"
                        f" p95 {percentile(timings, 0.95):.0f} ms",
                        flush=True,
                    )
        app_masters = {app.name: app.server.pid for app in apps}
        for app in apps:
            probe(app)
        # The master too: with --preload it holds the imported app the workers share.
        web_memory = {
            app.name: {pid: memory(pid) for pid in [app.server.pid, *app.workers()]} for app in apps
        }
        load_after = os.getloadavg()[0]

        # Our worker cluster, after it has sent the intake's acknowledgments and alerts.
        print("starting our qcluster to send the intake's messages...", flush=True)
        ours.start_cluster()
        deadline = time.monotonic() + 180
        time.sleep(5)
        while time.monotonic() < deadline and ours.queue_depth():
            time.sleep(2)
        ours.shell(
            "from django_q.tasks import async_task\n"
            "for _ in range(6): async_task('bench.process_probe.report')"
        )
        time.sleep(6)
        cluster_memory = {
            pid: memory(pid) for pid in [ours.cluster.pid, *descendants(ours.cluster.pid)]
        }
        roles = qcluster_roles(ours.cluster.pid, probe_lines(logs / "probe.jsonl"))
        outbox = ours.outbox()
    finally:
        for app in apps:
            app.stop()
    probes = probe_lines(logs / "probe.jsonl")

    # --- The table -----------------------------------------------------------------------------
    print()
    print(
        f"RealtyCRM against DjangoCRM, {args.rounds} rounds (median, range across rounds in"
        f" brackets); gunicorn 2 sync workers each{' (ours --preload)' if args.preload else ''},"
        f" DEBUG off, PostgreSQL; load average"
        f" {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} shared cores"
    )
    print(
        f"\n(a) intake: {args.clients} concurrent browser-like clients for {args.seconds:.0f} s"
        " per round (GET the form, POST it); leads counted in the database"
    )
    print(
        f"  {'app':<10} {'leads/s':>18} {'POST p50 ms':>18} {'POST p95 ms':>18} {'refused':>8} {'errors':>7}"
    )
    for app in apps:
        rounds = intake[app.name]
        print(
            f"  {app.name:<10} {spread([r['per_second'] for r in rounds]):>18}"
            f" {spread([r['p50'] for r in rounds], digits=0):>18}"
            f" {spread([r['p95'] for r in rounds], digits=0):>18}"
            f" {sum(r['refused'] for r in rounds):>8} {sum(r['errors'] for r in rounds):>7}"
            f"  {', '.join(str(q) for _, q in app.post_queries)}"
            f" (answers {sorted({status for status, _ in app.post_queries})})"
        )
    if len(apps) == 2:
        ratio = statistics.median(r["per_second"] for r in intake[ours.name]) / max(
            statistics.median(r["per_second"] for r in intake[apps[1].name]), 1e-9
        )
        print(f"  RealtyCRM / DjangoCRM intake: {ratio:.2f}x (target: 3x)")
    print(
        f"\n(b) lists: {args.list_requests} requests a round over pages 1-20, one at a time;"
        f" {args.leads:,} rows; SQL queries per page counted in-process with the same settings"
    )
    print(f"  {'app':<10} {'list':<26} {'p50 ms':>16} {'p95 ms':>16}  queries (page: count)")
    for app in apps:
        for label, (url, _) in app.lists.items():
            rounds = lists[(app.name, label)]
            path = url.split("?")[0]
            counts = ", ".join(
                f"{u.split('=')[-1]}: {c[1]}" for u, c in app.queries.items() if u.startswith(path)
            )
            print(
                f"  {app.name:<10} {label:<26}"
                f" {spread([statistics.median(t) for t in rounds], digits=0):>16}"
                f" {spread([percentile(t, 0.95) for t in rounds], digits=0):>16}  {counts}"
            )
    print("\n(c) memory, MB (RSS; PSS and private where smaps_rollup exists), after the lists")
    print(f"  {'process':<44} {'RSS':>7} {'PSS':>7} {'private':>8}  modules · heavy ones loaded")

    def row(label, pid, numbers):
        found = probes.get(pid, {})
        loaded = (
            f"{found['modules']} · {', '.join(found['watched']) or '-'}" if found else "(no probe)"
        )
        print(
            f"  {label:<44} {numbers.get('rss', 0):7.1f} {numbers.get('pss', 0):7.1f}"
            f" {numbers.get('private', 0):8.1f}  {loaded}"
        )

    for app in apps:
        master = app_masters[app.name]
        for pid, numbers in web_memory[app.name].items():
            kind = "master" if pid == master else "worker"
            row(f"{app.name} gunicorn {kind} {pid}", pid, numbers)
    for pid, numbers in cluster_memory.items():
        row(f"RealtyCRM {roles.get(pid, '?')} {pid}", pid, numbers)
    geocoder = [p for p in probes.values() if "phonenumbers.geocoder" in p["watched"]]
    print(
        f"  probed processes with the phone geocoder loaded: {len(geocoder)} of {len(probes)}"
        f" (ours and theirs)"
    )
    print(f"  our outbox after the cluster ran: {outbox}")
    print(f"\nlogs and probe lines: {logs}")


if __name__ == "__main__":
    main()

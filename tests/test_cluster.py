"""Several processes, one product: `make cluster`'s topology, started for real (bin/cluster.py).

nginx in front of two gunicorns and one qcluster, production settings, the cache in Redis: a
fresh SQLite file on a SQLite run, a fresh PostgreSQL database (<test database>_topology) on a
PostgreSQL run. Skipped when Redis, nginx or gunicorn is missing (.ci/run starts Redis).

- The per-IP intake limit counts a client's POSTs to both web processes together.
- Prospects submitting through the proxy reach both web processes and are each acknowledged
  exactly once (PostgreSQL runs only: two processes writing one SQLite file is not the
  several-hosts topology).
"""

import os
import secrets
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bin"))
from cluster import Cluster, cluster_env  # noqa: E402

REDIS_URL = os.environ.get("TOPOLOGY_REDIS_URL", "redis://127.0.0.1:6379/2")
PROXY_PORT = int(os.environ.get("TOPOLOGY_PORT", "8824"))
LIMIT = 4  # intake POSTs per client address per hour, in this topology


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _database(tmp: Path) -> tuple[str, object]:
    """(DATABASE_URL for the topology, a function running SQL on it from here)."""
    default = settings.DATABASES["default"]
    if default["ENGINE"] != "django.db.backends.postgresql":
        path = tmp / "topology.sqlite3"

        def query(sql):
            with sqlite3.connect(path, timeout=20) as connection:
                return connection.execute(sql).fetchall()

        return f"sqlite:///{path}", query
    server = f"postgres://{default['USER']}:{default['PASSWORD']}@{default['HOST'] or '127.0.0.1'}:{default['PORT'] or 5432}"
    name = f"{default['NAME']}_topology"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')

    def query(sql):
        with psycopg.connect(f"{server}/{name}", autocommit=True) as connection:
            return connection.execute(sql).fetchall()

    return f"{server}/{name}", query


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    if not _redis_answers():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("needs nginx (Debian's nginx-light)")
    tmp = tmp_path_factory.mktemp("topology")
    url, query = _database(tmp)
    env = cluster_env(
        {**os.environ, "PROXY_PORT": str(PROXY_PORT)},
        DATABASE_URL=url,
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX=f"topology-{secrets.token_hex(4)}",
        ALLOW_SQLITE_IN_PRODUCTION="true",
        INTAKE_RATE_LIMIT=f"{LIMIT}/h",
        INTAKE_MIN_FILL_SECONDS="0",
        SMS_SENDING_HOURS="00:00-24:00",
        SMS_SENDING_HOURS_BY_STATE="",
        Q_WORKERS="1",
        LOG_LEVEL="WARNING",
    )
    for name in ("SMS_BACKEND", "EMAIL_BACKEND", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)  # the test run's in-memory backends would send nothing anywhere
    env["DJANGO_SETTINGS_MODULE"] = "realtycrm.settings.production"
    cluster = Cluster(
        env,
        proxy_port=PROXY_PORT,
        web_ports=(PROXY_PORT + 1, PROXY_PORT + 2),
        web_workers=2,
        clusters=1,
        logs=tmp / "logs",
    )
    try:
        cluster.manage("migrate", "--no-input", "-v", "0")
        cluster.manage("collectstatic", "--no-input", "-v", "0")
        cluster.manage("seed_demo", "--leads", "0")
        cluster.start()
        cluster.wait_ready(90)
        yield cluster, query
    finally:
        cluster.stop()


def _post(url: str, data: dict, address: str | None = None) -> requests.Response:
    headers = {"Referer": url}
    if address:
        headers["X-Forwarded-For"] = address  # as the proxy in front of them would say
    return requests.post(url, data=data, headers=headers, allow_redirects=False, timeout=30)


def test_the_intake_limit_counts_posts_to_both_web_processes_together(topology):
    cluster, _ = topology
    answers = []
    for number in range(LIMIT + 2):
        port = cluster.web_ports[number % 2]  # a, b, a, b, …: each process sees half
        url = f"http://127.0.0.1:{port}/intake/giveaway/"
        answers.append(_post(url, {"first_name": "Nobody"}, "198.51.100.23").status_code)
    assert 429 not in answers[:LIMIT]
    assert answers[LIMIT:] == [429, 429]
    # Another client is not held back by that one's count.
    url = f"http://127.0.0.1:{cluster.web_ports[0]}/intake/giveaway/"
    assert _post(url, {"first_name": "Nobody"}, "198.51.100.24").status_code != 429


@pytest.mark.postgres
def test_prospects_through_the_proxy_are_each_acknowledged_once(topology):
    cluster, query = topology
    upstreams = set()
    for number in range(3):
        url = f"{cluster.url}/intake/valuation/"
        page = requests.get(url, timeout=30)
        upstreams.add(page.headers.get("X-Upstream"))
        token = page.text.split('name="form_token" value="', 1)[1].split('"', 1)[0]
        answer = _post(
            url,
            {
                "form_token": token,
                "first_name": f"Topology{number}",
                "email": f"topology{number}@example.com",
                "phone": f"+1413557{number:04d}",
                "property_address": f"{number} Elm Street, Springfield",
                "timeline": "within_3_months",
                "sms_consent": "on",
            },
        )
        assert answer.status_code == 302, answer.text[:500]
        upstreams.add(answer.headers.get("X-Upstream"))
    assert len(upstreams) == 2  # nginx used both web processes

    sql = (
        "SELECT l.email, m.channel, m.status FROM sequences_message m "
        "JOIN leads_lead l ON l.id = m.lead_id "
        "WHERE l.email LIKE 'topology%' AND m.purpose = 'acknowledgment'"
    )
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        rows = query(sql)
        if len(rows) == 6 and all(status == "sent" for *_, status in rows):
            break
        time.sleep(0.5)
    assert sorted((email, channel) for email, channel, _ in rows) == [
        (f"topology{n}@example.com", channel) for n in range(3) for channel in ("email", "sms")
    ]
    assert {status for *_, status in rows} == {"sent"}
    assert query("SELECT count(*) FROM leads_lead WHERE email LIKE 'topology%'") == [(3,)]

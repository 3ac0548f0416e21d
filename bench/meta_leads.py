"""Meta lead ads: how fast the webhook answers, and how fast leads are fetched and processed.

    .venv/bin/python bench/meta_leads.py [--leads 200] [--synced 500]

In-process, against the local fake Graph API (tests/integrations/fake_graph.py; nothing reaches
Meta), on a temporary SQLite database, or PostgreSQL with BENCH_DATABASE_URL (created and
migrated if needed, emptied first). Prints:

- the webhook's answer time (signature, store, queue the fetch on the ORM broker; the fetch
  itself is not waited for), p50 / p95, one notification per POST;
- fetch + map + the intake flow (dedupe, segmentation, routing, the acknowledgment and alert
  written to the outbox; their dispatch is another worker task) per lead, sequential: leads
  per second and p95;
- the sync: a form's --synced leads listed 100 a page and processed, leads per second.

Meta's own latency is not in these numbers: the fake answers at once.
"""

import argparse
import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TEMP = tempfile.mkdtemp(prefix="meta-bench-")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{TEMP}/bench.db")


def ensure_database(url: str) -> None:
    """A PostgreSQL bench database is created when it does not exist yet."""
    if not url.startswith("postgres"):
        return
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


ensure_database(os.environ["DATABASE_URL"])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtycrm.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_q.conf import Conf  # noqa: E402

from integrations import meta_intake  # noqa: E402
from leads.models import Integration, Lead, Source, Submission  # noqa: E402
from tests.factories import AgentFactory  # noqa: E402
from tests.integrations.fake_graph import TOKEN, FakeGraph  # noqa: E402

PAGE, FORM, SYNC_FORM = "104000000000001", "205000000000001", "205000000000002"


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def prepare() -> None:
    call_command("migrate", verbosity=0)
    with connection.cursor():
        pass
    Submission.objects.all().delete()
    Lead.objects.all().delete()
    Integration.objects.all().delete()
    settings.SMS_BACKEND = "sequences.backends.sms.LocmemBackend"
    settings.EMAIL_BACKEND = "sequences.backends.email.LocmemEmailBackend"
    if not AgentFactory._meta.model.objects.exists():
        AgentFactory.create_batch(3)


def answers(number: int) -> dict:
    return {
        "full_name": f"Bench Lead{number}",
        "email": f"meta{number}@example.com",
        "phone_number": f"+1413557{number:04d}",
        "street_address": f"{number} Elm St",
        "city": "Springfield",
        "when_are_you_planning_to_move?": "0-3_months",
    }


def bench_webhook(graph: FakeGraph, count: int) -> list[int]:
    """POST one signed notification per lead; the fetch is queued, not run (ORM broker)."""
    client, times = Client(), []
    now = timezone.now()
    for number in range(count):
        graph.lead(str(900000 + number), FORM, answers(number), created=now)
        change = {
            "field": "leadgen",
            "value": {
                "leadgen_id": str(900000 + number),
                "page_id": PAGE,
                "form_id": FORM,
                "created_time": int(now.timestamp()),
            },
        }
        body = json.dumps({"object": "page", "entry": [{"id": PAGE, "changes": [change]}]})
        signature = hmac.new(settings.META_APP_SECRET.encode(), body.encode(), hashlib.sha256)
        started = time.perf_counter()
        response = client.post(
            "/webhooks/meta/leadgen/",
            body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": f"sha256={signature.hexdigest()}"},
        )
        times.append(time.perf_counter() - started)
        assert response.status_code == 200 and response.json()["stored"] == 1, response.content
    print(
        f"webhook answer ({count} POSTs): p50 {statistics.median(times) * 1000:.1f} ms, "
        f"p95 {p95(times) * 1000:.1f} ms"
    )
    return list(
        Submission.objects.filter(status=Submission.Status.PENDING).values_list("pk", flat=True)
    )


def bench_fetch(pending: list[int]) -> None:
    times = []
    started_all = time.perf_counter()
    for pk in pending:
        started = time.perf_counter()
        outcome = meta_intake.lead_fetch(pk)
        times.append(time.perf_counter() - started)
        assert outcome == "accepted", outcome
    total = time.perf_counter() - started_all
    print(
        f"fetch + intake flow ({len(pending)} leads, sequential): "
        f"{len(pending) / total:.1f} leads/s, p95 {p95(times) * 1000:.1f} ms"
    )


def bench_sync(graph: FakeGraph, integration: Integration, count: int) -> None:
    graph.form(SYNC_FORM, PAGE, "Sync form")
    Integration.objects.filter(pk=integration.pk).update(meta_form_id=SYNC_FORM)
    now = timezone.now()
    for number in range(count):
        at = now - timedelta(seconds=number)
        graph.lead(str(700000 + number), SYNC_FORM, answers(10_000 + number), created=at)
    started = time.perf_counter()
    counts = meta_intake.integration_backfill(integration.pk)
    total = time.perf_counter() - started
    pages = len(graph.calls(f"/{SYNC_FORM}/leads"))
    print(
        f"sync ({count} leads, {pages} pages): {counts.get('accepted', 0) / total:.1f} leads/s "
        f"({counts})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--synced", type=int, default=500)
    options = parser.parse_args()
    prepare()
    # Work is queued on the ORM broker, as in production, not run inline as in the tests: the
    # fetch task and the messages' dispatch are each a worker's own task.
    Conf.SYNC = False
    print(f"database: {connection.vendor}")
    with FakeGraph(app_secret=settings.META_APP_SECRET, page_size=100) as graph:
        settings.META_GRAPH_URL = graph.url
        graph.page(PAGE, "Harbor & Main Realty")
        graph.form(FORM, PAGE, "Home value form")
        integration = Integration.objects.create(
            name="Bench page",
            kind=Integration.Kind.META,
            meta_page_id=PAGE,
            meta_form_id=FORM,
            meta_page_token=TOKEN,
            default_source=Source.VALUATION,
        )
        pending = bench_webhook(graph, options.leads)
        bench_fetch(pending)
        bench_sync(graph, integration, options.synced)


if __name__ == "__main__":
    main()

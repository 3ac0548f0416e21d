"""The Prometheus metrics every process records as things happen (docs/deployment.md, "Monitoring").

Two kinds of figures reach `/metrics` (realtycrm/monitoring/views.py):

- **Events, counted where they happen** (this module): intake outcomes, webhook failures and the
  acknowledgment and hot-alert latencies. A web process, a django-q2 worker: whichever process
  the event happens in counts it. Several processes write, so with PROMETHEUS_MULTIPROC_DIR set
  (production: gunicorn's workers and qcluster's) each process writes its values to a file of
  its own in that directory and `/metrics` adds up every file of the host (prometheus_client's
  multiprocess mode). Without it (development, tests) they live in this process's memory.
- **State, read at scrape time** (monitoring/views.py): the outbox's depth and the age of its
  oldest due message, the scheduler's lag, the worker clusters' heartbeats. Those are facts in
  the database and the shared cache, the same whichever process is asked, so they are read when
  Prometheus asks and never kept in a process.

Why events are not counted from the database at scrape time instead: a counter over every
submission or a histogram over every sent message is a scan that grows with the data (a million
leads), at every scrape; the in-process counter costs one addition when it happens.

Only plain values come in (a channel, a purpose, seconds): the layers above decide what an event
is and call these.
"""

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

# Seconds from a message's creation (in the lead's own transaction) to the provider's acceptance.
# Fine below 10 s, where the target lives (p95 under 2 s), coarse above (quiet hours hold a text
# for hours).
LATENCY_BUCKETS = (0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600)

ACKNOWLEDGMENT_LATENCY = Histogram(
    "realtycrm_acknowledgment_latency_seconds",
    "Seconds from an acknowledgment's creation with its lead to the provider accepting it. "
    "deferred=yes: it waited on purpose (quiet hours, the daily cap, a retry after a failure).",
    ["channel", "deferred"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
ALERT_LATENCY = Histogram(
    "realtycrm_alert_latency_seconds",
    "Seconds from a hot-lead alert's creation to the provider accepting it (the agent's text "
    "or email). deferred=yes: it waited on purpose (a retry after a failure).",
    ["channel", "deferred"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
INTAKE = Counter(
    "realtycrm_intake_total",
    "Payloads that reached intake, by what became of them: new_lead, existing_lead (a "
    "re-inquiry or a re-engagement), failed (processing raised: kept for a broker), rejected "
    "(no adapter could read it), spam (quarantined), invalid (a form POST answered with errors, "
    "nothing stored).",
    ["channel", "source", "outcome"],
    registry=None,
)
WEBHOOK_FAILURES = Counter(
    "realtycrm_webhook_failures_total",
    "Webhook and API requests answered with an error (4xx, 5xx: a bad signature is 403), by "
    "endpoint (URL name) and status.",
    ["endpoint", "status"],
    registry=None,
)

# A message whose scheduled time is this much past its creation waited on purpose.
DEFERRED_AFTER_SECONDS = 1.0


def message_latency_observe(*, alert: bool, channel: str, seconds: float, deferred: bool) -> None:
    histogram = ALERT_LATENCY if alert else ACKNOWLEDGMENT_LATENCY
    histogram.labels(channel=channel, deferred="yes" if deferred else "no").observe(
        max(seconds, 0.0)
    )


def intake_count(*, channel: str, source: str, outcome: str) -> None:
    INTAKE.labels(channel=channel, source=source, outcome=outcome).inc()


def webhook_failure_count(*, endpoint: str, status: int) -> None:
    WEBHOOK_FAILURES.labels(endpoint=endpoint, status=str(status)).inc()


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition(*collectors) -> bytes:
    """The text Prometheus reads: every process's events (this host's files in multiprocess
    mode, else this process's) and the `collectors` read now."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in (ACKNOWLEDGMENT_LATENCY, ALERT_LATENCY, INTAKE, WEBHOOK_FAILURES):
            registry.register(metric)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)

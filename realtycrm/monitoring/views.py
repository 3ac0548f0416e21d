"""/metrics for Prometheus and /healthz for load balancers (docs/deployment.md, "Monitoring").

/metrics answers only a request with `Authorization: Bearer <METRICS_TOKEN>` (and, when
METRICS_ALLOWED_NETWORKS is set, from one of those networks); without METRICS_TOKEN it does not
exist (404). It gives the events every process counted (realtycrm.metrics) and the state read
now, by `StateCollector`: the outbox by kind (sequences.selectors.outbox_backlog), the
scheduler's lag and the django-q2 workers' heartbeats.

/healthz answers 200 `{"status": "ok", ...}` when the database answers, the cache keeps what it
is given and the scheduler is not late; else 503 naming what failed. No login, no rate limit,
nothing secret in it (an error is named by its kind, never its message: a database error
carries host names). `?skip=scheduler` leaves that check out, for a load balancer that should
not take every web process out of rotation because the workers stopped.
"""

import hmac
import ipaddress
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Min
from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker
from django_q.models import Schedule, Task
from django_q.status import Stat
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from realtycrm import metrics
from realtycrm.http import client_ip
from sequences.selectors import outbox_backlog

logger = logging.getLogger(__name__)

KIND = ["channel", "audience", "purpose"]


class StateCollector:
    """The figures read when Prometheus asks (five small queries and the cluster stats in the
    cache), so they are the same whichever process answers."""

    def collect(self):
        now = timezone.now()
        yield from self._outbox(now)
        yield from self._scheduler(now)
        yield from self._workers(now)

    def _outbox(self, now):
        due = GaugeMetricFamily(
            "realtycrm_outbox_due_messages",
            "Messages queued and due (their time has come) but not handed to a worker yet.",
            labels=KIND,
        )
        age = GaugeMetricFamily(
            "realtycrm_outbox_oldest_due_age_seconds",
            "Seconds since the oldest due, unsent message of the kind became due (0: none due).",
            labels=KIND,
        )
        sending = GaugeMetricFamily(
            "realtycrm_outbox_sending_messages",
            "Messages a worker has claimed and is handing to the provider.",
            labels=KIND,
        )
        for kind in outbox_backlog(now=now):
            labels = [kind["channel"], kind["audience"], kind["purpose"]]
            due.add_metric(labels, kind["due"])
            oldest = kind["oldest_due"]
            age.add_metric(labels, (now - oldest).total_seconds() if oldest else 0.0)
            sending.add_metric(labels, kind["sending"])
        yield from (due, age, sending)

    def _scheduler(self, now):
        overdue = GaugeMetricFamily(
            "realtycrm_scheduler_overdue_seconds",
            "Seconds the most overdue django-q2 schedule is past its next run (0: on time). "
            "A live scheduler keeps it under a few seconds.",
        )
        overdue.add_metric([], scheduler_overdue(now).total_seconds())
        yield overdue

    def _workers(self, now):
        clusters = GaugeMetricFamily(
            "realtycrm_worker_clusters",
            "django-q2 clusters whose heartbeat is in the shared cache (each refreshes it every "
            "few seconds; it lapses after 3). Needs a shared cache (REDIS_URL): 0 otherwise.",
        )
        heartbeat = GaugeMetricFamily(
            "realtycrm_worker_heartbeat_age_seconds",
            "Seconds since each django-q2 cluster last saved its status.",
            labels=["cluster", "host"],
        )
        processes = GaugeMetricFamily(
            "realtycrm_worker_processes",
            "Worker processes in each django-q2 cluster.",
            labels=["cluster", "host"],
        )
        try:
            stats = Stat.get_all()
        except Exception:  # the cache is down: /healthz says so; the rest still answers
            logger.exception("Reading the django-q2 cluster stats failed")
            stats = []
        clusters.add_metric([], len(stats))
        for stat in stats:
            labels = [str(stat.cluster_id), stat.host]
            heartbeat.add_metric(labels, max((now - stat.timestamp).total_seconds(), 0.0))
            processes.add_metric(labels, len(stat.workers))
        last_task = GaugeMetricFamily(
            "realtycrm_worker_last_task_age_seconds",
            "Seconds since any worker last finished a task (the every-minute schedules make one "
            "at least each minute). -1: none recorded yet.",
        )
        stopped = Task.objects.aggregate(last=Max("stopped"))["last"]
        last_task.add_metric([], (now - stopped).total_seconds() if stopped else -1.0)
        queued = GaugeMetricFamily(
            "realtycrm_worker_queue_tasks",
            "Tasks waiting in the django-q2 broker's queue (ORM or Redis).",
        )
        queued.add_metric([], get_broker().queue_size() or 0)
        yield from (clusters, heartbeat, processes, last_task, queued)


def scheduler_overdue(now) -> timedelta:
    """How far past its next run the most overdue active schedule is (zero when none is)."""
    earliest = Schedule.objects.exclude(repeats=0).aggregate(earliest=Min("next_run"))["earliest"]
    if earliest is None or earliest >= now:
        return timedelta(0)
    return now - earliest


def _allowed_network(request) -> bool:
    networks = settings.METRICS_ALLOWED_NETWORKS
    if not networks:
        return True
    address = ipaddress.ip_address(client_ip(request))
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)


@require_GET
def metrics_view(request):
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off (METRICS_TOKEN is not set).")
    given = request.headers.get("Authorization", "")
    scheme, _, credential = given.partition(" ")
    authorized = scheme.lower() == "bearer" and hmac.compare_digest(
        credential.strip().encode(), token.encode()
    )
    if not authorized or not _allowed_network(request):
        return HttpResponseForbidden("Metrics need the bearer token, from an allowed network.")
    return HttpResponse(metrics.exposition(StateCollector()), content_type=CONTENT_TYPE_LATEST)


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return None


def _check_cache():
    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    got = cache.get(key)
    cache.delete(key)
    return None if got == value else "the value read back differs from the value written"


def _check_scheduler():
    overdue = scheduler_overdue(timezone.now())
    limit = timedelta(minutes=settings.HEALTHZ_SCHEDULER_STALE_MINUTES)
    if overdue > limit:
        return f"a schedule is {int(overdue.total_seconds())} s past its next run"
    return None


CHECKS = {"database": _check_database, "cache": _check_cache, "scheduler": _check_scheduler}


@require_GET
def healthz(request):
    """For load balancers and uptime checks: 200 when healthy, 503 naming what failed."""
    skip = {name.strip() for name in request.GET.get("skip", "").split(",")}
    results, failed = {}, []
    for name, check in CHECKS.items():
        if name in skip:
            continue
        try:
            problem = check()
        except Exception as exc:
            problem = f"error ({type(exc).__name__})"
            logger.warning("Health check %s failed", name, exc_info=True)
        results[name] = problem or "ok"
        if problem:
            failed.append(name)
    body = {"status": "unhealthy" if failed else "ok", "checks": results}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)

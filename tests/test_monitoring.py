"""/metrics, /healthz and the JSON logs (docs/deployment.md, "Monitoring")."""

import io
import json
import logging
import logging.config
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_q.models import Schedule
from prometheus_client.parser import text_string_to_metric_families

from realtycrm import metrics
from realtycrm.monitoring import views as monitoring
from sequences.messaging import Sender
from sequences.models import Message
from sequences.outbox import message_dispatch
from tests.factories import AgentFactory, MessageFactory
from tests.helpers import post_intake

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []


def scrape(client) -> dict:
    """Every sample on /metrics: (name, {labels}) → value, labels as a sorted tuple."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- /metrics ------------------------------------------------------------------------------------


def test_metrics_do_not_exist_without_a_token_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.usefixtures("metrics_on")
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN])
def test_metrics_refuse_a_request_without_the_bearer_token(client, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 403
    assert b"realtycrm_" not in response.content


@pytest.mark.usefixtures("metrics_on")
def test_metrics_refuse_the_token_from_outside_the_allowed_networks(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", **auth).status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", **auth).status_code == 200


@pytest.mark.usefixtures("metrics_on")
def test_metrics_show_the_due_messages_and_the_age_of_the_oldest(client):
    now = timezone.now()
    MessageFactory(scheduled_for=now - timedelta(minutes=2))
    MessageFactory(scheduled_for=now - timedelta(seconds=5))
    MessageFactory(scheduled_for=now + timedelta(days=1))  # not due yet
    MessageFactory(email=True, status=Message.Status.SENT, sent_at=now)  # gone

    samples = scrape(client)

    kind = {"channel": "sms", "audience": "lead", "purpose": "nurture"}
    assert value(samples, "realtycrm_outbox_due_messages", **kind) == 2
    assert 120 <= value(samples, "realtycrm_outbox_oldest_due_age_seconds", **kind) < 150
    email = {"channel": "email", "audience": "lead", "purpose": "nurture"}
    assert ("realtycrm_outbox_due_messages", tuple(sorted(email.items()))) not in samples


@pytest.mark.usefixtures("metrics_on")
def test_metrics_count_a_new_lead_and_its_acknowledgment_and_alert_latency(
    client, django_capture_on_commit_callbacks
):
    AgentFactory()  # someone to own the lead and be alerted
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_intake(client, "valuation", timeline="within_3_months", sms_consent="on")
    assert response.status_code == 302
    acknowledgment = Message.objects.get(purpose=Message.Purpose.ACKNOWLEDGMENT, channel="sms")
    assert acknowledgment.status == Message.Status.SENT

    after = scrape(client)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    intake = {"channel": "form", "source": "valuation"}
    assert grew("realtycrm_intake_total", outcome="new_lead", **intake) == 1
    assert grew("realtycrm_intake_total", outcome="failed", **intake) == 0
    sms = {"channel": "sms", "deferred": "no"}
    assert grew("realtycrm_acknowledgment_latency_seconds_count", **sms) == 1
    # Sent within the test, well under the 5 s bucket.
    assert grew("realtycrm_acknowledgment_latency_seconds_bucket", le="5.0", **sms) == 1
    alerts = sum(
        grew("realtycrm_alert_latency_seconds_count", channel=channel, deferred="no")
        for channel in ("sms", "email")
    )
    assert alerts == Message.objects.filter(purpose="alert", status="sent").count() >= 1
    # Nothing left due after the dispatch.
    assert not any(
        name == "realtycrm_outbox_due_messages" and count for (name, _), count in after.items()
    )


@pytest.mark.usefixtures("metrics_on")
def test_metrics_count_invalid_and_spam_form_posts(client):
    before = scrape(client)
    post_intake(client, "listing-ad", email="not an email", phone="")  # answered with errors
    post_intake(client, "listing-ad", form_token="forged")  # a bot: quarantined as spam
    after = scrape(client)
    intake = {"channel": "form", "source": "listing_ad"}
    for outcome in ("invalid", "spam"):
        grew = value(after, "realtycrm_intake_total", outcome=outcome, **intake) - value(
            before, "realtycrm_intake_total", outcome=outcome, **intake
        )
        assert grew == 1, outcome


@pytest.mark.usefixtures("metrics_on")
def test_metrics_count_a_webhook_with_a_bad_signature(client):
    before = scrape(client)
    response = client.post(
        "/webhooks/twilio/status/",
        {"MessageSid": "SM1", "MessageStatus": "delivered"},
        HTTP_X_TWILIO_SIGNATURE="forged",
    )
    assert response.status_code == 403
    after = scrape(client)
    labels = {"endpoint": "sequences:twilio-status", "status": "403"}
    grew = value(after, "realtycrm_webhook_failures_total", **labels) - value(
        before, "realtycrm_webhook_failures_total", **labels
    )
    assert grew == 1


@pytest.mark.usefixtures("metrics_on")
def test_metrics_show_the_scheduler_lag_and_the_worker_queue(client):
    Schedule.objects.create(
        func="sequences.tasks.sequences_tick",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
        next_run=timezone.now() - timedelta(minutes=3),
    )
    samples = scrape(client)
    assert 180 <= value(samples, "realtycrm_scheduler_overdue_seconds") < 200
    assert ("realtycrm_worker_clusters", ()) in samples
    assert ("realtycrm_worker_queue_tasks", ()) in samples


# --- /healthz ------------------------------------------------------------------------------------


def schedule(next_run):
    return Schedule.objects.create(
        func="sequences.tasks.sequences_tick",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
        next_run=next_run,
    )


def test_healthz_answers_ok_when_the_database_cache_and_scheduler_are_fine(client):
    schedule(timezone.now() + timedelta(seconds=30))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "scheduler": "ok"},
    }


def test_healthz_needs_no_login_and_no_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/healthz").status_code == 200


def test_healthz_names_a_stale_scheduler(client, settings):
    settings.HEALTHZ_SCHEDULER_STALE_MINUTES = 5
    schedule(timezone.now() - timedelta(minutes=12))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["failed"] == ["scheduler"]
    assert body["checks"]["database"] == body["checks"]["cache"] == "ok"
    # A load balancer that must not drop every web process when the workers stop skips it.
    assert client.get("/healthz?skip=scheduler").status_code == 200


def test_healthz_names_a_broken_cache(client, settings):
    schedule(timezone.now())
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]


def test_healthz_names_a_failing_database_without_its_error_message(client):
    def unreachable():
        raise ConnectionError('connection to server at "10.9.8.7", port 5432 failed: password')

    with mock.patch.dict(monitoring.CHECKS, database=unreachable):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert response.json()["checks"]["database"] == "error (ConnectionError)"
    assert b"10.9.8.7" not in response.content
    assert b"password" not in response.content


# --- Structured logs -----------------------------------------------------------------------------


@pytest.fixture
def json_log(settings):
    """The project's own logging configuration with LOG_FORMAT=json, into a buffer."""
    stream = io.StringIO()
    config = {
        **django_settings.LOGGING,
        "handlers": {
            "console": {
                **django_settings.LOGGING["handlers"]["console"],
                "formatter": "json",
                "stream": stream,
            }
        },
    }
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(django_settings.LOGGING)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_dispatched_message_logs_a_json_line_naming_it_and_its_lead(
    json_log, sms_outbox, django_capture_on_commit_callbacks
):
    message = MessageFactory(purpose=Message.Purpose.ACKNOWLEDGMENT)
    with django_capture_on_commit_callbacks(execute=True):
        assert message_dispatch(message.pk) == "sent"

    sent = [line for line in lines(json_log) if line["logger"] == "realtycrm.outbox"]
    assert len(sent) == 1
    assert sent[0]["message_id"] == message.pk
    assert sent[0]["lead_id"] == message.lead_id
    assert sent[0]["level"] == "INFO"
    assert f"Message {message.pk} sent" in sent[0]["message"]
    assert sent[0]["timestamp"].endswith("+00:00")


def test_a_dispatch_error_logged_by_the_outbox_names_the_message_and_its_lead(json_log):
    message = MessageFactory()
    with mock.patch.object(Sender, "send", side_effect=RuntimeError("misconfigured")):
        message_dispatch(message.pk)

    failed = [line for line in lines(json_log) if line["logger"] == "sequences.outbox"]
    assert failed, "the outbox logs an unexpected error"
    assert failed[0]["message_id"] == message.pk
    assert failed[0]["lead_id"] == message.lead_id
    assert "RuntimeError: misconfigured" in failed[0]["exception"]


def test_an_intake_failure_logs_a_json_line_naming_the_submission(json_log, client):
    with mock.patch("realtycrm.flows.intake.lead_route", side_effect=RuntimeError("down")):
        post_intake(client, "valuation")
    failed = [line for line in lines(json_log) if line["logger"] == "realtycrm.flows.intake"]
    assert len(failed) == 1
    assert failed[0]["submission_id"] > 0
    assert failed[0]["level"] == "ERROR"


def test_counts_from_several_processes_add_up_in_multiprocess_mode(tmp_path, monkeypatch):
    """gunicorn's and qcluster's worker processes each write their own files; /metrics adds
    them up (PROMETHEUS_MULTIPROC_DIR)."""
    write = (
        "from realtycrm import metrics; "
        "metrics.intake_count(channel='api', source='website', outcome='new_lead'); "
        "metrics.message_latency_observe(alert=True, channel='sms', seconds=0.4, deferred=False)"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", write], env=env, check=True, cwd=ROOT)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    text = metrics.exposition().decode()

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    labels = {"channel": "api", "source": "website", "outcome": "new_lead"}
    assert value(samples, "realtycrm_intake_total", **labels) == 2
    assert (
        value(samples, "realtycrm_alert_latency_seconds_count", channel="sms", deferred="no") == 2
    )

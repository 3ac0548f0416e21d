"""Dispatch after commit: a message due now reaches the provider from the process that wrote it,
without a worker; a message that process never sent (it died) is swept, once; with a backlog,
alerts to agents go before nurture touches."""

import time
from datetime import timedelta

import pytest
from django.db import OperationalError, transaction
from django.utils import timezone

from sequences import outbox
from sequences.batching import messages_held
from sequences.models import Message
from sequences.outbox import message_queue, messages_dispatch_due, messages_queue, messages_send_now
from tests.factories import LeadFactory, MessageFactory
from tests.test_settings import manage

after_commit = pytest.mark.django_db(transaction=True)


@pytest.fixture
def texts_any_hour(settings):
    settings.SMS_SENDING_HOURS = "00:00-24:00"  # whatever time the suite runs
    return settings


@pytest.fixture
def thread_mode(texts_any_hour, monkeypatch):
    """Production's mode: this process's sender threads. The worker's drain is recorded, not
    run, so a message that arrives was sent by a sender thread."""
    texts_any_hour.MESSAGE_SEND_AFTER_COMMIT = "thread"
    drains = []
    monkeypatch.setattr(outbox, "_drain_enqueue", lambda: drains.append("drain"))
    yield drains
    outbox.local_sender_stop()  # and their database connections, before the database goes


def queue_text(lead, key="ack-1", **kwargs):
    return message_queue(
        channel="sms",
        to=lead.phone,
        body="Thanks, we got your request. Reply with any questions.",
        idempotency_key=key,
        purpose=kwargs.pop("purpose", "acknowledgment"),
        audience="lead",
        lead=lead,
        **kwargs,
    )


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@after_commit
def test_a_committed_message_reaches_the_provider_without_any_worker(thread_mode, sms_outbox):
    lead = LeadFactory(texting=True)
    with transaction.atomic():
        message = queue_text(lead)
    assert wait_for(lambda: len(sms_outbox) == 1)
    assert sms_outbox[0].to == lead.phone
    outbox.local_sender_stop()  # the sender has recorded the send (SQLite: one writer at a time)
    assert Message.objects.get(pk=message.pk).status == "sent"
    assert thread_mode == []  # no drain was asked for: the sender thread sent it


@after_commit
def test_a_rolled_back_transaction_sends_nothing(thread_mode, sms_outbox):
    lead = LeadFactory(texting=True)
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_text(lead)
        raise RuntimeError("the intake failed after queueing")
    time.sleep(0.3)
    assert sms_outbox == []
    assert not Message.objects.exists()
    assert thread_mode == []


@after_commit
def test_a_message_its_process_never_sent_is_sent_by_the_sweep_exactly_once(
    texts_any_hour, sms_outbox, monkeypatch
):
    # The process died between its commit and its send: the hook never ran.
    monkeypatch.setattr(outbox, "message_dispatch_later", lambda message_id: None)
    lead = LeadFactory(texting=True)
    with transaction.atomic():
        message = queue_text(lead)
    assert sms_outbox == []
    outbox.messages_sweep()
    outbox.messages_sweep()
    assert [sms.reference for sms in sms_outbox] == [str(message.pk)]
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


@after_commit
def test_a_claim_that_fails_leaves_the_message_to_the_worker(thread_mode, sms_outbox, monkeypatch):
    """SQLite's "database is locked" (or a lost PostgreSQL connection) in the sender thread: the
    message stays queued, a drain is asked for, and the drain sends it."""

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    real_claim = outbox._claim
    monkeypatch.setattr(outbox, "_claim", locked)
    lead = LeadFactory(texting=True)
    with transaction.atomic():
        message = queue_text(lead)
    assert wait_for(lambda: thread_mode == ["drain"])
    outbox.local_sender_stop()
    assert Message.objects.get(pk=message.pk).status == "queued"
    assert sms_outbox == []
    monkeypatch.setattr(outbox, "_claim", real_claim)
    messages_dispatch_due(requeue=False)  # what the drain task does
    assert [sms.reference for sms in sms_outbox] == [str(message.pk)]


@after_commit
def test_a_full_sender_hands_the_rest_to_one_drain(thread_mode, sms_outbox, settings):
    settings.MESSAGE_SENDER_QUEUE = 1
    settings.MESSAGE_DRAIN_COALESCE_SECONDS = 60
    outbox.local_sender_stop()  # starts again with the smaller queue
    leads = LeadFactory.create_batch(30, texting=True)
    with transaction.atomic():
        for n, lead in enumerate(leads):
            queue_text(lead, key=f"ack-{n}")
    outbox.local_sender_stop()  # the sender sends what it took; the rest waits for the worker
    # However many did not fit, the worker got one drain for them, not one task each.
    assert thread_mode == ["drain"]
    messages_dispatch_due(requeue=False)
    assert len(sms_outbox) == 30
    assert sorted(sms.to for sms in sms_outbox) == sorted(lead.phone for lead in leads)
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_with_a_backlog_alerts_and_acknowledgments_go_before_older_nurture(
    texts_any_hour, sms_outbox
):
    earlier = timezone.now() - timedelta(minutes=10)
    nurture = [MessageFactory(purpose="nurture", scheduled_for=earlier) for _ in range(3)]
    acknowledgment = MessageFactory(purpose="acknowledgment")
    alert = MessageFactory(to_agent=True)
    messages_dispatch_due(requeue=False)
    order = [int(sms.reference) for sms in sms_outbox]
    assert order[:2] == [alert.pk, acknowledgment.pk]
    assert order[2:] == [m.pk for m in nurture]  # then the oldest first


@pytest.mark.django_db
def test_the_sender_batch_sends_its_alert_first(texts_any_hour, sms_outbox):
    nurture = MessageFactory(purpose="nurture")
    alert = MessageFactory(to_agent=True)
    messages_send_now([nurture.pk, alert.pk])
    assert [int(sms.reference) for sms in sms_outbox] == [alert.pk, nurture.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_racing_on_one_message_send_it_once(texts_any_hour, sms_outbox, run_together):
    message = MessageFactory(purpose="acknowledgment")
    run_together(
        lambda: messages_send_now([message.pk]),
        lambda: messages_send_now([message.pk]),
        lambda: messages_dispatch_due(requeue=False),
        lambda: outbox.message_dispatch(message.pk),
    )
    assert [sms.reference for sms in sms_outbox] == [str(message.pk)]
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


BROKER = (
    "from django.conf import settings; from django_q.brokers import get_broker; "
    "print('broker:', type(get_broker()).__name__, sorted(k for k in settings.Q_CLUSTER if k "
    "in ('orm', 'redis')))"
)


def broker_line(result) -> list[str]:
    lines = [line for line in result.stdout.splitlines() if line.startswith("broker:")]
    assert lines, result.stdout + result.stderr
    return lines[-1].split()[1:]


def test_with_redis_url_the_worker_queue_is_on_redis():
    env = {"DJANGO_SETTINGS_MODULE": "realtycrm.settings.dev"}
    on_redis = manage("shell", "-c", BROKER, REDIS_URL="redis://127.0.0.1:6379/1", **env)
    assert broker_line(on_redis) == ["Redis", "['redis']"]
    on_orm = manage("shell", "-c", BROKER, **env)
    assert broker_line(on_orm) == ["ORM", "['orm']"]


@after_commit
def test_a_message_queued_in_a_worker_process_goes_to_the_drain(thread_mode, monkeypatch):
    monkeypatch.setitem(outbox._worker_process, "pid", None)
    outbox.worker_process_started(proc_name="MainProcess")  # django-q2's sync mode: not a worker
    assert outbox._worker_process["pid"] is None
    outbox.worker_process_started(proc_name="Process-1:1")  # a qcluster worker
    lead = LeadFactory(texting=True)
    with transaction.atomic():
        queue_text(lead)
    assert thread_mode == ["drain"]


@after_commit
def test_an_intakes_held_messages_reach_the_provider_after_its_commit(thread_mode, sms_outbox):
    """The intake writes its messages in one INSERT at the end of its transaction
    (sequences.batching): their ids are known by the commit, so the sender threads send them."""
    lead = LeadFactory(texting=True)
    items = [
        dict(
            channel="sms",
            to=lead.phone,
            body=f"Thanks, we got your request ({n}).",
            idempotency_key=f"held-{n}",
            purpose="acknowledgment",
            audience="lead",
            lead=lead,
        )
        for n in range(2)
    ]
    with transaction.atomic(), messages_held():
        messages_queue(items, keys_are_new=True)
    assert wait_for(lambda: len(sms_outbox) == 2)
    outbox.local_sender_stop()
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert thread_mode == []  # the sender threads sent them, not a drain

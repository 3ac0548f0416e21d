"""django-q2 entry points. Each takes ids (or nothing), calls one function, and is safe to run
twice: the outbox claims every message atomically and skips anything already sent."""

from django_q.tasks import async_task

from . import deliveries, outbox
from .services import campaigns
from .services.enrollment import scheduler_tick


def message_dispatch(message_id: int) -> str:
    # Nothing queues this any more (messages leave after commit, or in a drain); it stays for
    # the one-task-per-message tasks a queue may still hold from before, which send once.
    return outbox.message_dispatch(message_id)


def messages_dispatch_due() -> int:
    return outbox.messages_dispatch_due()


def messages_sweep() -> int:
    return outbox.messages_sweep()


def campaign_send_batch(campaign_id: int) -> int:
    return campaigns.campaign_send_batch(campaign_id)


def sequences_tick() -> dict:
    return scheduler_tick()


def webhook_events_process() -> int:
    limit = deliveries.WEBHOOK_EVENTS_PER_RUN
    taken = deliveries.webhook_events_process(limit=limit)
    if taken >= limit:
        # A big batch (SendGrid posts thousands of events at once): a fresh task takes the rest.
        async_task("sequences.tasks.webhook_events_process", task_name="webhook-events")
    return taken

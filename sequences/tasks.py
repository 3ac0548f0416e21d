"""django-q2 entry points. Each takes ids (or nothing), calls one function, and is safe to run
twice: the outbox claims every message atomically and skips anything already sent."""

from . import deliveries, outbox
from .services.enrollment import scheduler_tick


def message_dispatch(message_id: int) -> str:
    return outbox.message_dispatch(message_id)


def messages_dispatch_due() -> int:
    return outbox.messages_dispatch_due()


def sequences_tick() -> dict:
    return scheduler_tick()


def webhook_events_process() -> int:
    return deliveries.webhook_events_process()

"""What the outbox's after-the-fact signals (`message_sent`, `message_not_sent`) mean above it."""

from alerts.services import alert_text_fallback
from sequences.models import Message
from sequences.outbox import message_excerpt

from .contacts import contact_log


def on_message_sent(sender, *, message: Message, **kwargs) -> None:
    """An agent's own text or email to a lead, once sent, is a personal contact (speed to lead,
    their open tasks done, their alerts about the lead acknowledged). Automated ones never are."""
    if message.purpose != Message.Purpose.ONE_OFF or not message.lead_id:
        return
    contact_log(
        message.lead,
        channel=message.channel,
        actor=message.created_by,
        note=message_excerpt(message),
        occurred_at=message.sent_at,
    )


def on_message_not_sent(sender, *, message: Message, **kwargs) -> None:
    """A hot alert's text that could not go (held for a retry, or for good) goes by email."""
    alert_text_fallback(message)

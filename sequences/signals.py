"""After-the-fact notifications from the outbox, for the layers above to act on.

message_sent(message)       a message was handed to its provider and recorded as sent, in the
                            transaction that records what that means for its lead.
                            realtycrm.flows listens: an agent's one-off to a lead is a personal
                            contact (tasks done, alerts acknowledged).
message_not_sent(message)   an attempt ended without the message reaching the provider: held
                            for a retry (`message.status` queued), or for good (failed, expired,
                            suppressed, or failed by the provider's delivery receipt). Sent
                            inside the transaction that records it. realtycrm.flows listens: a
                            hot alert whose text could not go goes by email.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

message_sent = Signal()
message_not_sent = Signal()


def message_not_sent_send(message) -> None:
    """Tell the layers above, without letting a receiver's error undo what the outbox recorded
    (its writes roll back to a savepoint; the error is logged)."""
    try:
        with transaction.atomic():
            message_not_sent.send(sender=type(message), message=message)
    except Exception:
        logger.exception("A message_not_sent receiver failed for message %s", message.pk)

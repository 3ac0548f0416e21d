"""After-the-fact notifications from the outbox, for the layers above to act on.

message_sent(message)   a message was handed to its provider and recorded as sent, inside
                        that transaction. realtycrm.flows listens: an agent's one-off to a lead
                        is a personal contact (tasks done, alerts acknowledged).
"""

from django.dispatch import Signal

message_sent = Signal()

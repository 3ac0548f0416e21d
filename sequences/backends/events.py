"""What a provider's webhook says, in words that name no provider (like django-anymail's
AnymailTrackingEvent). Each backend turns its own payloads into these; nothing else reads a
provider's event names, status words or error codes.

    twilio.status_events           a delivery receipt (status callback) → [DeliveryEvent]
    sendgrid.events_from_payload   one event from SendGrid's event webhook → [DeliveryEvent]
    twilio.inbound_text            an inbound text → InboundText

sequences.tracking picks the parser for a stored WebhookEvent; sequences.deliveries applies
the events and lease recovery (sequences.outbox) looks for one that proves_accepted.
"""

from dataclasses import dataclass
from enum import StrEnum


class DeliveryKind(StrEnum):
    """What became of a message, whichever provider says so."""

    ACCEPTED = "accepted"  # the provider has it and is on its way (queued, sent on)
    DELIVERED = "delivered"  # the receiving server or carrier took it
    DEFERRED = "deferred"  # the receiving server said "later"; the provider keeps trying
    BOUNCED_HARD = "bounced_hard"  # the address is no good: never send to it again
    BOUNCED_SOFT = "bounced_soft"  # refused for now (blocked), not an address problem
    FAILED = "failed"  # not delivered, and not the address's fault
    OPTED_OUT = "opted_out"  # the recipient opted out at the carrier
    SPAM_REPORT = "spam_report"  # the recipient marked it as spam
    UNSUBSCRIBED = "unsubscribed"  # the recipient unsubscribed through the provider
    OPENED = "opened"
    CLICKED = "clicked"
    OTHER = "other"  # anything else the provider reports; changes nothing by its kind


@dataclass(frozen=True)
class DeliveryEvent:
    """One thing a provider reported about one message or address.

    message_id       our Message's pk, when the provider echoes the reference we sent with it
    provider_id      the provider's id for the message (what its backend's send() returned)
    address          the recipient, when the event is about an address of its own ("": the
                     message's recipient)
    status           the provider's word to show as Message.delivery_status; "" when this
                     event does not change it (an open, an unsubscribe)
    detail           the provider's reason or error code, kept as the message's last error and
                     on the lead's timeline
    suppression_detail  what a suppression of the address keeps as its detail
    superseded_by    provider status words that come later than this one: a message already
                     showing one of them keeps it (a status never moves backwards)
    proves_accepted  the provider has the message, whatever became of it afterwards (lease
                     recovery records such a message as sent instead of sending it again)
    """

    kind: DeliveryKind
    message_id: int | None = None
    provider_id: str = ""
    address: str = ""
    status: str = ""
    detail: str = ""
    suppression_detail: str = ""
    superseded_by: frozenset[str] = frozenset()
    proves_accepted: bool = False


@dataclass(frozen=True)
class InboundText:
    """A text someone sent to one of our numbers."""

    provider_id: str
    sender: str
    to: str = ""
    body: str = ""

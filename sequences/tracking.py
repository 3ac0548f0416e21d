"""A stored webhook call (WebhookEvent) as provider-neutral delivery events.

Each backend reads its own provider's payloads; this only picks the backend by
WebhookEvent.provider, for the two places that act on what providers report: the worker that
applies receipts and email events (deliveries) and lease recovery (outbox).
"""

from .backends import sendgrid, twilio
from .backends.events import DeliveryEvent
from .models import Message, WebhookEvent

# provider → (the channel its events are about, the backend function that reads a payload)
PROVIDERS = {
    WebhookEvent.Provider.TWILIO_STATUS: (Message.Channel.SMS, twilio.status_events),
    WebhookEvent.Provider.SENDGRID: (Message.Channel.EMAIL, sendgrid.events_from_payload),
}


def webhook_event_deliveries(event: WebhookEvent) -> list[DeliveryEvent]:
    """What this call reports ([] for a call that is not about deliveries, an inbound text)."""
    if event.provider not in PROVIDERS:
        return []
    _, parse = PROVIDERS[event.provider]
    return parse(event.payload)


def webhook_event_channel(event: WebhookEvent) -> str:
    return PROVIDERS[event.provider][0]

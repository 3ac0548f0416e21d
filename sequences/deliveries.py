"""What providers tell us after a send: delivery receipts, bounces, spam reports, unsubscribes.

The webhook views store each call as a WebhookEvent (deduplicated on the provider's id) and
answer at once; webhook_events_process then applies them, in a worker. The provider's backend
reads the payload (sequences.tracking picks it) and hands back provider-neutral DeliveryEvents
(sequences.backends.events); this module only ever sees those:

    on the message    its delivery status, never moving backwards (and when it was delivered,
                      in no provider's words); a hard bounce, a failure,
                      a carrier opt-out or a spam report fails a sent message, puts "not
                      delivered" on the lead's timeline and sends message_not_sent (a soft
                      bounce or a deferral does not)
    on the address    a hard bounce, a carrier opt-out, a spam report or an unsubscribe
                      suppresses it (the message's recipient when the event names no address)
"""

import logging

from django.db import transaction
from django.utils import timezone

from leads.models import LeadEvent
from leads.services import lead_event_record

from .backends.events import DeliveryEvent, DeliveryKind
from .models import Message, Suppression, WebhookEvent
from .services.suppressions import address_suppress
from .signals import message_not_sent_send
from .tracking import webhook_event_channel, webhook_event_deliveries

logger = logging.getLogger(__name__)

# What fails a message that was sent (a soft bounce or a deferral does not: the provider or the
# receiving server may still deliver it).
FAILS_THE_MESSAGE = {
    DeliveryKind.BOUNCED_HARD,
    DeliveryKind.FAILED,
    DeliveryKind.OPTED_OUT,
    DeliveryKind.SPAM_REPORT,
}
SUPPRESSES = {
    DeliveryKind.BOUNCED_HARD: Suppression.Reason.BOUNCE,
    DeliveryKind.OPTED_OUT: Suppression.Reason.CARRIER_OPT_OUT,
    DeliveryKind.SPAM_REPORT: Suppression.Reason.SPAM_REPORT,
    DeliveryKind.UNSUBSCRIBED: Suppression.Reason.UNSUBSCRIBE,
}


WEBHOOK_EVENTS_PER_RUN = 1000


def webhook_events_process(*, limit: int = WEBHOOK_EVENTS_PER_RUN) -> int:
    """Apply up to `limit` stored events not yet processed, oldest first (safe to run twice, or
    side by side). Returns how many it took on: `limit` means more may be waiting."""
    pending = list(
        WebhookEvent.objects.filter(processed_at__isnull=True)
        .exclude(provider=WebhookEvent.Provider.TWILIO_INBOUND)
        .order_by("received_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pending:
        with transaction.atomic():
            event = (
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, processed_at__isnull=True)
                .first()
            )
            if event is None:
                continue
            webhook_event_apply(event)
            event.processed_at = timezone.now()
            event.save(update_fields=["processed_at", "message"])
    return len(pending)


def webhook_event_apply(event: WebhookEvent) -> None:
    """Apply what one stored call reports, and link it to the message it is about."""
    deliveries = webhook_event_deliveries(event)
    if not deliveries:
        return
    channel = webhook_event_channel(event)
    for delivery in deliveries:
        message = _message_for(delivery)
        if message is not None:
            event.message = message
        delivery_apply(delivery, message, channel=channel)


def _message_for(delivery: DeliveryEvent) -> Message | None:
    if delivery.message_id is not None:
        return Message.objects.filter(pk=delivery.message_id).first()
    if delivery.provider_id:
        return Message.objects.filter(provider_id=delivery.provider_id).first()
    return None


def delivery_apply(delivery: DeliveryEvent, message: Message | None, *, channel: str) -> None:
    if message is not None and message.delivery_status in delivery.superseded_by:
        return  # older news than what the message already shows
    if message is not None and delivery.status:
        _delivery(
            message,
            delivery.status,
            failed=delivery.kind in FAILS_THE_MESSAGE,
            delivered=delivery.kind == DeliveryKind.DELIVERED,
            detail=delivery.detail,
        )
    address = delivery.address or (message.to if message is not None else "")
    if delivery.kind in SUPPRESSES and address:
        address_suppress(
            channel,
            address,
            reason=SUPPRESSES[delivery.kind],
            detail=delivery.suppression_detail,
        )


def _delivery(message: Message, status: str, *, failed: bool, delivered: bool, detail: str) -> None:
    now = timezone.now()
    fields = {"delivery_status": status[:20], "delivery_updated_at": now}
    if delivered and message.delivered_at is None:
        fields["delivered_at"] = now
    if failed and message.status == Message.Status.SENT:
        fields.update(status=Message.Status.FAILED, status_reason=f"Not delivered: {status}")
        fields["last_error"] = detail
    Message.objects.filter(pk=message.pk).update(**fields)
    if failed and message.status == Message.Status.SENT and message.lead_id:
        lead_event_record(
            message.lead,
            LeadEvent.Kind.MESSAGE_FAILED,
            channel=message.channel,
            summary=f"{Message.Channel(message.channel).label} to {message.to} not delivered "
            f"({status}{': ' + detail if detail else ''})",
            data={"message": message.pk},
        )
    failed_now = failed and message.status == Message.Status.SENT
    for name, value in fields.items():
        setattr(message, name, value)
    if failed_now:
        message_not_sent_send(message)

"""What providers tell us after a send: delivery receipts, bounces, spam reports, unsubscribes.

The webhook views store each call as a WebhookEvent (deduplicated on the provider's id) and
answer at once; webhook_events_process then applies them, in a worker:

    Twilio status     delivered / undelivered / failed on the message; error 21610 (the
                      recipient opted out at the carrier) suppresses the number
    SendGrid events   delivered, deferred; bounce, dropped and spam report fail the message and
                      suppress the address; unsubscribe suppresses it
"""

import logging

from django.db import transaction
from django.utils import timezone

from leads.models import LeadEvent
from leads.services import lead_event_record

from .backends.sendgrid import CUSTOM_ARG
from .models import Message, Suppression, WebhookEvent
from .services.suppressions import address_suppress

logger = logging.getLogger(__name__)

# A status never moves backwards (Twilio may report "sent" after "delivered").
TWILIO_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
}
TWILIO_OPTED_OUT = {"21610"}
SENDGRID_FAILED = {"bounce", "dropped", "spamreport"}
SENDGRID_SUPPRESS = {
    "spamreport": Suppression.Reason.SPAM_REPORT,
    "unsubscribe": Suppression.Reason.UNSUBSCRIBE,
    "group_unsubscribe": Suppression.Reason.UNSUBSCRIBE,
}


def webhook_events_process(*, limit: int = 1000) -> int:
    """Apply every stored event not yet processed (safe to run twice, or side by side)."""
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
            if event.provider == WebhookEvent.Provider.TWILIO_STATUS:
                twilio_status_apply(event)
            else:
                sendgrid_event_apply(event)
            event.processed_at = timezone.now()
            event.save(update_fields=["processed_at", "message"])
    return len(pending)


def twilio_status_apply(event: WebhookEvent) -> None:
    payload = event.payload
    status = str(payload.get("MessageStatus", "")).lower()
    code = str(payload.get("ErrorCode", "") or "")
    message = Message.objects.filter(provider_id=payload.get("MessageSid", "")).first()
    if message is None:
        return
    event.message = message
    if TWILIO_RANK.get(status, -1) < TWILIO_RANK.get(message.delivery_status, -1):
        return
    _delivery(message, status, failed=status in ("undelivered", "failed"), detail=code)
    if code in TWILIO_OPTED_OUT:
        address_suppress(
            Message.Channel.SMS,
            message.to,
            reason=Suppression.Reason.CARRIER_OPT_OUT,
            detail=f"Twilio error {code}",
        )


def _message_for_sendgrid(payload: dict) -> Message | None:
    reference = str(payload.get(CUSTOM_ARG, ""))
    if reference.isdigit():
        return Message.objects.filter(pk=int(reference)).first()
    provider_id = str(payload.get("sg_message_id", "")).split(".")[0]
    if provider_id:
        return Message.objects.filter(provider_id=provider_id).first()
    return None


def sendgrid_event_apply(event: WebhookEvent) -> None:
    payload = event.payload
    kind = str(payload.get("event", ""))
    address = str(payload.get("email", "")).lower()
    message = _message_for_sendgrid(payload)
    event.message = message
    if message is not None and kind in ("delivered", "deferred", *SENDGRID_FAILED):
        # A "blocked" bounce is the receiving server refusing for now, not a bad address.
        hard = kind != "bounce" or payload.get("type", "bounce") == "bounce"
        detail = str(payload.get("reason", "") or payload.get("response", ""))[:200]
        _delivery(message, kind, failed=kind in SENDGRID_FAILED and hard, detail=detail)
    if not address:
        return
    if (kind == "bounce" and payload.get("type", "bounce") == "bounce") or (
        kind == "dropped" and _dropped_for_good(payload)
    ):
        address_suppress(
            Message.Channel.EMAIL,
            address,
            reason=Suppression.Reason.BOUNCE,
            detail=str(payload.get("reason", ""))[:200],
        )
    elif kind in SENDGRID_SUPPRESS:
        address_suppress(Message.Channel.EMAIL, address, reason=SENDGRID_SUPPRESS[kind])


def _dropped_for_good(payload: dict) -> bool:
    reason = str(payload.get("reason", "")).lower()
    return any(word in reason for word in ("bounced", "invalid", "unsubscribed", "spam"))


def _delivery(message: Message, status: str, *, failed: bool, detail: str) -> None:
    now = timezone.now()
    fields = {"delivery_status": status[:20], "delivery_updated_at": now}
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
    for name, value in fields.items():
        setattr(message, name, value)

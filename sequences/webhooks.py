"""Provider webhooks. CSRF-exempt, POST only, the sender verified before anything is read.

    /webhooks/twilio/sms/        inbound texts: X-Twilio-Signature checked against the public
                                 URL (SITE_URL + path), 403 otherwise; handled at once, because
                                 a STOP must win against the next queued text
    /webhooks/twilio/status/     delivery receipts: stored, applied by a worker
    /webhooks/sendgrid/events/   SendGrid's signed event webhook (ECDSA over timestamp + raw
                                 body, checked with SENDGRID_WEBHOOK_PUBLIC_KEY; a timestamp
                                 further than SENDGRID_WEBHOOK_MAX_AGE_SECONDS from now is
                                 refused, so a captured call cannot be replayed). Without a key,
                                 refused unless SENDGRID_WEBHOOK_ALLOW_UNSIGNED (development).
                                 Every event of a batch is stored, deduplicated on SendGrid's
                                 event id, and applied by a worker

The views verify the call and store it, cleaned of what the database cannot hold
(realtycrm.http.pg_safe); the provider's backend reads the payload (which key to deduplicate on,
what an inbound text says), and sequences.deliveries applies the neutral delivery events the
backend turns it into.

Answers: 403 for a bad, stale or missing signature, 400 for a body that is not what the provider
sends, 200 otherwise (a 5xx only if the database fails, so the provider retries).
"""

import json
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_q.tasks import async_task
from twilio.request_validator import RequestValidator

from realtycrm.flows.inbound import text_receive
from realtycrm.http import pg_safe

from .backends.sendgrid import event_key
from .backends.twilio import inbound_text, status_callback_key
from .models import WebhookEvent

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Rows per INSERT when storing a SendGrid batch (it may hold thousands of events; all are kept).
SENDGRID_INSERT_BATCH = 500


def twilio_signature_valid(request) -> bool:
    """The signature Twilio computed over the URL it called (our public one) and the form."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = f"{settings.SITE_URL}{request.get_full_path()}"
    return RequestValidator(token).validate(url, request.POST, signature)


def _process_later() -> None:
    transaction.on_commit(
        lambda: async_task("sequences.tasks.webhook_events_process", task_name="webhook-events"),
        robust=True,
    )


@csrf_exempt
@require_POST
def twilio_inbound(request):
    if not twilio_signature_valid(request):
        return HttpResponseForbidden("Invalid signature")
    payload = pg_safe(request.POST.dict())
    text = inbound_text(payload)
    if text is None:
        return HttpResponseBadRequest("Not a Twilio message")
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookEvent.objects.create(
                    provider=WebhookEvent.Provider.TWILIO_INBOUND,
                    event_id=text.provider_id,
                    kind="inbound",
                    payload=payload,
                    processed_at=timezone.now(),
                )
        except IntegrityError:
            logger.info("Inbound text %s was already handled", text.provider_id)
        else:
            text_receive(
                from_number=text.sender,
                body=text.body,
                to_number=text.to,
                provider_id=text.provider_id,
            )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_status(request):
    if not twilio_signature_valid(request):
        return HttpResponseForbidden("Invalid signature")
    payload = pg_safe(request.POST.dict())
    key = status_callback_key(payload)
    if key is None:
        return HttpResponseBadRequest("Not a Twilio status callback")
    event_id, kind = key
    WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                provider=WebhookEvent.Provider.TWILIO_STATUS,
                event_id=event_id,
                kind=kind,
                payload=payload,
            )
        ],
        ignore_conflicts=True,
    )
    _process_later()
    return HttpResponse(status=204)


def sendgrid_refusal(request) -> str:
    """Why this event webhook call must be refused, or "" when it may be stored."""
    key = settings.SENDGRID_WEBHOOK_PUBLIC_KEY
    if not key:
        # Unsigned events would let anyone suppress any address (a forged "unsubscribe").
        if settings.SENDGRID_WEBHOOK_ALLOW_UNSIGNED:
            return ""
        return "Unsigned events are not accepted"
    # The SDK (all of it: its package imports every helper) only where an event is checked.
    from sendgrid.helpers.eventwebhook import EventWebhook
    from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

    signature = request.headers.get(EventWebhookHeader.SIGNATURE, "")
    timestamp = request.headers.get(EventWebhookHeader.TIMESTAMP, "")
    if not signature or not timestamp:
        return "Missing signature"
    try:
        payload = request.body.decode("utf-8")
        valid = EventWebhook(key).verify_signature(payload, signature, timestamp)
    except (ValueError, UnicodeDecodeError):
        valid = False
    if not valid:
        return "Invalid signature"
    if not _sendgrid_timestamp_recent(timestamp):
        return "Signature too old (or from the future)"
    return ""


def _sendgrid_timestamp_recent(timestamp: str) -> bool:
    """Whether the call was signed within the window of now, either way. SendGrid documents no
    window of its own; this one assumes each attempt, retries too, is signed as it is sent."""
    try:
        signed_at = int(timestamp)
    except ValueError:
        return False
    age = timezone.now().timestamp() - signed_at
    return abs(age) <= settings.SENDGRID_WEBHOOK_MAX_AGE_SECONDS


@csrf_exempt
@require_POST
def sendgrid_events(request):
    refusal = sendgrid_refusal(request)
    if refusal:
        logger.warning("SendGrid event webhook refused: %s", refusal)
        return HttpResponseForbidden(refusal)
    try:
        events = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return HttpResponseBadRequest("Not JSON")
    if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
        return HttpResponseBadRequest("Expected a list of events")
    rows = []
    for event in pg_safe(events):
        event_id, kind = event_key(event)
        rows.append(
            WebhookEvent(
                provider=WebhookEvent.Provider.SENDGRID, event_id=event_id, kind=kind, payload=event
            )
        )
    # Every event is kept, however big the batch: all in one transaction, so a database failure
    # answers 500 and SendGrid sends the whole batch again (the event ids deduplicate it).
    WebhookEvent.objects.bulk_create(rows, ignore_conflicts=True, batch_size=SENDGRID_INSERT_BATCH)
    _process_later()
    return HttpResponse(status=200)

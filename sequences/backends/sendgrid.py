"""Email through SendGrid's v3 API (the `sendgrid` SDK), as a Django email backend.

Sets `message.provider_id` (SendGrid's X-Message-Id) on each message it sends and raises
sequences.backends.ProviderError when SendGrid does not take one. Our message id travels as a
custom arg, so event webhooks name the message they are about.

Also reads SendGrid's event webhook, so that nothing outside this module knows SendGrid's event
names: event_key says what to deduplicate an event on, events_from_payload turns it into
sequences.backends.events.DeliveryEvent.

The SDK is imported when a backend is built, not with this module: the outbox imports the
event-reading half for lease recovery, and a process that never sends through SendGrid (a web
worker, or any process with another EMAIL_BACKEND) need not carry the SDK (docs/performance.md,
"Memory").
"""

from __future__ import annotations

import hashlib
import json
import socket
from email.utils import parseaddr
from typing import TYPE_CHECKING
from urllib.error import URLError

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend
from python_http_client.exceptions import HTTPError

from realtycrm.http import ascii_digits

from . import OutcomeUnknownError, PermanentError, TransientError
from .email import REFERENCE_HEADER
from .events import DeliveryEvent, DeliveryKind

if TYPE_CHECKING:
    from sendgrid.helpers.mail import Mail

CUSTOM_ARG = "realtycrm_message"

# SendGrid's event → what it means. "bounce" and "dropped" depend on the event: see _kind.
EVENT_KIND = {
    "processed": DeliveryKind.ACCEPTED,
    "delivered": DeliveryKind.DELIVERED,
    "deferred": DeliveryKind.DEFERRED,
    "spamreport": DeliveryKind.SPAM_REPORT,
    "unsubscribe": DeliveryKind.UNSUBSCRIBED,
    "group_unsubscribe": DeliveryKind.UNSUBSCRIBED,
    "open": DeliveryKind.OPENED,
    "click": DeliveryKind.CLICKED,
}
# The events whose name is shown as the message's delivery status.
SHOWN_AS_STATUS = {"delivered", "deferred", "bounce", "dropped", "spamreport"}
# The events that prove SendGrid has the message, whatever became of it afterwards.
PROVES_ACCEPTED = {"processed", "delivered", "deferred", "dropped", "bounce", "open", "click"}


class EmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently=False, *, api_key=None, api_url=None, timeout=None, **kw):
        super().__init__(fail_silently=fail_silently, **kw)
        api_key = settings.SENDGRID_API_KEY if api_key is None else api_key
        if not api_key:
            raise ImproperlyConfigured("Set SENDGRID_API_KEY to send email through SendGrid.")
        from sendgrid import SendGridAPIClient

        self.client = SendGridAPIClient(api_key, host=(api_url or settings.SENDGRID_API_URL))
        self.client.client.timeout = timeout or settings.PROVIDER_TIMEOUT_SECONDS

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages:
            try:
                message.provider_id = self._send(message)
            except Exception:
                if not self.fail_silently:
                    raise
            else:
                sent += 1
        return sent

    def _send(self, message) -> str:
        try:
            response = self.client.send(self.mail_for(message))
        except HTTPError as exc:
            text = f"SendGrid {exc.status_code}: {exc.body[:500]!r}"
            if exc.status_code == 429 or exc.status_code >= 500:
                raise TransientError(text, code=exc.status_code) from exc
            raise PermanentError(text, code=exc.status_code) from exc
        except TimeoutError as exc:
            raise OutcomeUnknownError(f"No answer from SendGrid: {exc}") from exc
        except URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise OutcomeUnknownError(f"No answer from SendGrid: {exc}") from exc
            raise TransientError(f"Could not reach SendGrid: {exc.reason}") from exc
        return response.headers.get("X-Message-Id", "") or ""

    @staticmethod
    def mail_for(message) -> Mail:
        """The v3 mail/send request for one django EmailMessage."""
        from sendgrid.helpers.mail import (
            ClickTracking,
            CustomArg,
            Email,
            Header,
            HtmlContent,
            Mail,
            OpenTracking,
            PlainTextContent,
            ReplyTo,
            SubscriptionTracking,
            To,
            TrackingSettings,
        )

        from_name, from_address = parseaddr(message.from_email)
        mail = Mail(
            from_email=Email(from_address, from_name or None),
            to_emails=[To(address) for address in message.to],
            subject=message.subject,
            plain_text_content=PlainTextContent(message.body),
        )
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                mail.content = HtmlContent(content)
        if message.reply_to:
            name, address = parseaddr(message.reply_to[0])
            mail.reply_to = ReplyTo(address, name or None)
        for name, value in message.extra_headers.items():
            if name.lower() in ("message-id", "date", "from", "to", "subject", "reply-to"):
                continue
            if name == REFERENCE_HEADER:
                mail.custom_arg = CustomArg(CUSTOM_ARG, str(value))
            mail.header = Header(name, str(value))
        # Our own one-click unsubscribe link and List-Unsubscribe header do the job; SendGrid's
        # link rewriting would break the signed link and its footer would duplicate ours.
        mail.tracking_settings = TrackingSettings(
            click_tracking=ClickTracking(False, False),
            open_tracking=OpenTracking(False),
            subscription_tracking=SubscriptionTracking(False),
        )
        return mail


# --- Event webhook -------------------------------------------------------------------------------


def event_key(event: dict) -> tuple[str, str]:
    """(dedupe key, kind) to store one event under: its sg_event_id, or a digest of the event
    when it has none."""
    event_id = event.get("sg_event_id") or _digest(event)
    return str(event_id)[:200], str(event.get("event", ""))[:40]


def _digest(event: dict) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()


def events_from_payload(payload: dict) -> list[DeliveryEvent]:
    """One event from the webhook's list, read into a neutral event (a list, like every
    backend's parser: SendGrid already sends one event per recipient and per happening)."""
    name = str(payload.get("event", ""))
    reference = str(payload.get(CUSTOM_ARG, ""))
    kind = _kind(name, payload)
    bad_address = kind == DeliveryKind.BOUNCED_HARD
    return [
        DeliveryEvent(
            kind=kind,
            message_id=int(reference) if ascii_digits(reference) else None,
            # "<X-Message-Id>.<filter and recipient>"
            provider_id=str(payload.get("sg_message_id", "")).split(".")[0],
            address=str(payload.get("email", "")).lower(),
            status=name if name in SHOWN_AS_STATUS else "",
            detail=str(payload.get("reason", "") or payload.get("response", ""))[:200],
            suppression_detail=str(payload.get("reason", ""))[:200] if bad_address else "",
            proves_accepted=name in PROVES_ACCEPTED,
        )
    ]


def _kind(name: str, payload: dict) -> DeliveryKind:
    if name == "bounce":
        # A "blocked" bounce is the receiving server refusing for now, not a bad address.
        if payload.get("type", "bounce") == "bounce":
            return DeliveryKind.BOUNCED_HARD
        return DeliveryKind.BOUNCED_SOFT
    if name == "dropped":
        return DeliveryKind.BOUNCED_HARD if _dropped_for_good(payload) else DeliveryKind.FAILED
    return EVENT_KIND.get(name, DeliveryKind.OTHER)


def _dropped_for_good(payload: dict) -> bool:
    """SendGrid dropped it because of the address (it bounced before, is invalid, unsubscribed
    or reported spam), not because of this message."""
    reason = str(payload.get("reason", "")).lower()
    return any(word in reason for word in ("bounced", "invalid", "unsubscribed", "spam"))

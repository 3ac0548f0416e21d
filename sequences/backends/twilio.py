"""SMS through Twilio's REST API (the `twilio` SDK), from a Messaging Service or a number.

Also reads Twilio's webhooks, so that nothing outside this module knows Twilio's field names,
status words or error codes: status_callback_key and status_events for delivery receipts
(→ sequences.backends.events.DeliveryEvent), inbound_text for a text someone sent us.
"""

import logging
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from realtycrm.http import ascii_digits

from . import OutcomeUnknownError, PermanentError, RecipientOptedOutError, TransientError
from .events import DeliveryEvent, DeliveryKind, InboundText
from .sms import BaseSmsBackend, OutgoingSms

logger = logging.getLogger(__name__)

# Twilio error codes that mean "this recipient has opted out": suppress, never retry.
OPTED_OUT_CODES = {21610}
# Codes worth another try even though the HTTP status is 4xx (rate limits, queue full).
TRANSIENT_CODES = {20429, 30001, 14107}

# The lookup reads the newest texts to a number, at most this many, back to the first attempt
# (less this much for the two clocks).
LOOKUP_LIMIT = 200
LOOKUP_PAGE_SIZE = 50
LOOKUP_CLOCK_SKEW = timedelta(minutes=1)

# A status never moves backwards (Twilio may report "sent" after "delivered").
STATUS_RANK = {
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
STATUS_KIND = {
    "accepted": DeliveryKind.ACCEPTED,
    "scheduled": DeliveryKind.ACCEPTED,
    "queued": DeliveryKind.ACCEPTED,
    "sending": DeliveryKind.ACCEPTED,
    "sent": DeliveryKind.ACCEPTED,
    "delivered": DeliveryKind.DELIVERED,
    "undelivered": DeliveryKind.FAILED,
    "failed": DeliveryKind.FAILED,
    "read": DeliveryKind.OPENED,
}


def error_from(exc: TwilioRestException):
    """Turn Twilio's exception into ours: transient, permanent or opted out."""
    text = f"Twilio {exc.status} error {exc.code}: {exc.msg}"
    if exc.code in OPTED_OUT_CODES:
        return RecipientOptedOutError(text, code=exc.code)
    if exc.status == 429 or exc.status >= 500 or exc.code in TRANSIENT_CODES:
        return TransientError(text, code=exc.code)
    return PermanentError(text, code=exc.code)


def twilio_client(account_sid: str, auth_token: str, *, api_url=None, timeout=None) -> Client:
    """The SDK's client, with our timeout and no retries of its own (texts and calls share it)."""
    http_client = TwilioHttpClient(
        timeout=timeout or settings.PROVIDER_TIMEOUT_SECONDS, max_retries=0
    )
    client = Client(account_sid, auth_token, http_client=http_client)
    # Only a test double lives anywhere but api.twilio.com.
    client.api.base_url = (api_url or settings.TWILIO_API_URL).rstrip("/")
    return client


class TwilioBackend(BaseSmsBackend):
    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
        api_url: str | None = None,
        timeout: float | None = None,
    ):
        def setting(value, name):
            return getattr(settings, name) if value is None else value

        self.account_sid = setting(account_sid, "TWILIO_ACCOUNT_SID")
        auth_token = setting(auth_token, "TWILIO_AUTH_TOKEN")
        self.messaging_service_sid = setting(messaging_service_sid, "TWILIO_MESSAGING_SERVICE_SID")
        self.from_number = setting(from_number, "TWILIO_FROM_NUMBER")
        if not (self.account_sid and auth_token):
            raise ImproperlyConfigured("Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        if not (self.messaging_service_sid or self.from_number):
            raise ImproperlyConfigured(
                "Set TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER to send texts."
            )
        self.client = twilio_client(self.account_sid, auth_token, api_url=api_url, timeout=timeout)

    def send(self, sms: OutgoingSms) -> str:
        params = {"to": sms.to, "body": sms.body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if sms.status_callback:
            params["status_callback"] = sms.status_callback
        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as exc:
            raise error_from(exc) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise TransientError(f"Could not reach Twilio: {exc}") from exc
        except requests.exceptions.RequestException as exc:
            # The request may have arrived: ask Twilio before sending it again.
            raise OutcomeUnknownError(f"No answer from Twilio: {exc}") from exc
        return message.sid

    def lookup(self, sms: OutgoingSms, *, since: datetime) -> str | None:
        """Find a text to this number with this body created since `since` (the message's
        first attempt, so every earlier attempt is covered): its sid, or "" when Twilio's list
        shows there is none. Raises OutcomeUnknownError when Twilio cannot be asked now, so
        the text is not sent blind; None when the list is too long to be sure."""
        window_start = since - LOOKUP_CLOCK_SKEW
        seen, covered = 0, False
        try:
            for message in self.client.messages.stream(
                to=sms.to, limit=LOOKUP_LIMIT, page_size=LOOKUP_PAGE_SIZE
            ):
                seen += 1
                created = message.date_created
                if created is not None and created < window_start:
                    covered = True  # the list (newest first) reaches back past the window
                    continue
                if message.body == sms.body:
                    return message.sid
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise OutcomeUnknownError(
                f"Could not ask Twilio about an earlier attempt: {exc}"
            ) from exc
        if seen >= LOOKUP_LIMIT and not covered:
            logger.warning("More than %s recent texts to %s: cannot tell", LOOKUP_LIMIT, sms.to)
            return None
        return ""


# --- Webhooks ------------------------------------------------------------------------------------


def status_callback_key(payload) -> tuple[str, str] | None:
    """(dedupe key, kind) to store a status callback under: one row per message and status.
    None when the payload is not a status callback."""
    sid, status = payload.get("MessageSid", ""), payload.get("MessageStatus", "")
    if not sid or not status:
        return None
    return f"{sid}:{status}", status[:40]


def status_events(payload: dict) -> list[DeliveryEvent]:
    """A delivery receipt as neutral events. The number is left to our message (a receipt
    names no address of its own here): a receipt for a text we did not send changes nothing."""
    sid = str(payload.get("MessageSid", ""))
    if not sid:
        return []
    status = str(payload.get("MessageStatus", "")).lower()
    code = str(payload.get("ErrorCode", "") or "")
    rank = STATUS_RANK.get(status, -1)
    if ascii_digits(code) and int(code) in OPTED_OUT_CODES:
        kind = DeliveryKind.OPTED_OUT
    else:
        kind = STATUS_KIND.get(status, DeliveryKind.OTHER)
    return [
        DeliveryEvent(
            kind=kind,
            provider_id=sid,
            status=status,
            detail=code,
            suppression_detail=f"Twilio error {code}" if code else "",
            superseded_by=frozenset(word for word, later in STATUS_RANK.items() if later > rank),
            proves_accepted=True,
        )
    ]


def inbound_text(payload) -> InboundText | None:
    """A text someone sent to one of our numbers; None when the payload is not one."""
    sid = payload.get("MessageSid") or payload.get("SmsSid")
    sender = payload.get("From", "")
    if not sid or not sender:
        return None
    return InboundText(
        provider_id=sid, sender=sender, to=payload.get("To", ""), body=payload.get("Body", "")
    )

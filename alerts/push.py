"""Web Push: an urgent alert also arrives as a notification on each browser its agent enabled.

    push_enabled                 the VAPID keys and subject are set (unset: no push, no error)
    alert_push_queue             called beside an urgent alert's text: after the caller's
                                 transaction commits, one django-q2 task per subscribed browser
    alert_push_send              the task: the alert's payload (alerts.messages.alert_push) to one
                                 browser, unless the alert closed meanwhile
    push_send                    one encrypted, VAPID-signed POST to the push service (pywebpush),
                                 retried on passing failures; 404/410 deletes the subscription
    push_subscription_save       a browser's PushSubscription.toJSON(), checked and stored
    push_subscription_delete     a browser turned notifications off (or its agent removed it)

The policy mirrors the hot-alert texts': a push goes wherever an urgent alert's text goes
(hot lead, claim offer, hot re-inquiry, escalation, reassignment, the 5-minute reminder), at once,
whatever the agent's quiet hours. Non-urgent alerts (replies, warm outreach) are not pushed. The
hourly cap on alert texts does not hold pushes back: a push costs nothing, and each alert's
notification carries one tag, so a reminder replaces it instead of stacking.

Nothing here runs inside the intake transaction: the task is queued with on_commit, and a push
that fails never touches the alert, its text or its email.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from . import messages
from .models import Alert, PushSubscription

if TYPE_CHECKING:
    from py_vapid import Vapid

logger = logging.getLogger(__name__)

# The push service has forgotten this browser (unsubscribed, app data cleared, expired).
GONE = (404, 410)
# Worth another try: rate limited, or the push service is having a bad moment.
TRANSIENT = (408, 425, 429, 500, 502, 503, 504)


def push_enabled() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY and settings.VAPID_SUBJECT)


# --- Queueing, beside the alert's text -----------------------------------------------------------


def alert_push_queue(alert: Alert, step: str) -> None:
    """After the caller's transaction commits, push this alert step to each browser its agent
    subscribed. Nothing (not even a query) when push is off."""
    if not push_enabled() or not alert.is_urgent:
        return
    alert_id, agent_id = alert.pk, alert.agent_id
    transaction.on_commit(lambda: _push_tasks(alert_id, agent_id, step), robust=True)


def _push_tasks(alert_id: int, agent_id: int, step: str) -> None:
    """One task per browser, so a slow or failing push service delays nobody else's."""
    browsers = PushSubscription.objects.filter(user_id=agent_id).values_list("pk", flat=True)
    for subscription_id in browsers:
        async_task(
            "alerts.tasks.push_alert",
            alert_id,
            step,
            subscription_id,
            task_name=f"push-{alert_id}-{step}-{subscription_id}",
        )


def alert_push_send(alert_id: int, step: str, subscription_id: int) -> str:
    """Push one alert step to one browser. Safe to run twice: the notification's tag makes a
    second delivery replace the first. Returns what happened (sent, gone, failed, skipped)."""
    if not push_enabled():
        return "skipped"
    alert = Alert.objects.select_related("lead").filter(pk=alert_id).first()
    subscription = PushSubscription.objects.filter(pk=subscription_id).first()
    if alert is None or subscription is None or subscription.user_id != alert.agent_id:
        return "skipped"
    if not alert.is_open:
        return "skipped"  # acknowledged, claimed by someone else or reassigned meanwhile
    return push_send(subscription, messages.alert_push(alert, step=step), topic=f"alert{alert.pk}")


# --- Sending -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _pywebpush():
    """pywebpush, imported by the first push rather than at start-up: it brings aiohttp, most of
    a second of imports that the web processes (which only queue pushes) and every management
    command would otherwise pay. A third-party import, not a way around a layer."""
    import pywebpush

    return pywebpush


@lru_cache(maxsize=4)
def _vapid(private_key: str) -> Vapid:
    from py_vapid import Vapid  # with cryptography: only a process that sends pushes loads it

    return Vapid.from_string(private_key=private_key)


def push_send(subscription: PushSubscription, payload: dict, *, topic: str = "") -> str:
    """Encrypt the payload to the browser's keys (aes128gcm), sign the request (VAPID) and POST
    it to the subscription's push service, with a TTL and high urgency (a phone in doze mode
    wakes for it). A timeout, 429 or 5xx is tried again after each PUSH_RETRY_DELAYS_SECONDS;
    404/410 deletes the subscription; anything else counts a failure and gives up."""
    data = json.dumps(payload, separators=(",", ":"))
    headers = {"Urgency": "high"}
    if topic:
        headers["Topic"] = topic  # a push still waiting at the service is replaced, not stacked
    delays = list(settings.PUSH_RETRY_DELAYS_SECONDS)
    library = _pywebpush()
    while True:
        try:
            library.webpush(
                subscription.subscription_info,
                data,
                vapid_private_key=_vapid(settings.VAPID_PRIVATE_KEY),
                vapid_claims={"sub": settings.VAPID_SUBJECT},
                ttl=settings.PUSH_TTL_SECONDS,
                headers=headers,
                timeout=settings.PROVIDER_TIMEOUT_SECONDS,
            )
        except library.WebPushException as error:
            status = getattr(error.response, "status_code", None)
            if status in GONE:
                PushSubscription.objects.filter(pk=subscription.pk).delete()
                logger.info(
                    "Push service forgot %s (%s): subscription deleted", subscription, status
                )
                return "gone"
            if status not in TRANSIENT:
                logger.warning("Push to %s refused (%s): %s", subscription, status, error)
                return _failed(subscription)
            reason = f"HTTP {status}"
        except requests.RequestException as error:
            reason = type(error).__name__
        else:
            PushSubscription.objects.filter(pk=subscription.pk).update(
                last_success_at=timezone.now(), failures=0
            )
            return "sent"
        if not delays:
            logger.warning("Push to %s failed (%s); giving up", subscription, reason)
            return _failed(subscription)
        time.sleep(delays.pop(0))


def _failed(subscription: PushSubscription) -> str:
    PushSubscription.objects.filter(pk=subscription.pk).update(failures=F("failures") + 1)
    return "failed"


# --- Subscriptions -------------------------------------------------------------------------------


class InvalidSubscription(ValueError):
    """What was wrong with a browser's subscription, field by field (the view answers 400)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def push_subscription_save(user, data, *, user_agent: str = "") -> PushSubscription:
    """Store a browser's subscription (PushSubscription.toJSON(): endpoint and keys) for this
    user. The endpoint must be one of PUSH_SERVICE_HOSTS (the server will POST to it) and the
    keys must be a P-256 point and a 16-byte secret, so a send can never fail on them later.
    `old_endpoint` (the service worker renewing an expired subscription) is replaced. Past
    PUSH_DEVICES_PER_USER, the user's oldest browser is dropped."""
    endpoint, p256dh, auth = _checked(data)
    with transaction.atomic():
        old = data.get("old_endpoint") if isinstance(data, dict) else None
        if isinstance(old, str) and old != endpoint:
            PushSubscription.objects.filter(user=user, endpoint=old).delete()
        fields = {"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:255]}
        subscription, _ = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={**fields, "failures": 0},
            create_defaults={**fields, "created_at": timezone.now()},
        )
        extra = PushSubscription.objects.filter(user=user).order_by("-created_at", "-id")[
            settings.PUSH_DEVICES_PER_USER :
        ]
        PushSubscription.objects.filter(pk__in=list(extra.values_list("pk", flat=True))).delete()
    return subscription


def push_subscription_delete(user, *, endpoint: str = "", pk: int | None = None) -> int:
    """Forget one of this user's browsers, by its endpoint (the browser itself) or its id (the
    list of devices). Returns how many rows went (0: nothing of theirs matched)."""
    mine = PushSubscription.objects.filter(user=user)
    if endpoint:
        return mine.filter(endpoint=endpoint).delete()[0]
    if pk is not None:
        return mine.filter(pk=pk).delete()[0]
    return 0


# The endpoints this sign-in enabled, kept in the session so that signing out forgets them.
SESSION_ENDPOINTS = "push_endpoints"


def push_session_remember(session, endpoint: str) -> None:
    """This session enabled notifications on `endpoint` (the browser it runs in)."""
    endpoints = [e for e in session.get(SESSION_ENDPOINTS, []) if e != endpoint]
    session[SESSION_ENDPOINTS] = [*endpoints, endpoint][-settings.PUSH_DEVICES_PER_USER :]


def push_forget_on_sign_out(sender, request, user, **kwargs) -> None:
    """django's user_logged_out (connected in AlertsConfig.ready): the browsers this session
    enabled get no more of the user's alerts. A shared computer is otherwise still notified of
    the previous agent's hot leads, names and all, after they signed out. The page unsubscribes
    the browser as well, when it can (static/js/push.js); the user's other devices stay."""
    if user is None or request is None or not hasattr(request, "session"):
        return
    endpoints = request.session.get(SESSION_ENDPOINTS) or []
    if endpoints:
        PushSubscription.objects.filter(user=user, endpoint__in=endpoints).delete()


def _checked(data) -> tuple[str, str, str]:
    if not isinstance(data, dict):
        raise InvalidSubscription({"subscription": "Send the browser's subscription as JSON."})
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    endpoint, p256dh, auth = data.get("endpoint"), keys.get("p256dh"), keys.get("auth")
    errors = {}
    if not isinstance(endpoint, str) or not endpoint_allowed(endpoint):
        errors["endpoint"] = "Not the address of a browser push service."
    if not isinstance(p256dh, str) or not _is_p256_point(p256dh):
        errors["p256dh"] = "Not a P-256 public key (base64url)."
    if not isinstance(auth, str) or len(_b64url(auth) or b"") != 16:
        errors["auth"] = "Not a 16-byte auth secret (base64url)."
    if errors:
        raise InvalidSubscription(errors)
    return endpoint, p256dh, auth


def endpoint_allowed(endpoint: str) -> bool:
    """An HTTPS address on one of PUSH_SERVICE_HOSTS (the host or a subdomain of it). An entry
    with a scheme ("http://127.0.0.1", the tests' fake push service) allows that exact origin
    host, any port."""
    if len(endpoint) > 2000:
        return False
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if not host or parts.username or parts.password:
        return False
    for entry in settings.PUSH_SERVICE_HOSTS:
        entry = entry.lower()
        if "://" in entry:
            scheme, _, allowed = entry.partition("://")
            if parts.scheme == scheme and host == allowed:
                return True
        elif parts.scheme == "https" and (host == entry or host.endswith(f".{entry}")):
            return True
    return False


def _b64url(value: str) -> bytes | None:
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_p256_point(value: str) -> bool:
    raw = _b64url(value)
    if raw is None or len(raw) != 65:
        return False
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return False
    return True

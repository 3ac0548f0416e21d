"""Meta's lead ads webhook. CSRF-exempt; the sender is verified before anything is read.

    GET  /webhooks/meta/leadgen/   the subscription handshake: hub.mode=subscribe and
                                   hub.verify_token equal to META_VERIFY_TOKEN → hub.challenge
                                   echoed (text/plain); 403 otherwise, and always while
                                   META_VERIFY_TOKEN is unset
    POST /webhooks/meta/leadgen/   a notification, signed by Meta with the app secret
                                   (X-Hub-Signature-256: sha256=HMAC-SHA256(raw body,
                                   META_APP_SECRET)); a missing or wrong signature is 403 and
                                   nothing is written. Each leadgen change is stored as a pending
                                   submission and answered at once; a worker fetches the lead
                                   (integrations/meta_intake.py)

Answers are JSON: 200 {"stored", "duplicates", "rejected"} for a notification (a lead id seen
before is a duplicate, stored once; a change that names no lead, or a page no integration
takes, is kept as rejected, with why), 400 {"error", "detail"} for a signed body that is not a
notification (kept too), 403 {"error"} for a bad signature or verify token. Never a 5xx for what
Meta sends: only a database failure, so that Meta retries.
"""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from leads import intake
from leads.models import Channel
from realtycrm.http import client_ip, json_loads_strict

from .meta import PayloadError, notification_leads, signature_valid, verify_token_valid
from .meta_intake import notification_store

logger = logging.getLogger(__name__)
# Meta's leadgen notifications nest five levels deep; far deeper is not one.
MAX_NOTIFICATION_DEPTH = 20

CHALLENGE_MAX = 200
RAW_BODY_MAX = 20_000  # of a malformed body, what is kept for the broker to read


@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_leadgen(request):
    if request.method == "GET":
        return _handshake(request)
    return _notification(request)


def _handshake(request):
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if mode != "subscribe" or not verify_token_valid(token, settings.META_VERIFY_TOKEN):
        return JsonResponse({"error": "verify_token_mismatch"}, status=403)
    return HttpResponse(challenge[:CHALLENGE_MAX], content_type="text/plain; charset=utf-8")


def _request_info(request) -> intake.RequestInfo:
    return intake.RequestInfo(
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
        form_url=request.path,
    )


def _notification(request):
    body = request.body
    header = request.headers.get("X-Hub-Signature-256", "")
    if not signature_valid(body, header, settings.META_APP_SECRET):
        return JsonResponse({"error": "invalid_signature"}, status=403)
    info = _request_info(request)
    try:
        payload = json_loads_strict(body, max_depth=MAX_NOTIFICATION_DEPTH)
    except ValueError as error:  # not JSON, not UTF-8, 1e999, nested too deeply
        raw = {"body": body[:RAW_BODY_MAX].decode("utf-8", errors="replace")}
        return _malformed(raw, info, f"Not JSON: {error}")
    try:
        values = notification_leads(payload)
    except PayloadError as error:
        return _malformed(payload if isinstance(payload, dict) else {"body": payload}, info, error)
    counts = {"stored": 0, "duplicates": 0, "rejected": 0}
    for value in values:
        outcome, _submission = notification_store(value, info)
        counts["duplicates" if outcome == "duplicate" else outcome] += 1
    return JsonResponse(counts)


def _malformed(raw: dict, info: intake.RequestInfo, why) -> JsonResponse:
    """A signed body that is not a notification: kept as rejected, and a clear 400."""
    detail = str(why)[:300]
    intake.submission_reject(Channel.META, raw, info, {"body": detail})
    return JsonResponse({"error": "malformed_notification", "detail": detail}, status=400)

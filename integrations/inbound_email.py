"""The portal-email webhook: POST /inbound/email/<INBOUND_EMAIL_TOKEN>/, SendGrid Inbound Parse.

SendGrid cannot sign its Inbound Parse posts, so the URL carries a secret token (compared in
constant time): unset or wrong, the answer is 404 and nothing is written. CSRF-exempt (no
session), POST only.

SendGrid retries any answer that is not 2xx, for days. So once the email is stored the answer is
200, whatever became of it: a lead, a re-inquiry, a duplicate (same Message-ID, nothing new), an
email no parser could read (kept for a broker, integrations.email.services). Reading it is our
problem, not a reason for SendGrid to send it again. A post that carries no email at all gets a
400 (it is kept too); only a failure of the database itself is a 5xx, which SendGrid retries.

Size: a post longer than INBOUND_EMAIL_MAX_BYTES is not read; its first 64 KB are kept, with the
clues they hold, as an email for a broker to look at. A post whose text fields exceed Django's
DATA_UPLOAD_MAX_MEMORY_SIZE (a raw message with large attachments) is kept the same way.
"""

import logging
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponseNotAllowed, HttpResponseNotFound, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from leads import intake
from leads.models import Channel
from realtycrm.http import client_ip

from .email.parsed import EMAIL_IN_TEXT, clean
from .email.services import Outcome, inbound_email_receive

logger = logging.getLogger(__name__)

HEAD_BYTES = 64 * 1024  # what is kept of a post too large to read
MAX_KEYS = 100
STATUS = {Outcome.NOT_EMAIL: 400}
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def token_valid(token: str) -> bool:
    expected = settings.INBOUND_EMAIL_TOKEN
    return bool(expected) and constant_time_compare(token, expected)


@csrf_exempt
def inbound_email(request, token):
    if not token_valid(token):
        return HttpResponseNotFound("Not found", content_type="text/plain")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    info = intake.RequestInfo(
        ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")
    )
    length = _content_length(request)
    if length > settings.INBOUND_EMAIL_MAX_BYTES:
        return _too_large(request, info, length, head=request.read(HEAD_BYTES))
    if request.content_type not in FORM_TYPES:
        body = request.read(HEAD_BYTES).decode("utf-8", "replace")
        received = inbound_email_receive(
            {"content_type": request.content_type, "body_head": body}, info
        )
        return _answer(received)
    try:
        data = _post_data(request)
    except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, MultiPartParserError) as error:
        return _unreadable(request, info, length, error)
    received = inbound_email_receive(data, info)
    return _answer(received)


def _answer(received) -> JsonResponse:
    body = {"status": received.outcome}
    if received.submission is not None:
        body["submission"] = received.submission.pk
    if received.lead is not None:
        body["lead"] = received.lead.pk
    if received.errors:
        body["errors"] = received.errors
    return JsonResponse(body, status=STATUS.get(received.outcome, 200))


def _content_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _post_data(request) -> dict:
    """The post's text fields as received (a field sent twice keeps its values as a list), and
    the attachments SendGrid sent as files, by name, type and size only (never their content:
    a lead is in the text)."""
    data = {}
    for key in list(request.POST.keys())[:MAX_KEYS]:
        values = request.POST.getlist(key)
        data[key[:100]] = values[0] if len(values) == 1 else values
    files = [
        {
            "field": name[:100],
            "name": upload.name[:200],
            "type": upload.content_type,
            "size": upload.size,
        }
        for name, upload in list(request.FILES.items())[:MAX_KEYS]
    ]
    if files:
        data["attachments_received"] = files
    return data


def _too_large(request, info, length: int, *, head: bytes) -> JsonResponse:
    text = head.decode("utf-8", "replace")
    limit = settings.INBOUND_EMAIL_MAX_BYTES
    errors = {
        "email": [
            f"This post is {length} bytes, over the {limit}-byte limit "
            "(INBOUND_EMAIL_MAX_BYTES): not read. Its first 64 KB are kept."
        ]
    }
    found = _clues_in_head(text)
    submission = intake.submission_reject(
        Channel.EMAIL,
        {"content_type": request.content_type, "content_length": length, "body_head": text},
        info,
        errors,
        found=found,
        attribution={key: found[key] for key in ("subject", "from") if found.get(key)},
    )
    logger.warning("Inbound email post of %s bytes kept unread as %s", length, submission.pk)
    return JsonResponse({"status": "too_large", "submission": submission.pk, "errors": errors})


def _unreadable(request, info, length: int, error: Exception) -> JsonResponse:
    too_big = isinstance(error, RequestDataTooBig)
    errors = {
        "email": [
            (
                f"The post's text fields are over Django's {settings.DATA_UPLOAD_MAX_MEMORY_SIZE}"
                "-byte limit (DATA_UPLOAD_MAX_MEMORY_SIZE): not read."
            )
            if too_big
            else f"The post could not be read as a form: {error}"[:500]
        ]
    }
    submission = intake.submission_reject(
        Channel.EMAIL,
        {"content_type": request.content_type, "content_length": length, "error": str(error)[:500]},
        info,
        errors,
    )
    return JsonResponse(
        {
            "status": "too_large" if too_big else "unreadable",
            "submission": submission.pk,
            "errors": errors,
        },
        status=200 if too_big else 400,
    )


FORM_FIELD = re.compile(
    r'name="(?P<name>subject|from|to)"\r?\n(?:[^\r\n]+\r?\n)*\r?\n(?P<value>[^\r\n]{1,500})'
)


def _clues_in_head(text: str) -> dict:
    """The subject, sender and an address in the first bytes of an unread post, if they are
    there (SendGrid's fields are small and come before the bodies)."""
    found = {match["name"]: clean(match["value"], limit=300) for match in FORM_FIELD.finditer(text)}
    sender = EMAIL_IN_TEXT.search(found.get("from", ""))
    found["from"] = sender.group(0).lower() if sender else ""
    return {key: value for key, value in found.items() if value and key != "to"}

"""The Events API: lead sources post leads here as they post them to Follow Up Boss.

    POST /api/v1/events          an event → a new lead (201) or a re-inquiry of one (200)
    GET  /api/v1/people          this key's leads, by email and/or phone
    GET  /api/v1/openapi.json    the OpenAPI document; /api/v1/docs renders it (Swagger UI,
                                 served from our own static files: the dashboard's CSP holds)

Built with django-ninja: typed bodies (pydantic), the OpenAPI document and its docs page come
from the same declarations, and it needs nothing of DRF's (no serializers, no viewsets) for two
endpoints.

The event view reads its body itself instead of through a ninja body parameter, so that what it
cannot read (too large, not JSON, wrong fields) is still stored, REJECTED with its errors, for a
broker to inspect; the OpenAPI document describes the body all the same (EventsAPI). Everything
after that is intake's, as for a form: leads.intake.submission_receive stores the payload, then
realtycrm.flows.intake.channel_submission_process dedupes, segments, routes, acknowledges and
alerts. The adapter's own rules (type → source, origin, fields, consent) are api_events'.
"""

import logging
import math
import time
import traceback
from dataclasses import replace

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django_ratelimit.core import get_usage
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import REF_TEMPLATE
from ninja.security import HttpBasicAuth

from leads import intake
from leads.models import Channel, Integration, Lead, Submission
from leads.names import person_name
from leads.phones import phone_e164
from realtycrm.flows.intake import channel_submission_process
from realtycrm.http import JSONTooDeep, client_ip, json_loads_strict, pg_safe

from . import api_events
from .api_keys import integration_for_key
from .api_schemas import ErrorsOut, EventIn, PeopleOut, PersonOut, StoredOut

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
KEPT_OF_REFUSED_BODY = 16 * 1024  # what a broker sees of a body too large or not JSON
# An event is four levels deep; far deeper is no lead source's (and would exhaust the recursion
# of whatever walks it, the storing included).
MAX_BODY_DEPTH = 20
IDEMPOTENCY_KEY_MAX_LENGTH = 200
# A retry that races the request it repeats waits this long for that one's answer.
REPLAY_WAIT_SECONDS = 5
REALM = 'Basic realm="RealtyCRM Events API", charset="UTF-8"'
NO_CREDENTIALS = "Authenticate with HTTP Basic: your API key as the username, the password blank."

DESCRIPTION = """
Send leads to the brokerage's CRM as you send them to Follow Up Boss (`POST /v1/events`):
change the base URL to this server's `/api/v1` and use the API key the brokerage gave you.

**Authentication**: HTTP Basic, the API key as the username and a blank password (any password
is accepted and ignored, as by Follow Up Boss, for clients that insist on one). Optional
`X-System` and `X-System-Key` headers name your software; they are recorded with each lead
(the key only as a fingerprint).

**Answers**: `201` with the person when the event made a new lead; `200` with the person when
it was someone already known (a re-inquiry: the person as the agent recorded them, nothing
overwritten); `202` when the event was stored but could not be processed yet (the brokerage
processes it; do not resend); `400` with field errors (`{"errors": [{"field":
"person.emails.0.value", "code": ..., "message": ...}]}`; the event is kept for the brokerage
to inspect); `401` for a missing, unknown or revoked key (nothing is stored); `409` when an
`Idempotency-Key` is reused with another body; `413` for a body over 64 KB; `429` past the key's
requests per minute (see `Retry-After`).

**Retries**: send an `Idempotency-Key` header (any unique string up to 200 characters, e.g. your
event id). A request repeated with the same key and body creates nothing new and gets the first
answer again (with `Idempotent-Replayed: true`). A refused (400) event is not remembered: fix
it and send it again with the same key.

**Our additions** to the Follow Up Boss body, all optional: `timeline` (when they plan to move,
in any common wording), `side` (`seller`, `buyer`, `both`, `unknown`) and `smsConsent`
(`{"wording", "timestamp"}`: the consent to texts the person gave, as evidence; without it the
lead is emailed and its agent calls).
"""


class EventsAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI document also describes the event body, which the view reads
    itself (see the module's docstring)."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        event = EventIn.model_json_schema(by_alias=True, ref_template=REF_TEMPLATE)
        schema["components"]["schemas"].update({**event.pop("$defs", {}), "EventIn": event})
        return schema


class ApiKeyAuth(HttpBasicAuth):
    """HTTP Basic with the API key as the username (Follow Up Boss's scheme). The password is
    ignored, as Follow Up Boss ignores it: some HTTP clients cannot send a blank one."""

    def authenticate(self, request, username, password):
        check = integration_for_key(username.strip())
        if check.integration is None:
            raise AuthenticationError(message=check.refusal)
        return check.integration


api = EventsAPI(
    title="RealtyCRM Events API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=ApiKeyAuth(),
)


# --- Errors: one shape for every refusal ---------------------------------------------------------


def errors_body(errors: list[dict]) -> dict:
    """{"errorMessage": the first message (Follow Up Boss's key), "errors": [...]}."""
    errors = [{"field": None, **error} for error in errors]
    return {"errorMessage": errors[0]["message"], "errors": errors}


def error_body(code: str, message: str, field: str | None = None) -> dict:
    return errors_body([{"field": field, "code": code, "message": message}])


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    message = NO_CREDENTIALS if exc.message == AuthenticationError().message else exc.message
    response = api.create_response(request, error_body("unauthorized", message), status=401)
    response["WWW-Authenticate"] = REALM
    return response


@api.exception_handler(ValidationError)
def _invalid_parameters(request, exc):
    """ninja's own validation (the query parameters): 400 and our shape, not ninja's 422."""
    errors = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())[1:]) or None,
            "code": error.get("type", "invalid"),
            "message": error.get("msg", "Invalid."),
        }
        for error in exc.errors
    ]
    return api.create_response(request, errors_body(errors), status=400)


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return api.create_response(request, error_body("error", str(exc)), status=exc.status_code)


def _rate_limited(request, integration: Integration):
    """429 past the integration's requests a minute (every endpoint counts), else None. The
    count is django-ratelimit's, in the cache: shared by every web process where the cache is
    (Redis in production)."""
    usage = get_usage(
        request,
        group="integrations.api",
        key=lambda group, request: str(integration.pk),
        rate=f"{integration.rate_limit}/m",
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return None
    wait = max(1, math.ceil(usage["time_left"]))
    message = (
        f"More than {integration.rate_limit} requests a minute with this key: "
        f"try again in {wait} seconds."
    )
    response = api.create_response(request, error_body("rate_limited", message), status=429)
    response["Retry-After"] = str(wait)
    return response


# --- POST /events -----------------------------------------------------------------------------------


class Refused(Exception):
    """A request refused before its event could be read; `kept` is what is stored of it."""

    def __init__(self, status: int, body: dict, kept: dict):
        super().__init__(body["errorMessage"])
        self.status, self.body, self.kept = status, body, kept


def _body_event(request) -> dict:
    """The body as a JSON object, or Refused (too large, empty, not JSON, not an object)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        start = request.read(KEPT_OF_REFUSED_BODY).decode("utf-8", errors="replace")
        message = f"The body is {length} bytes; an event may be at most {MAX_BODY_BYTES}."
        raise Refused(413, error_body("too_large", message), {"body": start, "bytes": length})
    text = request.body.decode("utf-8", errors="replace")
    if not text.strip():
        message = "The body is empty: send the event as a JSON object."
        raise Refused(400, error_body("empty", message), {})
    kept = {"body": text[:KEPT_OF_REFUSED_BODY]}
    try:
        event = json_loads_strict(text, max_depth=MAX_BODY_DEPTH)
    except JSONTooDeep:
        message = f"The body is nested more than {MAX_BODY_DEPTH} levels deep."
        raise Refused(400, error_body("too_deep", message), kept) from None
    except ValueError as error:
        message = f"The body is not valid JSON ({str(error)[:200]})."
        raise Refused(400, error_body("invalid_json", message), kept) from None
    if not isinstance(event, dict):
        message = "The body must be a JSON object: one event."
        raise Refused(400, error_body("not_an_object", message), kept)
    return event


def _idempotency_key(request, event: dict) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        message = f"An Idempotency-Key may be at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters."
        raise Refused(400, error_body("invalid", message, "Idempotency-Key"), event)
    return key


def _request_info(request, read: api_events.EventRead | None = None) -> intake.RequestInfo:
    info = intake.RequestInfo(
        ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")
    )
    if read is not None:
        info = replace(info, form_url=read.source_url, query=read.utm)
    return info


EVENT_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model="EventIn")}}},
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH},
            "description": "Makes a retried request create nothing new.",
        },
        {
            "name": "X-System",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "Your software's name (recorded).",
        },
        {
            "name": "X-System-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "Your software's registered key (recorded as a fingerprint only).",
        },
    ],
}


@api.post(
    "/events",
    response={
        201: PersonOut,
        200: PersonOut,
        202: StoredOut,
        400: ErrorsOut,
        401: ErrorsOut,
        409: ErrorsOut,
        413: ErrorsOut,
        429: ErrorsOut,
    },
    by_alias=True,
    summary="Send a lead (an event)",
    openapi_extra=EVENT_DOC,
    tags=["events"],
)
def events(request, response: HttpResponse):
    """A lead from a lead source: stored as received, then through intake like a form's."""
    integration = request.auth
    limited = _rate_limited(request, integration)
    if limited is not None:
        return limited
    try:
        event = _body_event(request)
        key = _idempotency_key(request, event)
    except Refused as refused:
        intake.submission_reject(
            Channel.API,
            refused.kept,
            _request_info(request),
            refused.body,
            source=integration.default_source,
            integration=integration,
            origin=integration.origin,
        )
        return Status(refused.status, refused.body)
    external_id = f"{integration.pk}:{key}" if key else ""
    if external_id:
        earlier = _earlier(external_id)
        if earlier is not None:
            return _replay(earlier, event, response)
    try:
        read = api_events.event_read(event, integration, request.headers)
    except api_events.EventRefused as refused:
        body = errors_body(refused.errors)
        intake.submission_reject(
            Channel.API,
            event,
            _request_info(request),
            body,
            source=refused.source,
            integration=integration,
            origin=refused.origin,
            found=refused.found,
        )
        return Status(400, body)
    except Exception:
        return _stored_unread(request, integration, event, external_id)
    try:
        with transaction.atomic():
            submission = intake.submission_receive(
                read.source,
                event,
                _request_info(request, read),
                channel=Channel.API,
                integration=integration,
                origin=read.origin,
                attribution=read.attribution,
                external_id=external_id,
                mapped=intake.channel_mapping(
                    read.fields, sms_consent=read.consent, tags=read.attribution.get("tags")
                ),
            )
    except IntegrityError:
        if not external_id:
            raise
        # The same key's request committed first, a moment ago: its answer is this one's.
        return _replay(_earlier(external_id), event, response)
    lead = channel_submission_process(submission)
    if lead is None:
        return Status(202, _stored(submission))
    return Status(
        201 if submission.created_lead else 200, person_out(lead, integration, submission)
    )


def _stored(submission: Submission) -> dict:
    return {
        "status": "stored",
        "id": submission.pk,
        "message": "Stored; the brokerage will process it. Do not send it again.",
    }


def _stored_unread(request, integration, event, external_id: str):
    """Our adapter failed on this event (a bug, not the sender's): keep it as failed, with the
    error, for a broker, and tell the sender it is stored."""
    logger.exception("Could not read Events API payload for integration %s", integration.pk)
    submission = intake.submission_receive(
        integration.default_source,
        event,
        _request_info(request),
        channel=Channel.API,
        integration=integration,
        origin=integration.origin,
        external_id="",  # a retry should be read again, by a fixed adapter
        # What "process again" needs to read it once the adapter is fixed (the X-System-Key is
        # kept nowhere in clear, so a re-read goes without its fingerprint).
        mapped={"headers": {"X-System": request.headers.get("X-System", "")[:200]}},
        status=Submission.Status.FAILED,
        error=traceback.format_exc(),
    )
    return Status(202, _stored(submission))


def _earlier(external_id: str) -> Submission | None:
    """The submission an Idempotency-Key already made, once it is processed: a retry racing the
    request it repeats waits for that one's answer (at most REPLAY_WAIT_SECONDS; a submission
    whose process died is left to the stranded sweep, and this answers 202)."""
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while True:
        submission = (
            Submission.objects.filter(channel=Channel.API, external_id=external_id)
            .select_related("lead__owner")
            .first()
        )
        if (
            submission is None
            or submission.status != Submission.Status.RECEIVED
            or time.monotonic() >= deadline
        ):
            return submission
        time.sleep(0.05)


def _replay(earlier: Submission | None, event: dict, response: HttpResponse):
    """The answer a repeated request gets: the first one's (the person as it is now)."""
    if earlier is None or earlier.data != pg_safe(event):
        message = (
            "This Idempotency-Key was already used with another body: use a new key for a "
            "new event."
        )
        return Status(409, error_body("idempotency_key_reused", message, "Idempotency-Key"))
    response["Idempotent-Replayed"] = "true"
    if earlier.status == Submission.Status.ACCEPTED and earlier.lead is not None:
        return Status(
            201 if earlier.created_lead else 200,
            person_out(earlier.lead, earlier.integration, earlier),
        )
    return Status(202, _stored(earlier))


def person_out(
    lead: Lead, integration, submission: Submission | None = None, *, made: bool | None = None
) -> dict:
    """The lead as Follow Up Boss returns a person (and a few of our own fields), to a key whose
    integration made the lead. A key whose event matched a lead another source brought (our
    form, another vendor) learns nothing it did not send: only the id, and the names, email and
    phone of its own event (`submission`); a vendor must not read a brokerage's contact by
    posting its email."""
    if not (made if made is not None else _made_by(lead, integration)):
        sent = ((submission.mapped or {}).get("fields") or {}) if submission else {}
        first, last = sent.get("first_name", ""), sent.get("last_name", "")
        return {
            "id": lead.pk,
            "created": lead.created_at,
            "updated": lead.updated_at,
            "name": f"{first} {last}".strip(),
            "firstName": first,
            "lastName": last,
            "emails": [{"value": sent["email"], "isPrimary": True}] if sent.get("email") else [],
            "phones": [{"value": sent["phone"], "isPrimary": True}] if sent.get("phone") else [],
            "tags": [],
        }
    return {
        "id": lead.pk,
        "created": lead.created_at,
        "updated": lead.updated_at,
        "name": lead.full_name,
        "firstName": lead.first_name,
        "lastName": lead.last_name,
        "stage": lead.stage,
        "source": lead.source,
        "origin": lead.origin,
        "channel": lead.channel,
        "intent": lead.intent,
        "timeline": lead.timeline,
        "side": lead.side,
        "emails": [{"value": lead.email, "isPrimary": True}] if lead.email else [],
        "phones": [{"value": lead.phone, "isPrimary": True}] if lead.phone else [],
        "tags": [tag.name for tag in lead.tags.all()],
        "assignedTo": person_name(lead.owner, nobody="") or None,
    }


def _made_by(lead: Lead, integration) -> bool:
    return Submission.objects.filter(lead=lead, integration=integration, created_lead=True).exists()


# --- GET /people -----------------------------------------------------------------------------------


@api.get(
    "/people",
    response={200: PeopleOut, 400: ErrorsOut, 401: ErrorsOut, 429: ErrorsOut},
    by_alias=True,
    summary="Look up the people this key sent",
    tags=["people"],
)
def people(
    request,
    email: str = "",
    phone: str = "",
    limit: int = Query(10, ge=1, le=100),
    offset: int = Query(0, ge=0),
):
    """The leads that came in through this API key, by email and/or phone (both must match
    when both are given), newest first."""
    integration = request.auth
    limited = _rate_limited(request, integration)
    if limited is not None:
        return limited
    email, phone = pg_safe(email).strip().lower(), pg_safe(phone).strip()
    if not email and not phone:
        return Status(400, error_body("missing", "Give an email or a phone to look up.", "email"))
    # The leads this key's integration made: a re-inquiry it sent about someone else's lead
    # does not make that lead its to read (person_out).
    leads = Lead.objects.filter(
        pk__in=Submission.objects.filter(integration=integration, created_lead=True).values(
            "lead_id"
        )
    )
    if email:
        leads = leads.filter(email=email)
    if phone:
        number = phone_e164(phone)
        if number is None:
            return Status(400, error_body("invalid", "Enter a valid phone number.", "phone"))
        leads = leads.filter(phone=number)
    total = leads.count()
    page = (
        leads.select_related("owner")
        .prefetch_related("tags")
        .order_by("-created_at", "-id")[offset : offset + limit]
    )
    return {
        "_metadata": {"collection": "people", "offset": offset, "limit": limit, "total": total},
        # Every lead here is one this integration made (the filter above): no query per lead.
        "people": [person_out(lead, integration, made=True) for lead in page],
    }

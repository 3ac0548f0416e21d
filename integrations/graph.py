"""Meta's Graph API: the few reads lead ads need, and what a failure means.

    lead_get      GET /{leadgen_id}?fields=…            one lead's answers and its ad
    form_leads    GET /{form_id}/leads?filtering=…      a form's leads since a time (paged)
    page_forms    GET /{page_id}/leadgen_forms          a page's active lead forms (paged)
    object_name   GET /{id}?fields=name                 a page's or form's name (cached a day)

Every call has a timeout and raises GraphError, which says whether trying again later can help
(`transient`: the network, a 5xx, a rate limit, Meta's own `is_transient`) or not (an unknown
lead id, a missing permission, an expired token: a broker has to act). The access token never
appears in an error, a log line or anything stored. With META_APP_SECRET set, every call carries
`appsecret_proof`, so an app that requires it (App settings → Advanced) keeps working.

META_GRAPH_URL (https://graph.facebook.com/v21.0) is the only address called; tests point it at
a local fake.
"""

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache

# Seconds to connect and to wait for an answer: a lead fetch runs in a worker, never a request.
TIMEOUT = (5, 20)
# Fields of a lead (Meta's "Retrieving leads"), asked of every lead and of a form's list.
LEAD_FIELDS = (
    "id,created_time,field_data,ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,"
    "form_id,custom_disclaimer_responses,is_organic,platform"
)
PAGE_SIZE = 100
MAX_PAGES = 200  # 20,000 leads a form in one sync: past that, the next sync goes on
NAME_CACHE_SECONDS = 24 * 60 * 60
# Graph error codes that mean "later": unknown/service errors and the rate limits (app, user,
# page, hourly, application limit, business use case limits).
TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613, *range(80000, 80015)}
GRAPH_ID = re.compile(r"^[0-9]{1,40}$")


class GraphError(Exception):
    """A Graph call that did not answer what was asked, as Meta explained it."""

    def __init__(self, message: str, *, transient: bool, status: int | None = None, error=None):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.status = status
        self.error = error if isinstance(error, dict) else {}

    def as_data(self) -> dict:
        """What a broker needs to see (and support needs to quote), without the token."""
        data = {"message": self.message, "status": self.status, "transient": self.transient}
        for key in ("type", "code", "error_subcode", "error_user_msg", "fbtrace_id"):
            if key in self.error:
                data[key] = self.error[key]
        return data


def is_graph_id(value) -> bool:
    """Meta's ids are digits; anything else never goes into a URL."""
    return isinstance(value, str) and bool(GRAPH_ID.match(value))


def lead_get(leadgen_id: str, token: str) -> dict:
    _check_id(leadgen_id)
    return _get(_url(leadgen_id), _params(token, fields=LEAD_FIELDS))


def form_leads(form_id: str, token: str, *, since: datetime) -> Iterator[dict]:
    """The form's leads created after `since`, newest first, every page of them."""
    _check_id(form_id)
    filtering = [
        {"field": "time_created", "operator": "GREATER_THAN", "value": int(since.timestamp())}
    ]
    params = _params(token, fields=LEAD_FIELDS, filtering=json.dumps(filtering), limit=PAGE_SIZE)
    return _paged(_url(f"{form_id}/leads"), params)


def page_forms(page_id: str, token: str) -> list[dict]:
    """The page's lead forms that can take leads ({"id", "name", "status"})."""
    _check_id(page_id)
    params = _params(token, fields="id,name,status", limit=PAGE_SIZE)
    forms = [
        form
        for form in _paged(_url(f"{page_id}/leadgen_forms"), params)
        if is_graph_id(str(form.get("id", ""))) and form.get("status", "ACTIVE") == "ACTIVE"
    ]
    for form in forms:
        if form.get("name"):
            cache.set(_name_key(str(form["id"])), str(form["name"]), NAME_CACHE_SECONDS)
    return forms


def object_name(object_id: str, token: str) -> str:
    """A page's or form's name, remembered for a day; "" when Meta would not say."""
    if not is_graph_id(object_id) or not token:
        return ""
    name = cache.get(_name_key(object_id))
    if name is None:
        try:
            name = str(_get(_url(object_id), _params(token, fields="name")).get("name") or "")
        except GraphError:
            return ""  # a name is a nicety: the lead goes on without it, and asks next time
        cache.set(_name_key(object_id), name, NAME_CACHE_SECONDS)
    return name


def _name_key(object_id: str) -> str:
    return f"meta:name:{object_id}"


def _check_id(value: str) -> None:
    if not is_graph_id(value):
        raise GraphError(f"Not a Meta id: {str(value)[:60]!r}", transient=False)


def _url(path: str) -> str:
    return f"{settings.META_GRAPH_URL}/{path}"


def _params(token: str, **params) -> dict:
    params["access_token"] = token
    if settings.META_APP_SECRET:
        params["appsecret_proof"] = hmac.new(
            settings.META_APP_SECRET.encode(), token.encode(), hashlib.sha256
        ).hexdigest()
    return params


def _paged(url: str, params: dict | None) -> Iterator[dict]:
    """Every item of a Graph list, following `paging.next` (only ever back to the Graph API:
    the link carries the token)."""
    for _ in range(MAX_PAGES):
        answer = _get(url, params)
        data = answer.get("data")
        if not isinstance(data, list):
            raise GraphError("The Graph API answered a list without data", transient=True)
        yield from (item for item in data if isinstance(item, dict))
        following = (answer.get("paging") or {}).get("next")
        if not following or not _same_origin(following):
            return
        url, params = following, None


def _same_origin(url: str) -> bool:
    ours, theirs = urlsplit(settings.META_GRAPH_URL), urlsplit(str(url))
    return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)


def _get(url: str, params: dict | None) -> dict:
    try:
        response = requests.get(url, params=params, timeout=TIMEOUT)
    except requests.RequestException as error:
        # The exception's text holds the URL and so the token: name the failure, not the URL.
        raise GraphError(
            f"Could not reach the Graph API ({type(error).__name__})", transient=True
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 200 and isinstance(body, dict) and "error" not in body:
        return body
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    transient = (
        body is None  # not Graph's JSON: a proxy or an outage page in between
        or response.status_code >= 500
        or response.status_code == 429
        or bool(error.get("is_transient"))
        or error.get("code") in TRANSIENT_CODES
    )
    message = str(error.get("message") or f"The Graph API answered {response.status_code}")
    raise GraphError(message[:500], transient=transient, status=response.status_code, error=error)

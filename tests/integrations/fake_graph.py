"""A local HTTP server standing in for Meta's Graph API, as far as lead ads go: the real client
(integrations/graph.py, `requests`) sends its real requests to it, and no test reaches Meta.

It keeps pages, lead forms and leads, answers in Meta's shapes ("Retrieving leads": a lead's
`field_data`, `custom_disclaimer_responses`, ad and campaign ids and names; a form's `/leads`
filtered on `time_created` and paged with `paging.next`; a page's `/leadgen_forms`), refuses a
wrong access token or appsecret_proof as Meta does (400, OAuthException 190 / code 100), and
answers an unknown id with Meta's error 100/33. `fail()` queues an error answer (a 500, a rate
limit) for the next matching calls.

Use the `fake_graph` fixture: import `fake_graph_fixture` from here in a test module.
"""

import hashlib
import hmac
import json
import threading
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

VERSION = "v21.0"
TOKEN = "test-page-token"  # the fake's only page token
LEAD_FIELD_NAMES = (
    "id",
    "created_time",
    "field_data",
    "ad_id",
    "ad_name",
    "adset_id",
    "adset_name",
    "campaign_id",
    "campaign_name",
    "form_id",
    "custom_disclaimer_responses",
    "is_organic",
    "platform",
)


def graph_error(message: str, code: int, *, kind="GraphMethodException", subcode=None, **extra):
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGhIjK"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": {**error, **extra}}


class FakeGraph:
    """Records every request (`requests`: path and query); answers from its pages, forms and
    leads, after any queued failure for that path."""

    def __init__(self, *, app_secret: str = "", page_size: int = 25):
        self.app_secret = app_secret
        self.page_size = page_size
        self.tokens = {TOKEN}
        self.pages: dict[str, str] = {}
        self.forms: dict[str, dict] = {}
        self.leads: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.failures: deque = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address
        return f"http://{host}:{port}/{VERSION}"

    # --- What Meta holds ---

    def page(self, page_id: str, name: str) -> None:
        self.pages[page_id] = name

    def form(self, form_id: str, page_id: str, name: str, status: str = "ACTIVE") -> None:
        self.forms[form_id] = {"id": form_id, "name": name, "status": status, "page_id": page_id}

    def lead(
        self,
        lead_id: str,
        form_id: str,
        answers: dict,
        *,
        created: datetime,
        disclaimer: dict | None = None,
        **extra,
    ) -> dict:
        """A lead as the Graph API gives it; `answers` {question key: answer or [answers]},
        `disclaimer` {checkbox key: ticked?}. Paid by default (ad, ad set, campaign)."""
        lead = {
            "id": lead_id,
            "created_time": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "field_data": [
                {"name": key, "values": value if isinstance(value, list) else [value]}
                for key, value in answers.items()
            ],
            "form_id": form_id,
            "ad_id": "23850000000000001",
            "ad_name": "Spring home values - carousel",
            "adset_id": "23850000000000002",
            "adset_name": "Homeowners 10 mi",
            "campaign_id": "23850000000000003",
            "campaign_name": "Spring valuation 2026",
            "is_organic": False,
            "platform": "fb",
            **extra,
        }
        if disclaimer is not None:
            lead["custom_disclaimer_responses"] = [
                {"checkbox_key": key, "is_checked": "1" if ticked else ""}
                for key, ticked in disclaimer.items()
            ]
        self.leads[lead_id] = {key: value for key, value in lead.items() if value is not None}
        return self.leads[lead_id]

    def fail(self, status: int, body: dict | None = None, *, path: str = "", times: int = 1):
        """The next `times` calls whose path starts with `path` get this answer."""
        body = body or graph_error("An unexpected error has occurred.", 2, is_transient=True)
        for _ in range(times):
            self.failures.append((path, status, body))

    def calls(self, path: str = "") -> list[dict]:
        return [request for request in self.requests if request["path"].startswith(path)]

    # --- The API ---

    def _answer(self, path: str, query: dict) -> tuple[int, dict]:
        with self._lock:
            for failure in list(self.failures):
                if path.startswith(failure[0]):
                    self.failures.remove(failure)
                    return failure[1], failure[2]
        refused = self._refused(query)
        if refused:
            return 400, refused
        parts = path.strip("/").split("/")
        if len(parts) == 1:
            return self._object(parts[0], query)
        if len(parts) == 2 and parts[1] == "leads" and parts[0] in self.forms:
            return 200, self._form_leads(path, parts[0], query)
        if len(parts) == 2 and parts[1] == "leadgen_forms" and parts[0] in self.pages:
            forms = [form for form in self.forms.values() if form["page_id"] == parts[0]]
            items = [{key: form[key] for key in ("id", "name", "status")} for form in forms]
            return 200, self._paged(path, query, items)
        return 400, graph_error(f"Unknown path components: /{parts[-1]}", 2500)

    def _refused(self, query: dict) -> dict | None:
        token = query.get("access_token", "")
        if token not in self.tokens:
            return graph_error(
                "Invalid OAuth access token - Cannot parse access token", 190, kind="OAuthException"
            )
        if self.app_secret:
            proof = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            if query.get("appsecret_proof") != proof:
                return graph_error(
                    "Invalid appsecret_proof provided in the API argument",
                    100,
                    kind="OAuthException",
                )
        return None

    def _object(self, object_id: str, query: dict) -> tuple[int, dict]:
        if object_id in self.leads:
            wanted = set(query.get("fields", "").split(",")) | {"id"}
            lead = self.leads[object_id]
            return 200, {key: value for key, value in lead.items() if key in wanted}
        if object_id in self.pages:
            return 200, {"id": object_id, "name": self.pages[object_id]}
        if object_id in self.forms:
            return 200, {"id": object_id, "name": self.forms[object_id]["name"]}
        return 400, graph_error(
            f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            100,
            subcode=33,
        )

    def _form_leads(self, path: str, form_id: str, query: dict) -> dict:
        after = 0
        for rule in json.loads(query.get("filtering") or "[]"):
            if rule["field"] == "time_created" and rule["operator"] == "GREATER_THAN":
                after = int(rule["value"])
        leads = [
            lead
            for lead in self.leads.values()
            if lead["form_id"] == form_id and _unix(lead["created_time"]) > after
        ]
        leads.sort(key=lambda lead: lead["created_time"], reverse=True)
        wanted = set(query.get("fields", "").split(",")) | {"id"}
        items = [{key: value for key, value in lead.items() if key in wanted} for lead in leads]
        return self._paged(path, query, items)

    def _paged(self, path: str, query: dict, items: list) -> dict:
        start = int(query.get("after") or 0)
        size = min(int(query.get("limit") or self.page_size), self.page_size)
        page = items[start : start + size]
        answer = {"data": page, "paging": {"cursors": {"before": str(start)}}}
        if start + size < len(items):
            following = {**query, "after": str(start + size)}
            answer["paging"]["cursors"]["after"] = str(start + size)
            answer["paging"]["next"] = f"{self.url}/{path.strip('/')}?{urlencode(following)}"
        return answer

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                prefix = f"/{VERSION}"
                path = parts.path[len(prefix) :] if parts.path.startswith(prefix) else parts.path
                fake.requests.append({"path": path, "query": query})
                status, body = fake._answer(path, query)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


def _unix(created_time: str) -> int:
    return int(datetime.strptime(created_time, "%Y-%m-%dT%H:%M:%S%z").timestamp())


@pytest.fixture(name="fake_graph")
def fake_graph_fixture(settings):
    """The Graph API, local: META_GRAPH_URL points at it, for this test only."""
    with FakeGraph(app_secret=settings.META_APP_SECRET) as fake:
        settings.META_GRAPH_URL = fake.url
        yield fake

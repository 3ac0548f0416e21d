"""A local stand-in for Twilio's Messages API and SendGrid's v3 mail send, for bench/faults.py.

The real SDKs (through sequences.backends.twilio and .sendgrid, with TWILIO_API_URL and
SENDGRID_API_URL pointing here) send their real requests to it. It implements just enough:

    POST /2010-04-01/Accounts/<sid>/Messages.json   create a text → 201 with a new SM… sid
    GET  /2010-04-01/Accounts/<sid>/Messages.json   list, newest first, To= and DateSent>=
                                                    filters, PageSize/Page paging (the
                                                    outbox's lookup before a resend)
    POST /v3/mail/send                              accept an email → 202 with X-Message-Id

Every accepted message is recorded with what identifies it: for a text the number and the
body (Twilio is sent no reference of ours, and the outbox's lookup matches on those too), for
an email our message id (the `realtycrm_message` custom arg). The harness controls it through
its attributes (shared state, same process):

    down = True           every request answers 503 (nothing is recorded)
    hang_fraction = 0.03  that share of sends is recorded, then answered only after
                          hang_seconds (past PROVIDER_TIMEOUT_SECONDS): accepted, outcome
                          unknown to the sender
    delay = (0, 0.05)     every answer waits a random time in this range (seconds)

It listens on 127.0.0.1 only.
"""

import json
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

TWILIO_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
SENDGRID_SEND = "/v3/mail/send"
REFERENCE_ARG = "realtycrm_message"  # sequences.backends.sendgrid.CUSTOM_ARG


def _public(record: dict) -> dict:
    """A recorded text as Twilio shows it (without the harness's own notes)."""
    return {k: v for k, v in record.items() if k not in ("at", "withheld")}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A sender killed mid-request (the harness's SIGKILLs) resets its connection: that
        is the point, not an error worth a traceback."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class FakeProvider:
    def __init__(self, *, port: int = 0, seed: int = 1, hang_seconds: float = 4.0):
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.down = False
        self.hang_fraction = 0.0
        self.hang_seconds = hang_seconds
        self.delay = (0.0, 0.0)
        self.texts: list[dict] = []  # accepted texts, oldest first
        self.emails: list[dict] = []  # accepted emails
        self.counts: Counter = Counter()  # requests by kind and answer
        self._server = _Server(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address
        return f"http://{host}:{port}"

    def start(self) -> "FakeProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def save(self, directory) -> None:
        """Every accepted message, one JSON line each (texts.jsonl, emails.jsonl)."""
        with self.lock:
            for name, records in (("texts", self.texts), ("emails", self.emails)):
                lines = [json.dumps(record) for record in records]
                (directory / f"{name}.jsonl").write_text("\n".join(lines) + "\n")

    # --- What the handler asks -------------------------------------------------------------

    def _decide(self, kind: str) -> str:
        """'down', 'hang' or 'ok' for one send (or 'down'/'ok' for a list)."""
        with self.lock:
            if self.down:
                self.counts[f"{kind} 503"] += 1
                return "down"
            if kind.endswith("send") and self.rng.random() < self.hang_fraction:
                self.counts[f"{kind} accepted, answer withheld"] += 1
                return "hang"
            self.counts[f"{kind} ok"] += 1
            return "ok"

    def _pause(self, outcome: str) -> None:
        low, high = self.delay
        seconds = self.rng.uniform(low, high) if high else 0.0
        if outcome == "hang":
            seconds += self.hang_seconds
        if seconds:
            time.sleep(seconds)

    def _accept_text(self, fields: dict, account: str, *, withheld: bool) -> dict:
        now = datetime.now(UTC)
        record = {
            "sid": "SM" + uuid.uuid4().hex,
            "account_sid": account,
            "to": fields.get("To", ""),
            "from": fields.get("From", ""),
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "body": fields.get("Body", ""),
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "date_created": format_datetime(now, usegmt=True),
            "date_sent": format_datetime(now, usegmt=True),
            "date_updated": format_datetime(now, usegmt=True),
            "at": now.timestamp(),
            "withheld": withheld,
        }
        with self.lock:
            self.texts.append(record)
        return record

    def _list_texts(self, query: dict) -> dict:
        to = query.get("To")
        since = query.get("DateSent>=")
        size = max(1, min(int(query.get("PageSize", 50)), 1000))
        page = int(query.get("Page", 0))
        with self.lock:
            found = [t for t in reversed(self.texts) if to is None or t["to"] == to]
        if since:
            cutoff = datetime.fromisoformat(since.replace("Z", "+00:00"))
            if cutoff.tzinfo is None:
                cutoff = cutoff.replace(tzinfo=UTC)
            found = [t for t in found if t["at"] >= cutoff.timestamp()]
        chunk = found[page * size : (page + 1) * size]
        more = len(found) > (page + 1) * size
        next_uri = None
        if more:
            params = {k: v for k, v in query.items() if k not in ("Page", "PageSize")}
            params.update(Page=page + 1, PageSize=size)
            encoded = urlencode(params)
            next_uri = f"/2010-04-01/Accounts/{chunk[0]['account_sid']}/Messages.json?{encoded}"
        return {
            "messages": [_public(t) for t in chunk],
            "page": page,
            "page_size": size,
            "next_page_uri": next_uri,
            "uri": "/2010-04-01/Accounts/x/Messages.json",
        }

    def _accept_email(self, payload: dict, *, withheld: bool) -> str:
        reference = str((payload.get("custom_args") or {}).get(REFERENCE_ARG, ""))
        for personalization in payload.get("personalizations") or []:
            reference = reference or str(
                (personalization.get("custom_args") or {}).get(REFERENCE_ARG, "")
            )
        to = ""
        personalizations = payload.get("personalizations") or [{}]
        if personalizations[0].get("to"):
            to = personalizations[0]["to"][0].get("email", "")
        provider_id = uuid.uuid4().hex[:22]
        with self.lock:
            self.emails.append(
                {
                    "reference": reference,
                    "to": to,
                    "subject": payload.get("subject", ""),
                    "provider_id": provider_id,
                    "at": time.time(),
                    "withheld": withheld,
                }
            )
        return provider_id

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, status: int, body: dict | None, headers: dict | None = None):
                payload = b"" if body is None else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the sender gave up waiting (a withheld answer)

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def do_GET(self):
                url = urlsplit(self.path)
                match = TWILIO_MESSAGES.match(url.path)
                if not match:
                    return self._reply(404, {"message": "not here"})
                outcome = fake._decide("twilio list")
                fake._pause(outcome)
                if outcome == "down":
                    return self._reply(503, {"code": 20503, "message": "Service unavailable"})
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                return self._reply(200, fake._list_texts(query))

            def do_POST(self):
                url = urlsplit(self.path)
                raw = self._body()
                match = TWILIO_MESSAGES.match(url.path)
                if match:
                    outcome = fake._decide("twilio send")
                    if outcome == "down":
                        fake._pause(outcome)
                        return self._reply(503, {"code": 20503, "message": "Unavailable"})
                    fields = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                    record = fake._accept_text(fields, match["account"], withheld=outcome == "hang")
                    fake._pause(outcome)
                    return self._reply(201, _public(record))
                if url.path == SENDGRID_SEND:
                    outcome = fake._decide("sendgrid send")
                    if outcome == "down":
                        fake._pause(outcome)
                        return self._reply(503, {"errors": [{"message": "Unavailable"}]})
                    provider_id = fake._accept_email(
                        json.loads(raw or b"{}"), withheld=outcome == "hang"
                    )
                    fake._pause(outcome)
                    return self._reply(202, None, {"X-Message-Id": provider_id})
                return self._reply(404, {"message": "not here"})

            def log_message(self, *args):
                pass

        return Handler

"""A local HTTP server standing in for Twilio's and SendGrid's APIs: the real SDKs send their
real requests to it, and no test touches the network."""

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest


class FakeProvider:
    """Records every request; answers with queued responses, then the default one."""

    def __init__(self):
        self.requests: list[dict] = []
        self.responses: deque = deque()
        self.default = (200, {}, {})
        self.delay = 0.0  # seconds before each answer (a provider slower than our timeout)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address
        return f"http://{host}:{port}"

    def respond(self, status: int, body: dict, headers: dict | None = None, *, times: int = 1):
        for _ in range(times):
            self.responses.append((status, headers or {}, body))

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                content_type = self.headers.get("Content-Type", "")
                if "json" in content_type:
                    data = json.loads(raw or "null")
                else:
                    data = {key: values[0] for key, values in parse_qs(raw).items()}
                fake.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "data": data,
                    }
                )
                status, headers, body = fake.responses.popleft() if fake.responses else fake.default
                time.sleep(fake.delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting (a timeout under test)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake_api():
    with FakeProvider() as fake:
        yield fake


def twilio_message(sid="SM0000000000000000000000000000000a", **fields):
    return {
        "sid": sid,
        "status": "queued",
        "account_sid": "AC00000000000000000000000000000000",
        "date_created": "Mon, 04 May 2026 18:00:00 +0000",
        **fields,
    }


@pytest.fixture
def twilio(settings, fake_api):
    """Texts go through the real Twilio backend to the fake API."""
    settings.SMS_BACKEND = "sequences.backends.twilio.TwilioBackend"
    settings.TWILIO_API_URL = fake_api.url
    fake_api.default = (201, {}, twilio_message())
    return fake_api

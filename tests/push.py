"""Web Push without the network: a local HTTP server stands in for the browsers' push services,
and each test browser is a real P-256 key pair and auth secret, so what pywebpush sends can be
decrypted and read exactly as a phone would (tests/alerts/, tests/browser/test_push_flows.py)."""

import base64
import json
import os
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from requests.structures import CaseInsensitiveDict

from alerts.vapid import b64url, public_key_of, vapid_key_pair


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_claims(authorization: str, public_key: str) -> dict:
    """The claims of a push request's `Authorization: vapid t=<JWT>, k=<key>` header (RFC 8292),
    after checking that `k` is our public key and that the JWT's ES256 signature verifies with
    it (cryptography raises InvalidSignature otherwise)."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == public_key
    head, claims, signature = fields["t"].split(".")
    assert json.loads(_unb64(head)) == {"typ": "JWT", "alg": "ES256"}
    raw = _unb64(signature)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(public_key))
    key.verify(
        encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
        f"{head}.{claims}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )
    return json.loads(_unb64(claims))


class FakePushService:
    """Records every request (headers and the raw encrypted body); answers 201 Created, as the
    push services do, unless a test queued other answers."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: deque = deque()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address
        return f"http://{host}:{port}"

    def answer(self, status: int, *, times: int = 1):
        self.answers.extend([status] * times)

    def to(self, endpoint: str) -> list[dict]:
        path = endpoint.removeprefix(self.url)
        return [request for request in self.requests if request["path"] == path]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = CaseInsensitiveDict(self.headers.items())  # as HTTP reads them
                fake.requests.append({"path": self.path, "headers": headers, "body": body})
                status = fake.answers.popleft() if fake.answers else 201
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Browser:
    """A browser's side of a subscription: the key pair and secret a phone keeps to itself."""

    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    endpoint: str

    @property
    def keys(self) -> dict:
        return {"p256dh": public_key_of(self.private_key), "auth": b64url(self.auth)}

    def subscription_json(self) -> dict:
        """What PushSubscription.toJSON() gives the page."""
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": self.keys}

    def decrypt(self, request: dict) -> dict:
        """The payload of a request to this browser, decrypted as the browser would."""
        plain = http_ece.decrypt(
            request["body"],
            private_key=self.private_key,
            auth_secret=self.auth,
            version="aes128gcm",
        )
        return json.loads(plain)


def new_browser(push_url: str) -> Browser:
    """A browser's keys, and an endpoint of its own at the fake push service."""
    token = base64.urlsafe_b64encode(os.urandom(12)).decode()
    return Browser(
        private_key=ec.generate_private_key(ec.SECP256R1()),
        auth=os.urandom(16),
        endpoint=f"{push_url}/push/{token}",
    )


def push_on(settings) -> None:
    """Push on, with a fresh key pair (what `manage.py vapid_keys` prints), and the fake push
    service allowed as a subscription's endpoint."""
    public, private = vapid_key_pair()
    settings.VAPID_PUBLIC_KEY = public
    settings.VAPID_PRIVATE_KEY = private
    settings.VAPID_SUBJECT = "mailto:it@harborandmain.example"
    settings.PUSH_SERVICE_HOSTS = [*settings.PUSH_SERVICE_HOSTS, "http://127.0.0.1"]

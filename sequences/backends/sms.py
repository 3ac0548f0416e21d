"""SMS backends without a provider: console (development) and in-memory (tests)."""

import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone


@dataclass
class OutgoingSms:
    """What a backend needs to send one text. `reference` is our message's id."""

    to: str
    body: str
    reference: str = ""
    status_callback: str = ""
    handed_at: datetime | None = field(default=None, compare=False)


class BaseSmsBackend:
    """Subclass and implement send(); implement lookup() when the provider can be asked."""

    def send(self, sms: OutgoingSms) -> str:
        """Hand the text to the provider; return its message id or raise a ProviderError."""
        raise NotImplementedError

    def lookup(self, sms: OutgoingSms, *, since: datetime) -> str | None:
        """Did any attempt since `since` (the message's first) reach the provider? Its id if
        so, "" if certainly not, None when this backend can never tell. Raise a ProviderError
        when the provider could answer but cannot be reached now: the message then waits
        (still "outcome unknown") instead of going out blind."""
        return None


class ConsoleBackend(BaseSmsBackend):
    """Writes each text to standard output. Never touches the network."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send(self, sms: OutgoingSms) -> str:
        provider_id = f"console-{uuid.uuid4().hex[:16]}"
        with self._lock:
            self.stream.write(f"SMS to {sms.to} [{provider_id}]\n{sms.body}\n{'-' * 60}\n")
            self.stream.flush()
        return provider_id


# Like django.core.mail.outbox: every text "sent" through LocmemBackend, in this process.
outbox: list[OutgoingSms] = []


class LocmemBackend(BaseSmsBackend):
    """Keeps texts in `sequences.backends.sms.outbox` (the `sms_outbox` test fixture)."""

    def send(self, sms: OutgoingSms) -> str:
        sms.handed_at = timezone.now()
        outbox.append(sms)
        return f"locmem-{len(outbox)}-{uuid.uuid4().hex[:8]}"

    def lookup(self, sms: OutgoingSms, *, since: datetime) -> str | None:
        for index, sent in enumerate(outbox, start=1):
            if sent.reference and sent.reference == sms.reference:
                return f"locmem-{index}-found"
        return ""

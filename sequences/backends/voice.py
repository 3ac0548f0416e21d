"""Voice backends: ring a phone and hand the answered call to our TwiML, like SMS_BACKEND.

    VOICE_BACKEND  sequences.backends.voice.ConsoleVoiceBackend (default) | .voice.LocmemVoiceBackend
                   (tests) | sequences.backends.twilio_voice.TwilioVoiceBackend

place() returns the provider's id for the call or raises a ProviderError. A backend that is
`simulated` has no provider behind it that will ever call our webhooks back, so the dashboard
offers to play the answer itself (development and the demo: `make run` needs no Twilio).

Also the provider-neutral words for what happened to one leg of a call (CallLeg): the provider's
module turns its webhooks into these, so no provider status word is read anywhere else.
"""

import logging
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass
class OutgoingCall:
    """What a backend needs to ring one phone. `reference` is our Call's id."""

    to: str
    caller_id: str
    answer_url: str  # asked for what to say when the phone is answered
    status_callback: str  # told how the leg goes (ringing, answered, completed …)
    reference: str = ""
    placed_at: datetime | None = field(default=None, compare=False)


def caller_id() -> str:
    """The brokerage's number that rings the agent and that the lead sees: TWILIO_VOICE_NUMBER,
    else TWILIO_FROM_NUMBER (the Twilio backend requires one of them), else the brokerage's
    phone (what the console shows)."""
    return settings.TWILIO_VOICE_NUMBER or settings.TWILIO_FROM_NUMBER or settings.BROKERAGE_PHONE


class LegStatus(StrEnum):
    """Where one leg of a call is, whichever provider says so."""

    RINGING = "ringing"
    ANSWERED = "answered"  # picked up, still going
    COMPLETED = "completed"  # picked up, now over
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # the number could not be reached
    CANCELED = "canceled"  # hung up before it was answered
    OTHER = "other"  # anything else (queued, initiated): changes nothing


ENDED = frozenset(
    {LegStatus.COMPLETED, LegStatus.NO_ANSWER, LegStatus.BUSY, LegStatus.FAILED, LegStatus.CANCELED}
)


@dataclass(frozen=True)
class CallLeg:
    """One report about one leg: the agent's (our call) or the lead's (the one we dialed)."""

    status: LegStatus
    provider_id: str = ""
    duration_seconds: int | None = None
    recording_url: str = ""
    detail: str = ""  # the provider's own word, kept for the record

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def answered(self) -> bool:
        return self.status in (LegStatus.ANSWERED, LegStatus.COMPLETED)


class BaseVoiceBackend:
    """Subclass and implement place()."""

    simulated = False

    def place(self, call: OutgoingCall) -> str:
        """Ring `call.to`; return the provider's id for the call or raise a ProviderError."""
        raise NotImplementedError


class ConsoleVoiceBackend(BaseVoiceBackend):
    """Writes each call to standard output. Never touches the network: the lead page offers to
    play the answer (the agent picks up, presses 1, the lead answers)."""

    simulated = True

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def place(self, call: OutgoingCall) -> str:
        provider_id = f"console-call-{uuid.uuid4().hex[:16]}"
        with self._lock:
            self.stream.write(
                f"CALL to {call.to} from {call.caller_id} [{provider_id}]\n"
                f"(a phone would now ring; play the answer on the lead page)\n{'-' * 60}\n"
            )
            self.stream.flush()
        return provider_id


# Like sequences.backends.sms.outbox: every call "placed" through LocmemVoiceBackend.
outbox: list[OutgoingCall] = []


class LocmemVoiceBackend(BaseVoiceBackend):
    """Keeps calls in `sequences.backends.voice.outbox` (the `call_outbox` test fixture)."""

    simulated = True

    def place(self, call: OutgoingCall) -> str:
        call.placed_at = timezone.now()
        outbox.append(call)
        return f"locmem-call-{len(outbox)}-{uuid.uuid4().hex[:8]}"

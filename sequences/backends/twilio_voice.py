"""Call-connect through Twilio Voice (the `twilio` SDK): the REST call that rings the agent, the
TwiML our webhooks answer with, and Twilio's call webhooks read into neutral CallLegs.

    TwilioVoiceBackend.place   calls.create(to=agent, from_=our number, url=answer TwiML, …)
    answer_twiml               the agent picked up: who the lead is, "press 1 to connect" (Gather)
    connect_twiml              they pressed 1: the recording notice if any, then Dial the lead
    whisper_twiml              played to the lead on answering, before they are connected
    goodbye_twiml              a sentence, then hang up
    leg_from_status            a status callback (either leg) → CallLeg
    leg_from_dial              the Dial's action request (the lead's leg is over) → CallLeg

The words are the caller's (alerts.calls); the verbs, nouns and status words are Twilio's and
stay here.
"""

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioRestException
from twilio.twiml.voice_response import VoiceResponse

from realtycrm.http import ascii_digits

from . import OutcomeUnknownError, TransientError
from .twilio import error_from, twilio_client
from .voice import BaseVoiceBackend, CallLeg, LegStatus, OutgoingCall

# How long each phone rings before it counts as not answered (seconds): the agent's a little
# longer than a voicemail pickup usually takes, the lead's as long as a person needs.
AGENT_RING_SECONDS = 20
LEAD_RING_SECONDS = 30
# How long the agent has to press 1 after the announcement (seconds).
GATHER_SECONDS = 8
# Every event of the agent's leg is reported; the lead's too, so the call page follows it.
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
# Twilio records both sides on separate channels when recording is on.
RECORD_ON, RECORD_OFF = "record-from-answer-dual", "do-not-record"
LANGUAGE = "en-US"  # Twilio's own voice, in US English (no extra text-to-speech charge)

LEG_STATUS = {
    "ringing": LegStatus.RINGING,
    "in-progress": LegStatus.ANSWERED,
    "answered": LegStatus.ANSWERED,
    "completed": LegStatus.COMPLETED,
    "no-answer": LegStatus.NO_ANSWER,
    "busy": LegStatus.BUSY,
    "failed": LegStatus.FAILED,
    "canceled": LegStatus.CANCELED,
}


def voice_number() -> str:
    """The brokerage's number that calls the agent and that the lead sees."""
    return settings.TWILIO_VOICE_NUMBER or settings.TWILIO_FROM_NUMBER


class TwilioVoiceBackend(BaseVoiceBackend):
    def __init__(self, *, account_sid=None, auth_token=None, api_url=None, timeout=None):
        account_sid = settings.TWILIO_ACCOUNT_SID if account_sid is None else account_sid
        auth_token = settings.TWILIO_AUTH_TOKEN if auth_token is None else auth_token
        if not (account_sid and auth_token):
            raise ImproperlyConfigured("Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        if not voice_number():
            raise ImproperlyConfigured("Set TWILIO_VOICE_NUMBER (or TWILIO_FROM_NUMBER) to call.")
        self.client = twilio_client(account_sid, auth_token, api_url=api_url, timeout=timeout)

    def place(self, call: OutgoingCall) -> str:
        try:
            placed = self.client.calls.create(
                to=call.to,
                from_=call.caller_id,
                url=call.answer_url,
                method="POST",
                status_callback=call.status_callback,
                status_callback_method="POST",
                status_callback_event=CALL_EVENTS,
                timeout=AGENT_RING_SECONDS,
            )
        except TwilioRestException as exc:
            raise error_from(exc) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise TransientError(f"Could not reach Twilio: {exc}") from exc
        except requests.exceptions.RequestException as exc:
            raise OutcomeUnknownError(f"No answer from Twilio: {exc}") from exc
        return placed.sid


# --- TwiML -----------------------------------------------------------------------------------


def _say(verb, text: str) -> None:
    verb.say(text, language=LANGUAGE)


def answer_twiml(announcement: str, *, connect_url: str, not_heard: str) -> str:
    """What the agent hears on picking up: the announcement, twice, waiting for one key."""
    response = VoiceResponse()
    gather = response.gather(
        input="dtmf", num_digits=1, action=connect_url, method="POST", timeout=GATHER_SECONDS
    )
    _say(gather, announcement)
    gather.pause(length=1)
    _say(gather, announcement)
    _say(response, not_heard)
    response.hangup()
    return str(response)


def connect_twiml(
    *,
    lead_number: str,
    caller_id: str,
    dial_action: str,
    lead_status_callback: str,
    record: bool,
    notice: str = "",
    whisper_url: str = "",
) -> str:
    """The agent pressed 1: the recording notice (when recording), then the lead is dialed from
    the brokerage's number. The lead hears the notice too (whisper_url) before they connect."""
    response = VoiceResponse()
    if record and notice:
        _say(response, notice)
    dial = response.dial(
        caller_id=caller_id,
        action=dial_action,
        method="POST",
        timeout=LEAD_RING_SECONDS,
        record=RECORD_ON if record else RECORD_OFF,
    )
    number = {
        "status_callback": lead_status_callback,
        "status_callback_event": " ".join(CALL_EVENTS),
        "status_callback_method": "POST",
    }
    if record and whisper_url:
        number.update(url=whisper_url, method="POST")
    dial.number(lead_number, **number)
    return str(response)


def whisper_twiml(notice: str) -> str:
    response = VoiceResponse()
    _say(response, notice)
    return str(response)


def goodbye_twiml(text: str = "") -> str:
    response = VoiceResponse()
    if text:
        _say(response, text)
    response.hangup()
    return str(response)


# --- Webhooks --------------------------------------------------------------------------------


def _seconds(value) -> int | None:
    text = str(value or "").strip()
    return int(text) if ascii_digits(text) else None


def call_sid(payload) -> str:
    """The call a request is about (the leg Twilio is running this request for)."""
    return str(payload.get("CallSid", ""))


def parent_sid(payload) -> str:
    """For a request about the dialed leg: the agent's call it belongs to."""
    return str(payload.get("ParentCallSid", ""))


def pressed(payload) -> str:
    """The key(s) the agent pressed at the Gather."""
    return str(payload.get("Digits", "")).strip()


def leg_from_status(payload) -> CallLeg:
    """A status callback: CallStatus and, once over, CallDuration."""
    word = str(payload.get("CallStatus", "")).lower()
    return CallLeg(
        status=LEG_STATUS.get(word, LegStatus.OTHER),
        provider_id=call_sid(payload),
        duration_seconds=_seconds(payload.get("CallDuration")),
        detail=word[:40],
    )


def leg_from_dial(payload) -> CallLeg:
    """The Dial's action request, sent when the dialed leg is over: DialCallStatus and
    DialCallDuration (and the recording, when one was made)."""
    word = str(payload.get("DialCallStatus", "")).lower()
    return CallLeg(
        status=LEG_STATUS.get(word, LegStatus.OTHER),
        provider_id=str(payload.get("DialCallSid", "")),
        duration_seconds=_seconds(payload.get("DialCallDuration")),
        recording_url=str(payload.get("RecordingUrl", ""))[:500],
        detail=word[:40],
    )

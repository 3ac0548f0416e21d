"""Twilio Voice's side of a call-connect, for tests: what the fake API answers to calls.create,
and a phone that plays the call against our webhooks the way Twilio would, by following the TwiML
we answer with (the Gather's action, the Dial's action, its number's status callback), every
request signed as Twilio signs it. It reads our URLs from the TwiML and the create request, never
from our code, so a test also proves the TwiML leads where it should."""

import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from django.conf import settings
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC00000000000000000000000000000000"


def twilio_call(sid="CA0000000000000000000000000000000a", **fields) -> dict:
    """What Twilio answers to calls.create."""
    return {
        "sid": sid,
        "status": "queued",
        "account_sid": ACCOUNT_SID,
        "direction": "outbound-api",
        "date_created": "Mon, 04 May 2026 18:00:00 +0000",
        **fields,
    }


def signature(url: str, data: dict, token: str | None = None) -> str:
    return RequestValidator(token or settings.TWILIO_AUTH_TOKEN).compute_signature(url, data)


def client_poster(client):
    """Post through Django's test client (the URL's path; the signature covers the full URL)."""

    def post(url, data, headers):
        path = urllib.parse.urlsplit(url).path
        response = client.post(path, data, headers=headers)
        return response.status_code, response.content.decode()

    return post


def http_poster(url, data, headers):
    """Post over HTTP (a live server, as Twilio would)."""
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a live server
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def twiml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - our own answer, in a test


@dataclass
class TwilioPhone:
    """One call as Twilio runs it. `created` is the calls.create request the fake API recorded
    (To, From, Url, StatusCallback …); `post(url, data, headers)` → (status, body)."""

    created: dict
    post: object
    sid: str = "CA0000000000000000000000000000000a"
    lead_sid: str = "CA00000000000000000000000000000lead"
    answers: list = field(default_factory=list)  # every (status, body) our webhooks gave

    def _send(self, url: str, data: dict, *, token: str | None = None) -> tuple[int, str]:
        headers = {"X-Twilio-Signature": signature(url, data, token)}
        answer = self.post(url, data, headers)
        self.answers.append(answer)
        return answer

    def _agent_leg(self, **data) -> dict:
        return {
            "AccountSid": ACCOUNT_SID,
            "CallSid": self.sid,
            "From": self.created["From"],
            "To": self.created["To"],
            "Direction": "outbound-api",
            **data,
        }

    def _lead_leg(self, number: str, **data) -> dict:
        return {
            "AccountSid": ACCOUNT_SID,
            "CallSid": self.lead_sid,
            "ParentCallSid": self.sid,
            "From": self.created["From"],
            "To": number,
            "Direction": "outbound-dial",
            **data,
        }

    # --- the agent's leg

    def status(self, word: str, **data) -> tuple[int, str]:
        return self._send(self.created["StatusCallback"], self._agent_leg(CallStatus=word, **data))

    def pick_up(self) -> ET.Element:
        """The agent answers: Twilio asks the call's Url what to do."""
        self.status("ringing")
        code, body = self._send(self.created["Url"], self._agent_leg(CallStatus="in-progress"))
        assert code == 200, body
        return twiml(body)

    def press(self, answer: ET.Element, digits: str) -> ET.Element:
        """The agent presses a key at the Gather: Twilio posts it to the Gather's action."""
        gather = answer.find("Gather")
        code, body = self._send(
            gather.get("action"), self._agent_leg(CallStatus="in-progress", Digits=digits)
        )
        assert code == 200, body
        return twiml(body)

    def hang_up(self, seconds: int = 30) -> tuple[int, str]:
        return self.status("completed", CallDuration=str(seconds))

    # --- the lead's leg, dialed by the TwiML's <Dial>

    def _dial(self, connect: ET.Element) -> tuple[ET.Element, ET.Element]:
        dial = connect.find("Dial")
        return dial, dial.find("Number")

    def lead_answers(self, connect: ET.Element, seconds: int = 252) -> ET.Element:
        """The lead picks up and they talk for `seconds`: the number's status callbacks, then
        the Dial's action; then the agent's leg ends."""
        dial, number = self._dial(connect)
        callback, lead = number.get("statusCallback"), number.text
        self._send(callback, self._lead_leg(lead, CallStatus="ringing"))
        self._send(callback, self._lead_leg(lead, CallStatus="in-progress"))
        self._send(
            callback, self._lead_leg(lead, CallStatus="completed", CallDuration=str(seconds))
        )
        code, body = self._send(
            dial.get("action"),
            self._agent_leg(
                CallStatus="in-progress",
                DialCallSid=self.lead_sid,
                DialCallStatus="completed",
                DialCallDuration=str(seconds),
            ),
        )
        assert code == 200, body
        self.hang_up(seconds + 20)
        return twiml(body)

    def lead_does_not_answer(self, connect: ET.Element, word: str = "no-answer") -> ET.Element:
        dial, number = self._dial(connect)
        callback, lead = number.get("statusCallback"), number.text
        self._send(callback, self._lead_leg(lead, CallStatus="ringing"))
        self._send(callback, self._lead_leg(lead, CallStatus=word))
        code, body = self._send(
            dial.get("action"),
            self._agent_leg(
                CallStatus="in-progress", DialCallSid=self.lead_sid, DialCallStatus=word
            ),
        )
        assert code == 200, body
        self.hang_up(40)
        return twiml(body)

"""Backends for the benchmarks: hand-off is "written to a file with the time", nothing else.

Used by bench/speed_to_lead.py through SMS_BACKEND / EMAIL_BACKEND. Each hand-off
appends one JSON line to $BENCH_HANDOFF_FILE (a single short write, so the web process and the
worker processes never interleave lines). $BENCH_PROVIDER_DELAY_MS (default 0) makes each hand-off
take that long first, like a provider's API round trip (Twilio's is about 150-300 ms).
"""

import json
import os
import time

from django.core.mail.backends.base import BaseEmailBackend

from sequences.backends.email import REFERENCE_HEADER
from sequences.backends.sms import BaseSmsBackend


def _record(channel: str, to: str, reference: str, body: str = "") -> str:
    delay = int(os.environ.get("BENCH_PROVIDER_DELAY_MS") or 0)
    if delay:
        time.sleep(delay / 1000)
    line = json.dumps(
        {"channel": channel, "to": to, "ref": reference, "body": body[:300], "at": time.time()}
    )
    with open(os.environ["BENCH_HANDOFF_FILE"], "a", encoding="utf-8") as handoffs:
        handoffs.write(line + "\n")
    return f"bench-{channel}-{reference}"


class RecordingSmsBackend(BaseSmsBackend):
    def send(self, sms) -> str:
        return _record("sms", sms.to, sms.reference, sms.body)


class RecordingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            message.provider_id = _record(
                "email", message.to[0], message.extra_headers.get(REFERENCE_HEADER, "")
            )
        return len(email_messages)

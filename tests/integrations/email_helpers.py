"""The sample portal emails (fixtures/email/*.eml) and the two ways SendGrid Inbound Parse posts
one: its default parsed fields, or "send raw" (the whole MIME message as `email`)."""

import json
from email import policy
from email.parser import BytesParser
from pathlib import Path

from django.urls import reverse

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "email"
INBOX = "leads@inbox.harborandmain.example"
TOKEN = "test-inbound-email-token"  # realtycrm/settings/test.py


def eml(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def raw_post(message: bytes | str, *, envelope_to=None, sender="bounce@mail.example") -> dict:
    """What SendGrid posts with "POST the raw, full MIME message" ticked."""
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return {
        "email": message,
        "envelope": json.dumps({"to": envelope_to or [INBOX], "from": sender}),
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
        "SPF": "pass",
        "dkim": "{@mail.example : pass}",
        "sender_ip": "198.51.100.20",
        "spam_score": "0.1",
    }


def fields_post(message: bytes, *, envelope_to=None, without=()) -> dict:
    """What SendGrid posts by default: the headers as one block, the addresses and subject
    decoded, the text and HTML bodies apart. `without`: fields to leave out."""
    parsed = BytesParser(policy=policy.default).parsebytes(message)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    header_block = "".join(f"{key}: {value}\n" for key, value in parsed.raw_items())
    fields = {
        "headers": header_block,
        "from": str(parsed["From"] or ""),
        "to": str(parsed["To"] or ""),
        "cc": str(parsed["Cc"] or ""),
        "subject": str(parsed["Subject"] or ""),
        "text": text.get_content() if text is not None else "",
        "html": html.get_content() if html is not None else "",
        "envelope": json.dumps({"to": envelope_to or [INBOX], "from": str(parsed["From"])}),
        "charsets": json.dumps({"to": "UTF-8", "html": "utf-8", "text": "utf-8"}),
        "attachments": "0",
        "SPF": "pass",
        "sender_ip": "198.51.100.20",
    }
    return {key: value for key, value in fields.items() if key not in without and value != ""}


def inbox_url(token: str = TOKEN) -> str:
    return reverse("integrations:inbound-email", args=[token])


def post_email(client, data: dict, token: str = TOKEN):
    """Post as SendGrid does: multipart/form-data (the test client's default)."""
    return client.post(inbox_url(token), data, REMOTE_ADDR="198.51.100.20")

"""A SendGrid Inbound Parse post as one InboundEmail, however it was posted.

SendGrid posts either its parsed fields (`from`, `to`, `cc`, `subject`, `text`, `html`, the raw
`headers` block, the SMTP `envelope` as JSON) or, with "POST the raw, full MIME message", the
whole message as `email` (beside `envelope`). Both become the same InboundEmail, read with the
standard library's `email` package (email.policy.default), so the parsers never care which.

Nothing here raises on bad input: a header that cannot be parsed falls back to its raw text, a
body in an unknown charset is decoded with replacement characters, garbage is a text/plain email
of garbage, and what could not be read is listed in `problems` for the broker.
"""

import contextlib
import email
import json
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from functools import cached_property
from html.parser import HTMLParser

# The fields that make a post an email at all (either shape): a recipient alone is none.
EMAIL_FIELDS = ("email", "from", "subject", "text", "html", "headers")
# A forwarded message may hold a forwarded message: read this deep, no deeper.
MAX_FORWARD_DEPTH = 2
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "X-Forwarded-To")


@dataclass(frozen=True)
class InboundEmail:
    """One received email, as the parsers read it. Addresses are lower-case."""

    sender: str = ""  # the From address
    sender_name: str = ""
    reply_to: tuple[str, ...] = ()
    # Where it was delivered: the SMTP envelope first (the one address certainly ours), then the
    # To, Cc and forwarding headers, each once.
    recipients: tuple[str, ...] = ()
    subject: str = ""
    message_id: str = ""  # normalised (normal_message_id)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    # Messages forwarded as attachments (message/rfc822), read the same way.
    forwarded: tuple["InboundEmail", ...] = ()
    problems: tuple[str, ...] = ()
    raw: bool = False  # posted as the whole MIME message

    # Each reader asks for these; worked out once per email.
    @cached_property
    def html_as_text(self) -> str:
        return html_text(self.html)

    @cached_property
    def body(self) -> str:
        """The readable text: the plain-text alternative, else the HTML's text."""
        return self.text if self.text.strip() else self.html_as_text

    @cached_property
    def links(self) -> tuple[str, ...]:
        return tuple(html_links(self.html))

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]


def is_email_post(fields: dict) -> bool:
    return any(fields.get(name) for name in EMAIL_FIELDS)


def email_from_post(fields: dict) -> InboundEmail:
    """The email a SendGrid post carries: `email` (the raw MIME message) when present, else the
    parsed fields. `fields` are the post's text fields, name → value."""
    envelope = _envelope(fields.get("envelope"))
    raw = fields.get("email")
    if isinstance(raw, str) and raw.strip():
        return email_from_mime(raw, envelope=envelope)
    return email_from_fields(fields, envelope=envelope)


def email_from_mime(raw: str | bytes, *, envelope: dict | None = None) -> InboundEmail:
    """A whole MIME message (SendGrid's "send raw", or an .eml file)."""
    if isinstance(raw, str):
        # Django decoded the field as UTF-8; the bytes again let the parser honour each part's
        # own charset.
        raw = raw.encode("utf-8", "surrogateescape")
    message = email.message_from_bytes(raw, policy=policy.default)
    return _read_message(message, envelope=envelope or {}, depth=0, raw=True)


def email_from_fields(fields: dict, *, envelope: dict | None = None) -> InboundEmail:
    """SendGrid's default post: the fields it parsed, plus the raw header block for the rest
    (Message-ID, Reply-To, Date, the forwarding headers)."""
    problems = []
    headers = _raw_headers(_header_block(_text(fields.get("headers")), problems))
    sender_name, sender = _address(_text(fields.get("from")) or _header(headers, "From"))
    recipients = _recipients(
        envelope or {},
        [_text(fields.get("to")), _text(fields.get("cc"))],
        headers,
    )
    return InboundEmail(
        sender=sender,
        sender_name=sender_name,
        reply_to=_addresses([_header(headers, "Reply-To")]),
        recipients=recipients,
        subject=_words(_text(fields.get("subject")) or _header(headers, "Subject")),
        message_id=normal_message_id(_header(headers, "Message-ID")),
        date=_date(_header(headers, "Date")),
        text=_unix_lines(_text(fields.get("text"))),
        html=_unix_lines(_text(fields.get("html"))),
        problems=tuple(problems),
    )


def normal_message_id(value: str) -> str:
    """A Message-ID as the dedupe key: without the angle brackets and surrounding space, '' for
    none. (The id is case-sensitive by the RFC, so its case is kept.)"""
    value = (value or "").strip()
    found = re.search(r"<([^<>\s]+)>", value)
    value = found.group(1) if found else value.split()[0] if value.split() else ""
    return value.strip("<>")


def _read_message(
    message: Message, *, envelope: dict, depth: int, raw: bool = False
) -> InboundEmail:
    problems = [str(defect) for defect in getattr(message, "defects", [])][:5]
    headers = _raw_headers(message)
    sender_name, sender = _address(_header(headers, "From"))
    text, html, attached = _bodies(message, problems)
    forwarded = ()
    if depth < MAX_FORWARD_DEPTH:
        forwarded = tuple(_read_message(inner, envelope={}, depth=depth + 1) for inner in attached)
    return InboundEmail(
        sender=sender,
        sender_name=sender_name,
        reply_to=_addresses([_header(headers, "Reply-To")]),
        recipients=_recipients(envelope, [], headers),
        subject=_words(_header(headers, "Subject")),
        message_id=normal_message_id(_header(headers, "Message-ID")),
        date=_date(_header(headers, "Date")),
        text=text,
        html=html,
        forwarded=forwarded,
        problems=tuple(problems),
        raw=raw,
    )


def _raw_headers(message: Message | None) -> dict[str, list[str]]:
    """Each header's raw values (unfolded, encoded words left as sent), by lower-case name.
    Read raw: the default policy would parse every header into objects on access (most of the
    cost of reading an email), and a malformed one can raise there; the values we need are
    parsed below, each the one way it needs."""
    headers: dict[str, list[str]] = {}
    if message is None:
        return headers
    for key, value in message.raw_items():
        unfolded = re.sub(r"\r?\n[ \t]+", " ", str(value)).strip()
        headers.setdefault(str(key).strip().lower(), []).append(unfolded)
    return headers


def _header(headers: dict[str, list[str]], name: str) -> str:
    """A header's first raw value, '' when absent."""
    values = headers.get(name.lower())
    return values[0] if values else ""


def _words(value: str) -> str:
    """RFC 2047 encoded words (=?utf-8?q?...?=) decoded, when there are any and they decode."""
    value = (value or "").strip()
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value))).strip()
    except Exception:  # undecodable: keep it as sent
        return value


def _header_block(block: str, problems: list) -> EmailMessage | None:
    if not block.strip():
        return None
    try:
        return HeaderParser(policy=policy.default).parsestr(block)
    except Exception as error:  # unreadable header block: read without it
        problems.append(f"headers: {error}"[:200])
        return None


def _address(value: str) -> tuple[str, str]:
    """(display name, lower-case address) of one address header; ('', '') when there is none.
    The address is parsed before the name's encoded words are decoded (a decoded comma would
    split it)."""
    name, address = parseaddr(value or "")
    name = _words(name).strip().strip('"')
    if "@" not in address:
        return name, ""
    return name, address.strip().lower()


def _addresses(values) -> tuple[str, ...]:
    found = []
    for value in values:
        if not value:
            continue
        for _name, address in getaddresses([value]):
            address = address.strip().lower()
            if "@" in address and address not in found:
                found.append(address)
    return tuple(found)


def _recipients(envelope: dict, values: list, headers: dict[str, list[str]]) -> tuple[str, ...]:
    envelope_to = envelope.get("to") or []
    if isinstance(envelope_to, str):
        envelope_to = [envelope_to]
    delivered = [value for name in RECIPIENT_HEADERS for value in headers.get(name.lower(), [])]
    return _addresses([*(str(item) for item in envelope_to), *values, *delivered])


def _envelope(value) -> dict:
    """SendGrid's `envelope` field: JSON {"to": [...], "from": "..."}; {} when it is not."""
    if isinstance(value, dict):
        return value
    try:
        envelope = json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}
    return envelope if isinstance(envelope, dict) else {}


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _text(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def _content_type(part: Message) -> tuple[str, dict]:
    """A part's content type and parameters, its header parsed once (the default policy parses
    it again on every get_content_type(): the most expensive thing in reading an email)."""
    try:
        header = part.get("Content-Type")
    except Exception:  # a header the policy cannot parse: the default type
        header = None
    if header is None or not getattr(header, "content_type", ""):
        return part.get_default_type(), {}
    return header.content_type, dict(header.params)


def _parts(message: Message, depth: int = 0):
    """(part, content type, params) of every part, not descending into attached messages (those
    are read as messages of their own) nor deeper than any real email nests."""
    content_type, params = _content_type(message)
    yield message, content_type, params
    if depth < 20 and message.is_multipart() and content_type != "message/rfc822":
        payload = message.get_payload()
        for part in payload if isinstance(payload, list) else []:
            if isinstance(part, Message):
                yield from _parts(part, depth + 1)


def _bodies(message: Message, problems: list) -> tuple[str, str, list[Message]]:
    """The first inline text/plain and text/html bodies (decoded whatever their charset) and
    the messages attached whole (message/rfc822: how some mail clients forward)."""
    text = html = None
    attached = []
    for part, content_type, params in _parts(message):
        if content_type == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                attached.append(payload[0])
            continue
        if content_type not in ("text/plain", "text/html") or _is_attachment(part):
            continue
        if content_type == "text/plain" and text is None:
            text = _decoded(part, params, problems)
        elif content_type == "text/html" and html is None:
            html = _decoded(part, params, problems)
    return text or "", html or "", attached[:3]


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:  # an unreadable disposition: treat the part as inline
        return False


def _decoded(part: Message, params: dict, problems: list) -> str:
    try:
        payload = part.get_payload(decode=True) or b""
    except Exception:  # a broken transfer encoding: nothing to read
        problems.append("a body part could not be decoded")
        return ""
    if isinstance(payload, str):
        return payload
    charset = str(params.get("charset") or "utf-8").strip().lower()
    try:
        return _unix_lines(payload.decode(charset, "replace"))
    except LookupError:
        problems.append(f"unknown charset {charset[:40]}")
        return _unix_lines(payload.decode("utf-8", "replace"))


def _unix_lines(text: str) -> str:
    """Line breaks as "\n" (mail travels with CRLF; the parsers read lines)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- HTML as text -------------------------------------------------------------------------------

BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "tr",
    "li",
    "ul",
    "ol",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "section",
    "header",
    "footer",
    "blockquote",
    "pre",
    "address",
}
CELL_TAGS = {"td", "th"}
SKIPPED_TAGS = {"script", "style", "head", "title", "template"}


class _Text(HTMLParser):
    """HTML as the lines a person reads: blocks on lines of their own, table cells separated by a
    tab (so "Name | Jordan Ellis" stays one labelled line), scripts and styles left out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in CELL_TAGS:
            self.parts.append("\t")

    def handle_startendtag(self, tag, attrs):
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in SKIPPED_TAGS:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text of an HTML email, line by line; '' for none. Never raises."""
    if not html or not html.strip():
        return ""
    parser = _Text()
    with contextlib.suppress(Exception):  # html.parser is lenient; whatever it read is kept
        parser.feed(html)
        parser.close()
    lines = []
    for line in "".join(parser.parts).replace("\r", "").split("\n"):
        cells = [re.sub(r"[ \u00a0]+", " ", cell).strip() for cell in line.split("\t")]
        cells = [cell for cell in cells if cell]
        lines.append("\t".join(cells))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith(("http://", "https://")):
                self.links.append(href)


def html_links(html: str) -> list[str]:
    """Every http(s) link of an HTML email, in order (a listing's URL may be only a link)."""
    if not html:
        return []
    parser = _Links()
    with contextlib.suppress(Exception):  # lenient parser; keep what it found
        parser.feed(html)
        parser.close()
    return parser.links

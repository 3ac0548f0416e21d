"""What a reader found in a lead email (ParsedLead), in the email's own words, before mapping.

The readers (Lead Metadata tags, the portal parsers) only find things; integrations.email.mapping
decides what they mean for the lead (source, side, timeline, E.164 phone). An email no reader
understood still gives clues (a sender, an address or number in the body, a timeframe line):
`clues_found` collects them for the broker's "make a lead from this" form.
"""

import re
import unicodedata
from dataclasses import dataclass, field, replace

import phonenumbers
from django.conf import settings

from .mime import InboundEmail


class Kind:
    """What the email says the person asked for, which decides the source (mapping.KIND_SOURCE)."""

    SELLER = "seller"  # a seller, a home value request
    LISTING = "listing"  # a question about one listing
    TOUR = "tour"  # a tour or showing request about one listing
    OPEN_HOUSE = "open_house"  # an open house RSVP or visit
    BUYER = "buyer"  # a buyer with no listing named
    RENTER = "renter"
    GENERAL = "general"  # anything else


# The words a portal or a lead_type uses for each kind, most specific first.
KIND_WORDS = (
    (Kind.OPEN_HOUSE, re.compile(r"\bopen[ -]house\b", re.I)),
    (
        Kind.TOUR,
        re.compile(
            r"\b(tour|showing|schedule a (visit|viewing)|see (it|this home|the home) in person)\b",
            re.I,
        ),
    ),
    (
        Kind.SELLER,
        re.compile(
            r"\b(sell(er|ing)?|home[’'s]* (value|worth)|valuation|what'?s my home worth|"
            r"home estimate|cma)\b",
            re.I,
        ),
    ),
    (Kind.RENTER, re.compile(r"\b(rent(er|al|ing)?|lease)\b", re.I)),
    (Kind.BUYER, re.compile(r"\b(buy(er|ing)?|purchase)\b", re.I)),
)


def kind_from_words(text: str) -> str | None:
    """The kind a phrase names ("Seller", "Tour request", "Open House RSVP"), None if none."""
    for kind, words in KIND_WORDS:
        if words.search(text or ""):
            return kind
    return None


# A field_mapping names our Lead fields ("timeline"); the ParsedLead attribute a reader fills.
OUR_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "timeline": "time_frame",
    "property_address": "property_address",
    "postal_code": "postal_code",
    "bedrooms": "bedrooms",
    "bathrooms": "bathrooms",
    "open_house": "open_house",
    "message": "message",
}


@dataclass(frozen=True)
class ParsedLead:
    """One lead as an email states it. Every value is text as written (cleaned of control
    characters), '' when the email does not say."""

    parser: str  # "lead_metadata", "zillow", "realtor_com", "homes_com", "redfin"
    origin: str  # the brand or system that sent it ("Zillow", a lead_source)
    kind: str = Kind.GENERAL
    kind_label: str = ""  # the email's own word for it: a lead_type, an "Inquiry type"
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    property_address: str = ""  # the street line, or the whole address as written
    city: str = ""
    state: str = ""
    postal_code: str = ""
    listing_id: str = ""
    listing_url: str = ""
    mls: str = ""
    price: str = ""
    bedrooms: str = ""
    bathrooms: str = ""
    message: str = ""
    time_frame: str = ""
    open_house: str = ""
    tour_time: str = ""
    # Anything else the email named that has no Lead field (financing, a max price, tags).
    details: dict = field(default_factory=dict)

    @property
    def has_contact(self) -> bool:
        return bool(self.email or self.phone)

    def found(self) -> dict:
        """What it did find, for a broker to complete: the non-empty values."""
        return {
            name: value
            for name, value in self.__dict__.items()
            if isinstance(value, str) and value and name not in ("parser", "kind_label")
        }


ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
SPACES = re.compile(r"[ \u00a0]+")


def clean(value, *, multiline: bool = False, limit: int = 2000) -> str:
    """Text from an email as a field value: NFC, tabs and line breaks as spaces (kept in a
    message), other control characters dropped, spaces collapsed, trimmed, capped."""
    if not isinstance(value, str):
        return ""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if value.isascii():  # most of an email: one pass of a regex instead of every character
        value = ASCII_CONTROLS.sub("", value)
        value = re.sub(r"[\t\v\f]" if multiline else r"[\t\n\v\f]", " ", value)
    else:
        value = _without_controls(unicodedata.normalize("NFC", value), multiline)
    if multiline:
        lines = [SPACES.sub(" ", line).strip() for line in value.split("\n")]
        value = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    else:
        value = SPACES.sub(" ", value)
    return value.strip()[:limit].strip()


def _without_controls(value: str, multiline: bool) -> str:
    kept = []
    for char in value:
        if char == "\n" and multiline:
            kept.append(char)
        elif char in "\t\n\v\f":
            kept.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs"):
            continue  # a NUL or a control character nobody typed: dropped, as the forms do
        else:
            kept.append(char)
    return "".join(kept)


def with_names(lead: ParsedLead) -> ParsedLead:
    """First and last name from the full name when only that was given ("Jordan Ellis", "Ellis,
    Jordan")."""
    if lead.first_name or not lead.name:
        return lead
    name = lead.name
    if "," in name:
        last, _, first = name.partition(",")
    else:
        first, _, last = name.partition(" ")
    return replace(lead, first_name=clean(first, limit=100), last_name=clean(last, limit=100))


# --- Clues in an email nobody could read ---------------------------------------------------------

# Bounded parts, starting only where an address can start: linear on any text (an unbounded
# "[\w.]+@" retries from every position of a long run of letters).
EMAIL_IN_TEXT = re.compile(r"(?<![\w.+'-])[\w.+'-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
PORTAL_DOMAINS = (
    "zillow.com",
    "trulia.com",
    "realtor.com",
    "move.com",
    "homes.com",
    "redfin.com",
    "sendgrid.net",
)
MAX_CLUE_TEXT = 100_000  # search this much of a body for an address or a number


def _is_system_address(address: str, email: InboundEmail) -> bool:
    domain = address.rpartition("@")[2]
    local = address.partition("@")[0]
    return (
        address in email.recipients
        or any(domain == d or domain.endswith("." + d) for d in PORTAL_DOMAINS)
        or local in ("noreply", "no-reply", "donotreply", "do-not-reply", "mailer-daemon")
    )


def first_email_in(text: str, email: InboundEmail) -> str:
    for match in EMAIL_IN_TEXT.finditer(text[:MAX_CLUE_TEXT]):
        address = match.group(0).strip(".").lower()
        if not _is_system_address(address, email):
            return address
    return ""


def first_phone_in(text: str) -> str:
    """The first phone number written in the text, as written."""
    try:
        matcher = phonenumbers.PhoneNumberMatcher(
            text[:MAX_CLUE_TEXT], settings.PHONE_DEFAULT_REGION, max_tries=50
        )
        for match in matcher:
            return match.raw_string
    except Exception:  # noqa: S110 - a clue, never a failure
        pass
    return ""


def clues_found(email: InboundEmail, partial: ParsedLead | None = None) -> dict:
    """What a broker's form can start from when no reader found a lead: what a reader did find
    (`partial`), else the sender (unless it is a portal or a no-reply address: then whoever the
    body names), the first address and phone number in the body, the subject."""
    found = partial.found() if partial is not None else {}
    body = email.body
    sender_is_person = email.sender and not _is_system_address(email.sender, email)
    if not found.get("email"):
        address = email.sender if sender_is_person else first_email_in(body, email)
        if address:
            found["email"] = address
    named = found.get("name") or found.get("first_name")
    if not named and sender_is_person and email.sender_name and "@" not in email.sender_name:
        found["name"] = clean(email.sender_name, limit=200)
    if not found.get("phone"):
        phone = first_phone_in(body)
        if phone:
            found["phone"] = clean(phone, limit=40)
    if not found.get("message") and body.strip():
        found["message"] = clean(body, multiline=True, limit=2000)
    found = with_names_found(found)
    found["subject"] = clean(email.subject, limit=300)
    found["from"] = email.sender
    return found


def with_names_found(found: dict) -> dict:
    if found.get("name") and not found.get("first_name"):
        named = with_names(ParsedLead(parser="", origin="", name=found["name"]))
        found["first_name"], found["last_name"] = named.first_name, named.last_name
    return found

"""The Events API's adapter: a Follow Up Boss-style event in, what intake needs out (the source,
the lead's answer fields, origin, attribution, UTM values, SMS consent evidence), or the
machine-readable reasons it cannot be a lead.

    event_read   the one entry point; raises EventRefused with field errors

What decides what (docs: the OpenAPI description in integrations/api.py):

- **Source**: the integration's `field_mapping["types"]` first ({"Registration": "giveaway"});
  then the three specific types (Seller Inquiry → valuation, Property Inquiry → listing_ad,
  Visited Open House → open_house; "Inquiry" is a Property Inquiry when it names a property,
  else a General Inquiry, as in Follow Up Boss); every other type (Registration, General
  Inquiry, unknown or none) takes the integration's `default_source`, which is website unless a
  broker set it: a key given to a giveaway site makes giveaway leads without a mapping.
- **Origin**: the body's `source` ("Zillow"), else the integration's origin, else the sending
  system (`system`, or the X-System header).
- **Fields**: the person's first email (lower-cased) and first phone (E.164; an invalid one is
  refused); the property as the address asked about (the open house, for an open house); our
  own `timeline` in any common wording (unrecognized: left out, so the source default applies)
  and `side`; then `field_mapping["fields"]` (their key, dotted for nested ones → our field)
  fills or overrides any answer field.
- **Consent**: `smsConsent` evidence in the payload, else the integration's own record of the
  consent its source collects, else none (email only, and the agent calls).
"""

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlsplit

import pydantic
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from leads import intake
from leads.consent import ConsentEvidence
from leads.models import InquiryType, Integration, Lead, Source, Submission
from leads.phones import phone_e164, phone_example
from leads.timelines import timeline_from_text
from realtycrm.http import ascii_digits, pg_safe

from .api_schemas import EventIn

TYPE_SOURCES = {
    "seller inquiry": Source.VALUATION,
    "property inquiry": Source.LISTING_AD,
    "visited open house": Source.OPEN_HOUSE,
}
SOURCE_SIDES = {Source.VALUATION: Lead.Side.SELLER, Source.LISTING_AD: Lead.Side.BUYER}
SIDE_INQUIRY = {Lead.Side.BUYER: InquiryType.BUYING, Lead.Side.SELLER: InquiryType.SELLING}
# What `field_mapping["fields"]` may fill: the lead's answers, as the forms give them.
MAPPABLE_FIELDS = (*intake.ANSWER_FIELDS, "side")
CAMPAIGN_KEYS = ("source", "medium", "campaign", "term", "content")  # utm_<key> on the lead
EMAIL_MAX_LENGTH = 254
LINE_BREAKS = "\n\r"


class EventRefused(Exception):
    """The event cannot be a lead. `errors`: [{"field", "code", "message"}]; `found`: the
    answers that could be read, for a broker to make the lead by hand."""

    def __init__(self, errors: list[dict], *, source: str, origin: str, found: dict):
        super().__init__(errors)
        self.errors, self.source, self.origin, self.found = errors, source, origin, found


@dataclass(frozen=True)
class EventRead:
    source: str
    fields: dict
    origin: str
    attribution: dict
    utm: dict = field(default_factory=dict)
    source_url: str = ""
    consent: ConsentEvidence | None = None


def event_read(raw: dict, integration: Integration, headers) -> EventRead:
    """Read one event for `integration`; `headers` are the request's (X-System, X-System-Key)."""
    try:
        # Read without what no column can hold (NUL, a lone surrogate); stored as sent.
        event = EventIn.model_validate(pg_safe(raw, replacement=""))
    except pydantic.ValidationError as error:
        given = raw.get("source")
        raise EventRefused(
            [_pydantic_error(item) for item in error.errors()],
            source=integration.default_source,
            origin=(_text(given, 200) if isinstance(given, str) else "") or integration.origin,
            found={},
        ) from error
    system = _text(event.system or headers.get("X-System", ""), 200)
    origin = _text(event.source, 200) or integration.origin or system
    source = event_source(event, integration)
    fields, errors = _answers(raw, event, source, _mapping(integration))
    if errors:
        raise EventRefused(errors, source=source, origin=origin, found=fields)
    return EventRead(
        source=source,
        fields=fields,
        origin=origin,
        attribution=_attribution(event, system, headers.get("X-System-Key", "")),
        utm=_utm(event),
        source_url=_text(event.source_url or "", 1000),
        consent=_consent(event, integration, system),
    )


def _mapping(integration: Integration) -> dict:
    """The integration's field mapping; anything but an object (a broker's typo) maps nothing."""
    mapping = integration.field_mapping
    return mapping if isinstance(mapping, dict) else {}


def _normal_type(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def event_source(event: EventIn, integration: Integration) -> str:
    """The source (message angle) of this event's lead: see the module's docstring."""
    asked = _normal_type(event.type)
    if asked == "inquiry":
        has_property = event.property is not None and any(
            (event.property.street, event.property.mls_number, event.property.url)
        )
        resolved = "property inquiry" if has_property else "general inquiry"
    else:
        resolved = asked
    types = _mapping(integration).get("types")
    overrides = {
        _normal_type(name): source
        for name, source in (types.items() if isinstance(types, dict) else ())
        if source in Source.values
    }
    for name in (asked, resolved):
        if name and name in overrides:
            return overrides[name]
    return TYPE_SOURCES.get(resolved, integration.default_source)


# --- The answers -------------------------------------------------------------------------------


def _answers(raw: dict, event: EventIn, source: str, mapping: dict) -> tuple[dict, list[dict]]:
    """The lead's answer fields and the errors found reading them. Each answer is read from
    where it was given (its field path, named in an error), the integration's custom keys last."""
    given = _standard_answers(event, source)
    for their_key, ours in _custom_fields(mapping).items():
        value = _at_path(raw, their_key)
        if value not in (None, ""):
            given[ours] = (value, their_key)
    fields, errors = {}, []
    for name, (value, path) in given.items():
        try:
            normal = NORMALIZE[name](value)
        except ValueError as error:
            errors.append({"field": path, "code": "invalid", "message": str(error)})
            continue
        if normal not in (None, ""):
            fields[name] = normal
    if not errors and not fields.get("email") and not fields.get("phone"):
        errors.append(
            {
                "field": "person",
                "code": "no_contact",
                "message": "A person needs an email address or a phone number.",
            }
        )
    fields.setdefault("side", SOURCE_SIDES.get(source, Lead.Side.UNKNOWN))
    if source == Source.WEBSITE and fields["side"] in SIDE_INQUIRY:
        fields.setdefault("inquiry_type", SIDE_INQUIRY[fields["side"]])
    return fields, errors


def _standard_answers(event: EventIn, source: str) -> dict:
    """{our field: (value as given, its path in the body)} for the standard keys."""
    person = event.person
    given = {
        "first_name": (person.first_name, "person.firstName"),
        "last_name": (person.last_name, "person.lastName"),
        "message": (event.message or event.description, "message"),
        "timeline": (event.timeline, "timeline"),
        "side": (event.side, "side"),
    }
    if person.emails:
        given["email"] = (person.emails[0].value, "person.emails.0.value")
    if person.phones:
        given["phone"] = (person.phones[0].value, "person.phones.0.value")
    home = event.property
    if home is not None:
        address = ", ".join(part for part in (home.street, home.city, home.state) if part)
        where = "open_house" if source == Source.OPEN_HOUSE else "property_address"
        given[where] = (address, "property")
        given["postal_code"] = (home.code, "property.code")
        given["bedrooms"] = (home.bedrooms, "property.bedrooms")
        given["bathrooms"] = (home.bathrooms, "property.bathrooms")
    return given


def _custom_fields(mapping: dict) -> dict:
    """Their key → our field, from `field_mapping["fields"]` (or the flat form the admin's help
    text shows, beside "types"); targets we do not know are ignored."""
    custom = mapping.get("fields")
    if not isinstance(custom, dict):
        custom = {key: value for key, value in mapping.items() if key != "types"}
    return {
        str(theirs): ours
        for theirs, ours in custom.items()
        if isinstance(ours, str) and ours in MAPPABLE_FIELDS
    }


def _at_path(data, path: str):
    """The value at "a.b.0.c" in nested dicts and lists, or None."""
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and ascii_digits(part) and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _text(value, limit: int, *, multiline: bool = False) -> str:
    """Text as a column can hold it: NFC, no control characters (line breaks kept where the
    field is multi-line), nothing PostgreSQL refuses, trimmed to the column's width."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", pg_safe(str(value), replacement=""))
    text = "".join(
        char
        for char in text
        if unicodedata.category(char) != "Cc" or (multiline and char in LINE_BREAKS)
    )
    return text.strip()[:limit]


def _email(value) -> str:
    email = _text(value, 1000).lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise ValueError("Enter a valid email address.") from None
    local, _, domain = email.rpartition("@")
    try:
        sent_as = f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        sent_as = email
    if max(len(email), len(sent_as)) > EMAIL_MAX_LENGTH:
        raise ValueError("This email address is too long.")
    return email


def _phone(value) -> str:
    text = _text(value, 40)
    if not text:
        return ""
    number = phone_e164(text)
    if number is None:
        raise ValueError(
            f"Enter a valid phone number with its area code, like {phone_example()}, or "
            "+ and the country code."
        )
    return number


def _choice(choices):
    def read(value) -> str:
        text = _text(value, 40).lower()
        if text and text not in choices:
            raise ValueError(f"Expected one of: {', '.join(choices)}.")
        return text

    return read


def _bedrooms(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("Enter a number of bedrooms, like 3.") from None
    if number != number.to_integral_value() or not 0 <= number <= 99:
        raise ValueError("Enter a whole number of bedrooms from 0 to 99.")
    return int(number)


def _bathrooms(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip()).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise ValueError("Enter a number of bathrooms, like 2 or 2.5.") from None
    if not 0 <= number <= 99:
        raise ValueError("Enter a number of bathrooms from 0 to 99.")
    return number


def _yes(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "on")
    return bool(value)


NORMALIZE = {
    "first_name": lambda value: _text(value, 100),
    "last_name": lambda value: _text(value, 100),
    "email": _email,
    "phone": _phone,
    "timeline": lambda value: timeline_from_text(value) if isinstance(value, str) else None,
    "property_address": lambda value: _text(value, 255),
    "postal_code": lambda value: _text(value, 12),
    "bedrooms": _bedrooms,
    "bathrooms": _bathrooms,
    "open_house": lambda value: _text(value, 200),
    "inquiry_type": _choice(InquiryType.values),
    "message": lambda value: _text(value, 2000, multiline=True),
    "asked_for_showing": _yes,
    "side": _choice(Lead.Side.values),
}


# --- Attribution, UTM, consent ---------------------------------------------------------------------


def _attribution(event: EventIn, system: str, system_key: str) -> dict:
    """Where the lead came from, beside its source: the event type, the sending system, the
    campaign, the page, the person's tags and the property's listing details. The X-System-Key
    is Follow Up Boss's id of a registered system: kept only as a fingerprint, never in clear."""
    attribution = {
        "type": _text(event.type, 100),
        "system": system,
        "source_url": _text(event.source_url, 1000),
        "tags": [tag for tag in (_text(tag, 50) for tag in event.person.tags) if tag],
    }
    if system_key:
        attribution["system_key_present"] = True
        attribution["system_key_sha256"] = hashlib.sha256(system_key.encode()).hexdigest()[:16]
    campaign = event.campaign
    if campaign is not None:
        attribution["campaign"] = _present(
            {name: _text(getattr(campaign, name), 200) for name in CAMPAIGN_KEYS}
        )
    home = event.property
    if home is not None:
        price = home.price if isinstance(home.price, float) else _text(home.price, 50)
        attribution["property"] = _present(
            {
                "mlsNumber": _text(home.mls_number, 50),
                "price": price,
                "url": _text(home.url, 1000),
            }
        )
    return _present(attribution)


def _present(values: dict) -> dict:
    """Only the keys with a value (an attribution reads better without a column of blanks)."""
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}


def _utm(event: EventIn) -> dict:
    """The lead's utm_* values: the event's campaign, else the page's query string."""
    campaign = event.campaign
    if campaign is not None:
        values = {f"utm_{name}": getattr(campaign, name) for name in CAMPAIGN_KEYS}
    else:
        query = dict(parse_qsl(urlsplit(event.source_url or "").query))
        values = {name: query.get(name) for name in intake.UTM_FIELDS}
    return {name: _text(value, 200) for name, value in values.items() if _text(value, 200)}


def _consent(event: EventIn, integration: Integration, system: str) -> ConsentEvidence | None:
    given = event.sms_consent
    if given is None:
        return intake.consent_from_integration(integration)
    given_at = given.timestamp
    if given_at.tzinfo is None:
        given_at = given_at.replace(tzinfo=UTC)
    detail = {"basis": "event payload", "integration": integration.name, "system": system}
    if given.url:
        detail["url"] = _text(given.url, 1000)
    return ConsentEvidence(
        wording=_text(given.wording, 5000, multiline=True),
        version=_text(given.version, 40) or f"api-{integration.pk}",
        given_at=given_at,
        detail=detail,
    )


def _pydantic_error(error: dict) -> dict:
    """A pydantic error as ours: the dotted path in the body, a code, a message."""
    path = ".".join(str(part) for part in error.get("loc", ()))
    return {"field": path or None, "code": error.get("type", "invalid"), "message": error["msg"]}


def submission_read_again(submission: Submission) -> bool:
    """An event our reader once failed on (kept as failed, `mapped` holding only its headers),
    read again by the reader as it is now: True when it could be, with what it read stored on
    the submission for intake (realtycrm.flows.intake.PAYLOAD_READERS)."""
    integration = submission.integration
    if integration is None or not isinstance(submission.data, dict):
        return False
    headers = (submission.mapped or {}).get("headers") or {}
    try:
        read = event_read(submission.data, integration, headers)
    except EventRefused:
        return False
    submission.source, submission.origin = read.source, pg_safe(read.origin)[:200]
    submission.attribution = pg_safe(read.attribution)
    submission.mapped = pg_safe(
        intake.channel_mapping(
            read.fields, sms_consent=read.consent, tags=read.attribution.get("tags")
        )
    )
    submission.save(update_fields=["source", "origin", "attribution", "mapped"])
    return True

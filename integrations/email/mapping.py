"""A ParsedLead as intake reads a lead: the source (the message angle), the Lead answer fields,
the origin and the attribution.

    kind of inquiry                   source       side    also
    seller / home value               valuation    seller  inquiry type "selling"
    one listing (a question)          listing_ad   buyer   the property
    a tour or showing of a listing    listing_ad   buyer   asked_for_showing (hot)
    an open house                     open_house   buyer   which open house
    a buyer, a renter, anything else  website      buyer / unknown

A listing inquiry that names no property is a website inquiry (there is no listing to talk
about). The timeline is the email's labelled timeframe in any common wording
(leads.timelines.timeline_from_text); none leaves the source default. The origin is the brand
the email names (a Lead Metadata lead_source, else the portal), else the inbox's own.

An inbox's Integration.field_mapping may change this, as data:
    "types":  {"<kind or the email's own type word>": "<source>"}, e.g. {"Renter": "giveaway",
              "open_house": "listing_ad"} (kinds: seller, listing, tour, open_house, buyer,
              renter, general; type words as the email says them, any case)
    "<their label or lead_* tag>": "<our field>", e.g. {"Move date": "timeline",
              "lead_move_timeframe": "timeline"}: one more label or custom tag to read
A general inquiry takes the integration's default source.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from leads.models import InquiryType, Integration, Side, Source
from leads.phones import phone_e164
from leads.timelines import timeline_from_text

from .mime import InboundEmail
from .parsed import Kind, ParsedLead, clean

KIND_SOURCE = {
    Kind.SELLER: Source.VALUATION,
    Kind.LISTING: Source.LISTING_AD,
    Kind.TOUR: Source.LISTING_AD,
    Kind.OPEN_HOUSE: Source.OPEN_HOUSE,
    Kind.BUYER: Source.WEBSITE,
    Kind.RENTER: Source.WEBSITE,
}
KIND_SIDE = {
    Kind.SELLER: Side.SELLER,
    Kind.LISTING: Side.BUYER,
    Kind.TOUR: Side.BUYER,
    Kind.OPEN_HOUSE: Side.BUYER,
    Kind.BUYER: Side.BUYER,
}
KIND_INQUIRY = {
    Kind.SELLER: InquiryType.SELLING,
    Kind.LISTING: InquiryType.BUYING,
    Kind.TOUR: InquiryType.BUYING,
    Kind.OPEN_HOUSE: InquiryType.BUYING,
    Kind.BUYER: InquiryType.BUYING,
}
ZIP_AT_END = re.compile(r"\b(\d{5}(?:-\d{4})?)\s*$")
EMAIL_MAX = 254
NO_LEAD = "No lead found in this email"


@dataclass(frozen=True)
class MappedLead:
    source: str
    fields: dict  # Lead answer fields and "side", as intake.channel_mapping takes them
    origin: str
    attribution: dict
    errors: dict = field(default_factory=dict)  # why it cannot become a lead ({} when it can)


def lead_mapping(
    lead: ParsedLead | None, email: InboundEmail, integration: Integration | None
) -> MappedLead:
    """What intake is given for this email. Without a usable email address or phone number it
    is no lead (errors says why); what was found is still mapped, for the broker."""
    attribution = _attribution(lead, email, integration)
    origin = clean((lead.origin if lead else "") or (integration.origin if integration else ""))
    if lead is None:
        return MappedLead(
            source=_default_source(integration),
            fields={},
            origin=origin[:200],
            attribution=attribution,
            errors={
                "email": [
                    f"{NO_LEAD}: it has no Lead Metadata tags and is not from a portal we read "
                    "(Zillow, Realtor.com, Homes.com, Redfin)."
                ]
            },
        )
    source, fields = _source(lead, integration), _fields(lead)
    errors = {}
    if not fields.get("email") and not fields.get("phone"):
        errors["email"] = [
            f"{NO_LEAD}: read as {_reader_name(lead)}, but it gives no valid email address "
            "or phone number to reach them by."
        ]
    return MappedLead(
        source=source, fields=fields, origin=origin[:200], attribution=attribution, errors=errors
    )


def _reader_name(lead: ParsedLead) -> str:
    return "Lead Metadata" if lead.parser == "lead_metadata" else f"a {lead.origin} email"


def _default_source(integration: Integration | None) -> str:
    return integration.default_source if integration is not None else Source.WEBSITE


def _source(lead: ParsedLead, integration: Integration | None) -> str:
    mapping = integration.field_mapping if integration else None
    types = mapping.get("types") if isinstance(mapping, dict) else None
    if isinstance(types, dict):
        wanted = {str(key).strip().casefold(): value for key, value in types.items()}
        for key in (lead.kind_label, lead.kind):
            value = wanted.get((key or "").strip().casefold())
            if value in Source.values:
                return value
    if lead.kind in (Kind.LISTING, Kind.TOUR) and not _has_property(lead):
        return Source.WEBSITE
    return KIND_SOURCE.get(lead.kind) or _default_source(integration)


def _has_property(lead: ParsedLead) -> bool:
    return bool(lead.property_address or lead.listing_id or lead.mls)


def _fields(lead: ParsedLead) -> dict:
    fields = {
        "first_name": clean(lead.first_name, limit=100),
        "last_name": clean(lead.last_name, limit=100),
        "email": _email(lead.email),
        "phone": (phone_e164(lead.phone) or "") if lead.phone else "",
        "timeline": timeline_from_text(lead.time_frame) or "",
        "property_address": _address(lead),
        "postal_code": _postal_code(lead),
        "bedrooms": _bedrooms(lead.bedrooms),
        "bathrooms": _bathrooms(lead.bathrooms),
        "open_house": _open_house(lead),
        "inquiry_type": KIND_INQUIRY.get(lead.kind, ""),
        "message": _message(lead),
        "asked_for_showing": lead.kind == Kind.TOUR,
        "side": KIND_SIDE.get(lead.kind, Side.UNKNOWN),
    }
    return {name: value for name, value in fields.items() if value not in ("", None, False)}


def _email(value: str) -> str:
    address = clean(value, limit=EMAIL_MAX + 1).lower()
    if not address or len(address) > EMAIL_MAX:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address


def _address(lead: ParsedLead) -> str:
    """The property as one line: the street, with the city, state and ZIP when they were given
    apart (and are not already in it)."""
    address = lead.property_address
    known = address.casefold()
    place = " ".join(
        part for part in (lead.state, lead.postal_code) if part.casefold() not in known
    )
    parts = [address, lead.city if lead.city.casefold() not in known else "", place]
    return clean(", ".join(part for part in parts if part), limit=255)


def _postal_code(lead: ParsedLead) -> str:
    if lead.postal_code:
        return clean(lead.postal_code, limit=12)
    found = ZIP_AT_END.search(lead.property_address)
    return found.group(1) if found else ""


def _bedrooms(value: str) -> int | None:
    found = re.search(r"\d{1,2}", value or "")
    number = int(found.group(0)) if found else None
    return number if number is not None and number <= 50 else None


def _bathrooms(value: str) -> Decimal | None:
    found = re.search(r"\d{1,2}(?:\.\d+)?", value or "")
    if not found:
        return None
    try:
        number = Decimal(found.group(0)).quantize(Decimal("0.1"))
    except InvalidOperation:
        return None
    return number if number <= Decimal("99.9") else None


def _open_house(lead: ParsedLead) -> str:
    if lead.kind != Kind.OPEN_HOUSE:
        return ""
    which = " · ".join(part for part in (lead.property_address, lead.open_house) if part)
    return clean(which, limit=200)


def _message(lead: ParsedLead) -> str:
    """What they wrote, with a requested tour time after it (the agent needs it; the lead has no
    field of its own for it)."""
    parts = [lead.message]
    if lead.tour_time:
        parts.append(f"Requested tour time: {lead.tour_time}")
    return clean("\n\n".join(part for part in parts if part), multiline=True, limit=2000)


def _attribution(
    lead: ParsedLead | None, email: InboundEmail, integration: Integration | None
) -> dict:
    """What the lead's first touch keeps: the email itself (subject, sender, Message-ID), the
    reader, and the portal's own ids (listing, MLS, its lead id) and extra details."""
    values = {
        "subject": clean(email.subject, limit=300),
        "from": email.sender,
        "message_id": email.message_id[:300],
        "inbox": integration.inbox_address if integration else "",
    }
    if lead is not None:
        values.update(
            parser=lead.parser,
            kind=lead.kind,
            lead_type=lead.kind_label,
            listing_id=lead.listing_id,
            listing_url=lead.listing_url,
            mls=lead.mls,
            price=re.sub(r"[^\d.]", "", lead.price),
        )
        if lead.details:
            values["details"] = {
                str(key)[:60]: str(value)[:300] for key, value in lead.details.items()
            }
        if lead.phone and not phone_e164(lead.phone):
            values["phone_as_written"] = lead.phone[:40]
        if lead.email and not _email(lead.email):
            values["email_as_written"] = lead.email[:300]
    return {name: value for name, value in values.items() if value}

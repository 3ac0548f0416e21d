"""The Events API's bodies, spelled as Follow Up Boss's /v1/events spells them (camelCase), so a
lead source already posting to Follow Up Boss needs only our URL and key. Our own additions are
optional: `timeline`, `side` and `smsConsent` (the consent evidence).

Requests are read leniently, as lead sources write them: unknown keys are allowed (the payload is
stored as received anyway), nulls count as absent, and a number where text is expected (a ZIP
code, an MLS number, a phone) is read as text.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel


class _Body(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        coerce_numbers_to_str=True,
        str_strip_whitespace=True,
    )


class ContactIn(_Body):
    value: str = Field(description="The email address or phone number.")
    type: str | None = Field(None, description="home, work, mobile… (kept, not used).")


class PersonIn(_Body):
    first_name: str | None = None
    last_name: str | None = None
    emails: list[ContactIn] = Field(
        default_factory=list, max_length=20, description="The first is used; lower-cased."
    )
    phones: list[ContactIn] = Field(
        default_factory=list,
        max_length=20,
        description="The first is used, read as a number of the brokerage's country unless it "
        "starts with +. An invalid number is refused (400).",
    )
    tags: list[str] = Field(default_factory=list, max_length=50)


class PropertyIn(_Body):
    street: str | None = None
    city: str | None = None
    state: str | None = None
    code: str | None = Field(None, description="ZIP / postal code.")
    mls_number: str | None = None
    price: float | str | None = None
    url: str | None = None
    bedrooms: int | None = Field(None, ge=0, le=99)
    bathrooms: Decimal | None = Field(None, ge=0, le=99)


class CampaignIn(_Body):
    """Filled into the lead's utm_source, utm_medium, utm_campaign, utm_term, utm_content."""

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None


CONSENT_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class SmsConsentIn(_Body):
    """Evidence that the person agreed to automated texts: the exact wording they were shown
    and when. Without it (and without an SMS-consent record on the integration itself) the lead
    gets email only, and its agent a task to call."""

    wording: str = Field(min_length=1, max_length=5000, description="The text they agreed to.")
    timestamp: datetime = Field(description="When they agreed, ISO 8601 (UTC if no offset).")
    version: str | None = Field(None, max_length=40, description="Your id for that wording.")
    url: str | None = Field(None, description="The page where they agreed.")

    @field_validator("timestamp")
    @classmethod
    def _a_real_moment(cls, value: datetime) -> datetime:
        """Consent is evidence of a moment that happened: not in the future (a minute's clock
        skew allowed), not before texting existed, and storable in every timezone."""
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        now = datetime.now(UTC)
        if not CONSENT_EARLIEST <= moment <= now + timedelta(minutes=1):
            raise ValueError("must be a time in the past, when the person agreed")
        return moment


class EventIn(_Body):
    """An event: a lead, or a new inquiry of one already sent."""

    source: str | None = Field(
        None,
        description='The sending system or brand ("Zillow", "harborandmain.com"): the lead\'s '
        "origin. Defaults to the integration's origin.",
    )
    system: str | None = Field(None, description="The software sending the event.")
    type: str | None = Field(
        None,
        description="Seller Inquiry → home valuation; Property Inquiry (or Inquiry with a "
        "property) → listing ad; Visited Open House → open house; anything else (Registration, "
        "General Inquiry…) → the integration's default source (website unless set).",
    )
    message: str | None = None
    description: str | None = Field(None, description="Used when there is no message.")
    source_url: str | None = Field(None, description="The page the person was on.")
    person: PersonIn
    property: PropertyIn | None = None
    campaign: CampaignIn | None = None
    timeline: str | None = Field(
        None,
        description='When they plan to move, in any common wording ("0-3 months", "6-12 '
        'months", "just looking", within_3_months…). Unrecognized wording is ignored.',
    )
    side: Literal["seller", "buyer", "both", "unknown"] | None = Field(
        None, description="Default: seller for a Seller Inquiry, buyer for a Property Inquiry."
    )
    sms_consent: SmsConsentIn | None = None

    @field_validator("side", mode="before")
    @classmethod
    def _side_any_case(cls, value):
        return value.strip().lower() if isinstance(value, str) else value


# --- Responses ------------------------------------------------------------------------------------


class _Out(Schema):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ContactOut(_Out):
    value: str
    is_primary: bool = True


class PersonOut(_Out):
    """The lead as it is now (for a re-inquiry of a lead this key made: as the agent recorded
    it, not as sent). For a lead another source brought, only its id and what this event sent:
    the fields below that are null then."""

    id: int
    created: datetime
    updated: datetime
    name: str
    first_name: str
    last_name: str
    stage: str | None = None
    source: str | None = Field(
        None, description="Our source (the message angle): valuation, listing_ad…"
    )
    origin: str | None = None
    channel: str | None = None
    intent: str | None = None
    timeline: str | None = None
    side: str | None = None
    emails: list[ContactOut]
    phones: list[ContactOut]
    tags: list[str]
    assigned_to: str | None = Field(None, description="The agent who owns the lead.")


class Metadata(_Out):
    collection: str = "people"
    offset: int
    limit: int
    total: int


class PeopleOut(_Out):
    metadata: Metadata = Field(alias="_metadata")
    people: list[PersonOut]


class StoredOut(_Out):
    status: Literal["stored"] = "stored"
    id: int = Field(description="The stored event's id, for the brokerage to look up.")
    message: str


class ErrorOut(_Out):
    code: str
    field: str | None = Field(None, description='Where, e.g. "person.emails.0.value".')
    message: str


class ErrorsOut(_Out):
    error_message: str = Field(description="The first error's message (as Follow Up Boss).")
    errors: list[ErrorOut]

"""The lead fields a column of an import can fill, guessed from the column's header, and how a
cell is read (dates, relationships). Pure: no database."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings

from ..models import Relationship


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    help: str
    # Headers that mean this column, normalised (lower case, letters and digits), best first.
    headers: tuple[str, ...]


COLUMNS = (
    Column("first_name", "First name", "", ("firstname", "first", "givenname", "fname")),
    Column("last_name", "Last name", "", ("lastname", "last", "surname", "familyname", "lname")),
    Column(
        "full_name",
        "Full name",
        "Split into first and last name (“Smith, John” and “John Smith” alike).",
        ("fullname", "name", "contactname", "clientname", "contact", "client", "displayname"),
    ),
    Column(
        "email",
        "Email",
        "Must be a valid address. A row needs an email or a phone.",
        ("email", "emailaddress", "primaryemail", "mail", "personalemail", "email1"),
    ),
    Column(
        "phone",
        "Phone",
        "Stored as +1 413 555 0123 (E.164); numbers without a country code are read as US.",
        (
            "mobile",
            "cellphone",
            "cell",
            "mobilephone",
            "phone",
            "phonenumber",
            "primaryphone",
            "telephone",
            "tel",
            "homephone",
            "phone1",
            "workphone",
        ),
    ),
    Column(
        "property_address",
        "Address",
        "The street address (city and state are added to it).",
        (
            "address",
            "streetaddress",
            "street",
            "address1",
            "addressline1",
            "propertyaddress",
            "homeaddress",
            "mailingaddress",
        ),
    ),
    Column("city", "City", "Added to the address.", ("city", "town")),
    Column("state", "State", "Added to the address.", ("state", "province", "region")),
    Column(
        "postal_code",
        "Zip code",
        "",
        ("zip", "zipcode", "postalcode", "postal", "postcode", "zip5"),
    ),
    Column(
        "neighbourhood",
        "Neighborhood",
        "Assignment rules and the leads list filter by it.",
        ("neighborhood", "neighbourhood", "subdivision", "area"),
    ),
    Column(
        "tags",
        "Tags",
        "Separated by commas or semicolons; each becomes a tag.",
        ("tags", "tag", "labels", "groups", "group", "categories"),
    ),
    Column(
        "notes",
        "Notes",
        "Put on the contact's timeline as an imported note.",
        ("notes", "note", "comments", "comment", "remarks", "background", "description"),
    ),
    Column(
        "owner",
        "Owner",
        "The agent's username, email or full name; blank rows get the owner chosen below.",
        ("owner", "agent", "assignedto", "assignedagent", "leadowner", "realtor", "assigned"),
    ),
    Column(
        "last_contact",
        "Last contact date",
        "Becomes the contact's last personal contact (MM/DD/YYYY or YYYY-MM-DD).",
        (
            "lastcontact",
            "lastcontacted",
            "lastcontactdate",
            "lastcontacteddate",
            "lastactivity",
            "lasttouch",
            "lastactivitydate",
            "lastcontacton",
        ),
    ),
    Column(
        "relationship",
        "Relationship",
        "Past client, past lead, sphere, or other (from a stage or type column).",
        ("relationship", "type", "stage", "contacttype", "leadtype", "status", "category"),
    ),
    Column(
        "sms_consent",
        "SMS consent date",
        "The date the contact agreed to texts. Only these contacts get automated texts.",
        (
            "smsconsent",
            "smsconsentdate",
            "textconsent",
            "smsoptin",
            "smsoptindate",
            "textoptin",
            "consentdate",
            "consent",
            "optindate",
            "optin",
        ),
    ),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
COLUMN_CHOICES = [("", "— ignore —"), *((column.key, column.label) for column in COLUMNS)]
# Words that, inside a longer header, point at a column ("Client E-mail Address" → email).
HINTS = (
    ("email", "email"),
    ("mobile", "phone"),
    ("cell", "phone"),
    ("phone", "phone"),
    ("zip", "postal_code"),
    ("postal", "postal_code"),
    ("lastcontact", "last_contact"),
    ("consent", "sms_consent"),
    ("optin", "sms_consent"),
    ("firstname", "first_name"),
    ("lastname", "last_name"),
    ("street", "property_address"),
    ("address", "property_address"),
    ("note", "notes"),
    ("tag", "tags"),
)


def normalised(header: str) -> str:
    """ "E-mail Address" → "emailaddress"; "Zip Code" → "zipcode"."""
    return re.sub(r"[^a-z0-9]", "", header.casefold())


def mapping_guess(headers: list[str]) -> list[str]:
    """One column key (or "") per header: exact spellings first, each column at most once (the
    best-ranked header wins: "Mobile" before "Home Phone"), then hints inside longer headers.
    A full name is dropped when the file also has first and last names."""
    keys = [normalised(header) for header in headers]
    guess = [""] * len(headers)
    for column in COLUMNS:
        ranked = [
            (column.headers.index(key), index)
            for index, key in enumerate(keys)
            if key in column.headers and not guess[index]
        ]
        if ranked:
            guess[min(ranked)[1]] = column.key
    for index, key in enumerate(keys):
        if guess[index] or not key:
            continue
        for hint, column_key in HINTS:
            if hint in key and column_key not in guess:
                guess[index] = column_key
                break
    if "first_name" in guess and "last_name" in guess and "full_name" in guess:
        guess[guess.index("full_name")] = ""
    return guess


RELATIONSHIP_WORDS = (
    (Relationship.PAST_CLIENT, ("client", "closed", "sold", "customer", "bought", "purchased")),
    (Relationship.SPHERE, ("sphere", "soi", "friend", "family", "neighbor", "neighbour")),
    (Relationship.PAST_LEAD, ("lead", "prospect", "inquiry", "cold", "warm", "hot", "nurture")),
)


def relationship_from(text: str) -> str:
    """ "Past Client", "Closed - Buyer", "SOI", "Old lead" → a Relationship; anything else that
    says something is "other"; blank stays blank."""
    words = text.casefold()
    if not words.strip():
        return ""
    for relationship, hints in RELATIONSHIP_WORDS:
        if any(hint in words for hint in hints):
            return relationship
    return Relationship.OTHER


DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%m-%d-%Y",
    "%m-%d-%y",
    "%m.%d.%Y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
)
DATETIME_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


def parse_when(value) -> datetime | None:
    """A date as old databases write it (US month first, or ISO; with or without a time; or an
    Excel date cell), as an aware datetime in the brokerage's zone. A date without a time is
    taken at noon, so it shows as the same day in every US zone. None when it is no date."""
    zone = ZoneInfo(settings.TIME_ZONE)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(12), tzinfo=zone)
    text = str(value).strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if len(text) <= 10:
            return datetime.combine(parsed.date(), time(12), tzinfo=zone)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    except ValueError:
        pass
    for formats, dated in ((DATE_FORMATS, True), (DATETIME_FORMATS, False)):
        for pattern in formats:
            try:
                parsed = datetime.strptime(text, pattern)  # the zone is added below
            except ValueError:
                continue
            if dated:
                return datetime.combine(parsed.date(), time(12), tzinfo=zone)
            return parsed.replace(tzinfo=zone)
    return None

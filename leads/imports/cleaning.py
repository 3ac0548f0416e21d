"""One row of an import, validated like a form: the lead's values, or every reason it cannot
become one. Owners are looked up in a table read once per import (owner_directory)."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from ..models import Lead
from ..names import name_split, person_name
from ..phones import phone_e164
from .columns import COLUMNS_BY_KEY, parse_when, relationship_from

User = get_user_model()
MAX_TAGS, TAG_LENGTH = 20, 50
NEGATIVE = frozenset({"no", "n", "false", "0", "none", "opted out", "declined"})
# Lead fields that must fit their column: a longer value is an error, never cut silently.
LENGTHS = {
    name: Lead._meta.get_field(name).max_length
    for name in (
        "first_name",
        "last_name",
        "phone",
        "property_address",
        "postal_code",
        "neighbourhood",
    )
}
EMAIL_MAX_LENGTH = Lead._meta.get_field("email").max_length


def owner_directory() -> dict[str, int]:
    """Every active agent by username, email and full name (case-insensitive) → user pk."""
    directory = {}
    users = User.objects.filter(is_active=True, agent__active=True).select_related("agent")
    for user in users:
        for key in (user.get_username(), user.email, person_name(user)):
            if key:
                directory.setdefault(key.casefold(), user.pk)
    return directory


@dataclass
class Cleaned:
    values: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class RowCleaner:
    """Reads rows by one mapping (one column key or "" per header)."""

    def __init__(self, headers: list[str], mapping: list[str], owners: dict[str, int], now=None):
        self.headers = headers
        self.columns = [(index, key) for index, key in enumerate(mapping) if key]
        self.owners = owners
        self.now = now or timezone.now()

    def clean(self, cells: list) -> Cleaned:
        raw = {key: cells[index] for index, key in self.columns if index < len(cells)}
        row = Cleaned()
        text = {key: _text(value) for key, value in raw.items()}
        self._names(text, row)
        self._contact(text, row)
        self._place(text, row)
        self._extras(text, raw, row)
        for name, length in LENGTHS.items():
            if len(row.values.get(name, "")) > length:
                row.errors.append(
                    f"{COLUMNS_BY_KEY[name].label} is longer than {length} characters"
                )
        return row

    def _names(self, text: dict, row: Cleaned) -> None:
        first, last = text.get("first_name", ""), text.get("last_name", "")
        if text.get("full_name") and not (first or last):
            first, last = name_split(text["full_name"])
        row.values["first_name"], row.values["last_name"] = first, last

    def _contact(self, text: dict, row: Cleaned) -> None:
        email = text.get("email", "").lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                row.errors.append(f"Email “{email}” is not a valid address")
                email = ""
        if email and max(len(email), len(_idna_address(email))) > EMAIL_MAX_LENGTH:
            # Django's validator takes up to 320 characters; the column (and the public form)
            # take 254: this row's error, not a database error that stops the whole import.
            row.errors.append(f"Email is longer than {EMAIL_MAX_LENGTH} characters")
            email = ""
        phone = ""
        if text.get("phone"):
            phone = phone_e164(text["phone"]) or ""
            if not phone:
                row.errors.append(f"Phone “{text['phone']}” is not a phone number we can read")
        if not email and not phone and not row.errors:
            row.errors.append("No email and no phone: a contact needs one of them")
        row.values["email"], row.values["phone"] = email, phone

    def _place(self, text: dict, row: Cleaned) -> None:
        address = text.get("property_address", "")
        more = [text[key] for key in ("city", "state") if text.get(key)]
        if more and not all(part.casefold() in address.casefold() for part in more):
            address = ", ".join([address, *more]) if address else ", ".join(more)
        row.values["property_address"] = address
        row.values["postal_code"] = text.get("postal_code", "")
        row.values["neighbourhood"] = text.get("neighbourhood", "")

    def _extras(self, text: dict, raw: dict, row: Cleaned) -> None:
        tags = []
        for part in text.get("tags", "").replace(";", ",").replace("|", ",").split(","):
            tag = " ".join(part.split())[:TAG_LENGTH]
            if tag and tag.casefold() not in {t.casefold() for t in tags}:
                tags.append(tag)
        row.values["tags"] = tags[:MAX_TAGS]
        row.values["notes"] = text.get("notes", "")
        row.values["relationship"] = relationship_from(text.get("relationship", ""))
        if text.get("owner"):
            owner = self.owners.get(text["owner"].casefold())
            if owner is None:
                row.errors.append(f"Owner “{text['owner']}” is not an active agent's username")
            row.values["owner"] = owner
        self._date("last_contact", raw, row, "Last contact date")
        if text.get("sms_consent", "").casefold() in NEGATIVE:
            return
        self._date("sms_consent", raw, row, "SMS consent")

    def _date(self, key: str, raw: dict, row: Cleaned, label: str) -> None:
        value = raw.get(key, "")
        if value in ("", None):
            return
        when = parse_when(value)
        if when is None:
            row.errors.append(
                f"{label} “{_text(value)}” is not a date (write MM/DD/YYYY or YYYY-MM-DD)"
            )
        elif when > self.now:
            row.errors.append(f"{label} {when:%m/%d/%Y} is in the future")
        else:
            row.values[key] = when.isoformat()


def _idna_address(email: str) -> str:
    """The address as it is sent (its domain in IDNA form), measured like the public form's."""
    local, _, domain = email.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return email


def _text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()

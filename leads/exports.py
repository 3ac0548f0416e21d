"""The leads list as CSV rows, safe to open in a spreadsheet.

Every cell goes through realtycrm.spreadsheets.csv_safe, so nothing a lead typed is run as a
formula. Phones are exported in the national format an agent
dials ((413) 555-0187); international ones keep their + behind the apostrophe.
"""

from collections.abc import Iterable, Iterator

from django.utils import timezone

from realtycrm.spreadsheets import csv_safe

from .models import Lead
from .names import person_name
from .phones import phone_display

LEAD_CSV_HEADER = (
    "id",
    "created",
    "first name",
    "last name",
    "email",
    "phone",
    "source",
    "intent",
    "timeline",
    "side",
    "stage",
    "track",
    "owner",
    "property address",
    "neighbourhood",
    "postal code",
    "first personal contact",
    "last personal contact",
    "utm source",
    "utm campaign",
    "channel",
    "origin",
    "tags",
)
CHUNK = 2000


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def lead_csv_row(lead: Lead) -> list[str]:
    owner = lead.owner
    return [
        csv_safe(value)
        for value in (
            lead.pk,
            _when(lead.created_at),
            lead.first_name,
            lead.last_name,
            lead.email,
            phone_display(lead.phone),
            lead.get_source_display(),
            lead.get_intent_display(),
            lead.get_timeline_display(),
            lead.get_side_display(),
            lead.get_stage_display(),
            lead.nurture_track.name if lead.nurture_track else "",
            person_name(owner, nobody=""),
            lead.property_address,
            lead.neighbourhood,
            lead.postal_code,
            _when(lead.first_personal_contact_at),
            _when(lead.last_personal_contact_at),
            lead.utm_source,
            lead.utm_campaign,
            lead.get_channel_display(),
            lead.origin,
            ", ".join(tag.name for tag in lead.tags.all()),
        )
    ]


def lead_csv_rows(leads, *, header: Iterable[str]) -> Iterator[list[str]]:
    """The header, then one row per lead, read from the database in chunks (never all at once),
    each chunk's tags in one more query."""
    yield list(header)
    for lead in leads.prefetch_related("tags").iterator(chunk_size=CHUNK):
        yield lead_csv_row(lead)

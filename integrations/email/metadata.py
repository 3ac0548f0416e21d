"""The Real Estate Lead Metadata specification (version 1.0, leadmetadata.org): lead details
embedded in the HTML of a lead email as <meta name="lead_..." content="..."> tags. Realtor.com
and many lead vendors send them; they are the portal's own statement of the lead, so they are
read before any parser guesses from the wording.

As the specification asks: search the whole HTML (vendors put the tags in the body too), require
`lead_information_version` (1.x), then read every tag named lead_*. The standard fields map to
ParsedLead; anything else (lead_financing, lead_max_price, custom lead_* fields) is kept in its
details, and an integration's field_mapping may name a custom tag as one of our fields
({"lead_move_date": "timeline"}).
"""

from dataclasses import replace
from html.parser import HTMLParser

from .parsed import OUR_FIELDS, Kind, ParsedLead, clean, kind_from_words, with_names

PARSER = "lead_metadata"
VERSION_TAG = "lead_information_version"
SUPPORTED_MAJOR_VERSION = "1"
MAX_TAGS = 200  # the spec allows 100 custom fields beside the standard ones

# Standard tag → ParsedLead attribute.
STANDARD = {
    "lead_source": "origin",
    "lead_type": "kind_label",
    "lead_name": "name",
    "lead_first_name": "first_name",  # not in 1.0, but vendors send them
    "lead_last_name": "last_name",
    "lead_email": "email",
    "lead_phone": "phone",
    "lead_property_address": "property_address",
    "lead_property_city": "city",
    "lead_property_state": "state",
    "lead_property_zip": "postal_code",
    "lead_mls": "mls",
    "lead_message": "message",
    "lead_time_frame": "time_frame",
    "lead_max_price": "price",
}


class _MetaTags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag != "meta" or len(self.tags) >= MAX_TAGS:
            return
        attributes = {key.lower(): value or "" for key, value in attrs}
        name = attributes.get("name", "").strip().lower()
        if name.startswith("lead_"):
            self.tags.append((name, attributes.get("content", "")))

    handle_startendtag = handle_starttag


def lead_tags(html: str) -> dict[str, str]:
    """The lead_* meta tags of an HTML email, name → content ({} when it has no version tag, or
    a version we do not read). A tag given twice (lead_tag) keeps every value, joined by ", "."""
    if not html or "lead_" not in html:
        return {}
    parser = _MetaTags()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; an exception means nothing usable
        return {}
    tags: dict[str, str] = {}
    for name, content in parser.tags:
        content = clean(content, multiline=name == "lead_message", limit=2000)
        if not content:
            continue
        tags[name] = f"{tags[name]}, {content}" if name in tags else content
    version = tags.get(VERSION_TAG, "")
    if version.split(".")[0] != SUPPORTED_MAJOR_VERSION:
        return {}
    return tags


def lead_from_tags(tags: dict[str, str], field_mapping: dict | None = None) -> ParsedLead | None:
    """The lead the tags state, None when there are none. `field_mapping`: the integration's
    {"lead_custom_tag": "our_field"} for custom tags."""
    if not tags:
        return None
    values = {attribute: tags[tag] for tag, attribute in STANDARD.items() if tags.get(tag)}
    for tag, ours in (field_mapping or {}).items():
        attribute = OUR_FIELDS.get(ours) if isinstance(ours, str) else None
        if attribute and isinstance(tag, str) and tags.get(tag.lower()):
            values[attribute] = tags[tag.lower()]
    mapped_tags = {tag.lower() for tag in (field_mapping or {}) if isinstance(tag, str)}
    details = {
        tag: content
        for tag, content in tags.items()
        if tag not in STANDARD and tag != VERSION_TAG and tag not in mapped_tags
    }
    lead = ParsedLead(parser=PARSER, origin=values.pop("origin", ""), details=details, **values)
    return with_names(replace(lead, kind=_kind(lead)))


def _kind(lead: ParsedLead) -> str:
    """lead_type is Buyer (the default), Seller or Renter by the spec; vendors also send "Open
    House" or "Showing Request". A buyer naming a property is asking about that listing."""
    kind = kind_from_words(lead.kind_label) or Kind.BUYER
    if kind == Kind.BUYER and (lead.property_address or lead.mls):
        return Kind.LISTING
    return kind


def lead_from_metadata(html: str, field_mapping: dict | None = None) -> ParsedLead | None:
    return lead_from_tags(lead_tags(html), field_mapping)

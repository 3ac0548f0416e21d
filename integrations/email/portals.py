"""Per-portal parsers for lead emails without Lead Metadata: Zillow, Realtor.com, Homes.com and
Redfin, written against the sample emails in tests/integrations/fixtures/email/.

A portal is data (Portal): the domains it sends from, the words that name it in a forwarded
email, the labels of its "Name: …" lines, the sentences it writes around the rest ("Jordan is
requesting a tour of …"), the phrases that say what kind of inquiry it is, and the shape of its
listing links. One reader (`parse_with`) reads any of them, so a portal that changes its wording
is a change of data here, and a new portal is a new entry.

A portal is detected by the email's From or Reply-To domain; a forwarded email by the quoted
"From: Zillow <…@zillow.com>" line, else by its name in the subject or body.
"""

import re
from dataclasses import dataclass, field, replace

from .mime import InboundEmail
from .parsed import OUR_FIELDS, Kind, ParsedLead, clean, kind_from_words, with_names

# Label (lower-case, without its colon) → ParsedLead attribute; "details.x" keeps it in details.
COMMON_LABELS = {
    "name": "name",
    "full name": "name",
    "contact name": "name",
    "customer": "name",
    "first name": "first_name",
    "last name": "last_name",
    "email": "email",
    "e-mail": "email",
    "email address": "email",
    "phone": "phone",
    "phone number": "phone",
    "mobile": "phone",
    "mobile phone": "phone",
    "cell": "phone",
    "message": "message",
    "comments": "message",
    "comment": "message",
    "question": "message",
    "property": "property_address",
    "property address": "property_address",
    "address": "property_address",
    "home": "property_address",
    "city": "city",
    "state": "state",
    "zip": "postal_code",
    "zip code": "postal_code",
    "postal code": "postal_code",
    "mls": "mls",
    "mls #": "mls",
    "mls id": "mls",
    "mls number": "mls",
    "price": "price",
    "list price": "price",
    "listing price": "price",
    "beds": "bedrooms",
    "bedrooms": "bedrooms",
    "baths": "bathrooms",
    "bathrooms": "bathrooms",
    "timeframe": "time_frame",
    "time frame": "time_frame",
    "timeline": "time_frame",
    "buying timeframe": "time_frame",
    "buying timeline": "time_frame",
    "selling timeframe": "time_frame",
    "timeline to sell": "time_frame",
    "timeline to buy": "time_frame",
    "moving timeline": "time_frame",
    "inquiry type": "kind_label",
    "request type": "kind_label",
    "lead type": "kind_label",
    "requested tour time": "tour_time",
    "preferred tour time": "tour_time",
    "tour time": "tour_time",
    "open house": "open_house",
    "financing": "details.financing",
    "pre-approved": "details.pre_approved",
}
MULTILINE = {"message"}
LABEL_MAX = 40
LINE = re.compile(r"^\s*(?P<label>[^:\t\n]{1,40}?)\s*:\s*(?P<value>.*)$")


@dataclass(frozen=True)
class Portal:
    key: str
    origin: str  # the brand, as the lead's origin
    domains: tuple[str, ...]
    markers: tuple[str, ...]  # lower-case names of it in a subject or body
    labels: dict = field(default_factory=dict)  # beyond COMMON_LABELS
    # Its sentences around the values: each pattern's named groups are ParsedLead attributes.
    phrases: tuple[re.Pattern, ...] = ()
    # Its own words for an inquiry's kind, tried before the label and the subject.
    kinds: tuple[tuple[re.Pattern, str], ...] = ()
    listing_url: re.Pattern | None = None  # its listing links; group "id" is the listing id
    default_kind: str = Kind.GENERAL

    def sends(self, address: str) -> bool:
        domain = address.rpartition("@")[2]
        return any(domain == d or domain.endswith("." + d) for d in self.domains)


def _words(*pairs) -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((re.compile(pattern, re.I), kind) for pattern, kind in pairs)


PRICE_BEDS_BATHS = re.compile(
    r"\$(?P<price>[\d,]{4,})\s*\|\s*(?P<bedrooms>\d{1,2})\s*bd\s*\|\s*(?P<bathrooms>\d{1,2}(?:\.\d)?)\s*ba",
    re.I,
)

ZILLOW = Portal(
    key="zillow",
    origin="Zillow",
    domains=("zillow.com", "trulia.com"),
    markers=("zillow",),
    phrases=(
        re.compile(
            r"^(?P<name>[^\n]{2,80}?) (?:is requesting a tour of|wants to tour|is interested in|"
            r"has a question about) (?P<property_address>[^\n]{5,200}?)\.$",
            re.M,
        ),
        PRICE_BEDS_BATHS,
    ),
    kinds=_words(
        (r"requesting a tour|wants to tour|tour request", Kind.TOUR),
        (r"open house", Kind.OPEN_HOUSE),
        (r"wants to sell|seller lead|thinking of selling", Kind.SELLER),
        (r"is interested in|has a question about|new contact", Kind.LISTING),
    ),
    listing_url=re.compile(
        r"https?://(?:www\.)?zillow\.com/homedetails/[^\s\"'<>]*?(?P<id>\d+)_zpid"
    ),
)

REALTOR_COM = Portal(
    key="realtor_com",
    origin="Realtor.com",
    domains=("realtor.com", "move.com"),
    markers=("realtor.com",),
    labels={"mls id": "mls", "comments": "message"},
    kinds=_words(
        (r"requested a showing|schedule a showing|showing request", Kind.TOUR),
        (r"open house", Kind.OPEN_HOUSE),
        (r"seller lead|wants to sell|home value", Kind.SELLER),
        (r"new realtor\.com lead|inquir(?:y|ed) about|is interested in", Kind.LISTING),
    ),
    listing_url=re.compile(
        r"https?://(?:www\.)?realtor\.com/realestateandhomes-detail/[^\s\"'<>]*?_(?P<id>M[\d-]+)"
    ),
)

HOMES_COM = Portal(
    key="homes_com",
    origin="Homes.com",
    domains=("homes.com",),
    markers=("homes.com",),
    labels={
        "lead name": "name",
        "lead email": "email",
        "lead phone": "phone",
        "lead id": "details.lead_id",
    },
    kinds=_words(
        (r"home value request|what'?s my home worth", Kind.SELLER),
        (r"schedule a showing|tour request", Kind.TOUR),
        (r"open house", Kind.OPEN_HOUSE),
        (r"request info|more information", Kind.LISTING),
    ),
    listing_url=re.compile(
        r"https?://(?:www\.)?homes\.com/property/[^\s\"'<>]*?/(?P<id>[0-9a-z]{6,})/?(?=[\s\"'<>]|$)"
    ),
)

REDFIN = Portal(
    key="redfin",
    origin="Redfin",
    domains=("redfin.com",),
    markers=("redfin",),
    labels={"note": "message"},
    phrases=(
        # The customer block: name, address and number on three lines under "Customer".
        re.compile(
            r"^Customer\n+(?P<name>[^\n@]{2,80})\n(?P<email>[^\s@]+@[^\s@]+)\n(?P<phone>[+\d(][\d()+. -]{8,20})$",
            re.M,
        ),
        re.compile(r"^Note from [^:\n]{1,60}:\s*(?P<message>[^\n]+)$", re.M),
    ),
    kinds=_words(
        (r"open house", Kind.OPEN_HOUSE),
        (r"tour request|wants to tour|requested a tour", Kind.TOUR),
        (r"listing consultation|wants to sell", Kind.SELLER),
        (r"question about \d", Kind.LISTING),
        (r"has a question", Kind.BUYER),
    ),
    listing_url=re.compile(r"https?://(?:www\.)?redfin\.com/[^\s\"'<>]*?/home/(?P<id>\d+)"),
)

PORTALS = (ZILLOW, REALTOR_COM, HOMES_COM, REDFIN)
FORWARDED_FROM = re.compile(
    r"^[ \t>]{0,10}From:[^\n@]{0,200}?<?([\w.+-]{1,64}@[\w.-]{1,255})>?[ \t]*$", re.M | re.I
)


def portal_for(email: InboundEmail) -> Portal | None:
    """The portal that sent this email: by its sender (From, Reply-To), else by the sender quoted
    in a forwarded copy, else by its name in the subject or at the top of the body."""
    for address in (email.sender, *email.reply_to):
        for portal in PORTALS:
            if address and portal.sends(address):
                return portal
    body = email.body
    for quoted in FORWARDED_FROM.findall(body[:20_000]):
        for portal in PORTALS:
            if portal.sends(quoted.lower()):
                return portal
    named = f"{email.subject}\n{body[:5000]}".lower()
    found = [(named.find(marker), portal) for portal in PORTALS for marker in portal.markers]
    found = [(position, portal) for position, portal in found if position >= 0]
    return min(found, key=lambda item: item[0])[1] if found else None


def labelled_values(text: str, labels: dict) -> dict[str, str]:
    """The values of the text's labelled lines ("Name: Jordan Ellis", or "Name<TAB>Jordan Ellis"
    from an HTML table), attribute → value, the first of each. A label alone on its line takes
    the next line; a message takes every line up to a blank one."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    for index, line in enumerate(lines):
        for label, value in _pairs(line):
            attribute = labels.get(_label_key(label))
            if attribute is None or attribute in values:
                continue
            following = _following(lines, index + 1, labels, several=attribute in MULTILINE)
            if attribute in MULTILINE:
                value = "\n".join(part for part in (value, following) if part)
            elif not value:
                value = following.split("\n")[0] if following else ""
            if value:
                values[attribute] = value
    return values


def _pairs(line: str) -> list[tuple[str, str]]:
    """A line's (label, value) pairs: table cells pair up; otherwise "Label: value"."""
    if "\t" in line:
        cells = [cell.strip() for cell in line.split("\t")]
        if ":" in cells[0] and len(cells) == 1:
            cells = cells[0].split(":", 1)
        pairs = []
        for position in range(0, len(cells) - 1, 2):
            pairs.append((cells[position].rstrip(":"), cells[position + 1]))
        if len(cells) % 2:  # an odd last cell may be "Label: value" on its own
            match = LINE.match(cells[-1])
            if match:
                pairs.append((match["label"], match["value"]))
        return pairs
    match = LINE.match(line)
    return [(match["label"], match["value"])] if match else []


def _label_key(label: str) -> str:
    return re.sub(r"\s+", " ", label.strip().strip("*").strip()).lower()[:LABEL_MAX]


def _is_label_line(line: str, labels: dict) -> bool:
    return any(_label_key(label) in labels for label, _value in _pairs(line))


def _following(lines: list[str], start: int, labels: dict, *, several: bool) -> str:
    """The lines after a label: the next non-blank one, or (several) all up to a blank line or
    the next label."""
    taken: list[str] = []
    for line in lines[start : start + 60]:
        if not line.strip():
            if taken:
                break
            continue
        if _is_label_line(line, labels):
            break
        taken.append(line.replace("\t", " ").strip())
        if not several:
            break
    return "\n".join(taken)


def parse_with(
    portal: Portal, email: InboundEmail, field_mapping: dict | None = None
) -> ParsedLead:
    """Read an email as `portal` writes it: the plain-text alternative, and the HTML's text for
    whatever the plain one lacks (some portals send a stub text part)."""
    labels = {**COMMON_LABELS, **portal.labels, **_mapped_labels(field_mapping)}
    values: dict[str, str] = {}
    for text in (email.text, email.html_as_text):
        if not text.strip():
            continue
        found = labelled_values(text, labels)
        for pattern in portal.phrases:
            match = pattern.search(text)
            if match:
                for name, value in match.groupdict().items():
                    if value:
                        found.setdefault(name, value)
        for name, value in found.items():
            values.setdefault(name, value)
    details = {name.partition(".")[2]: value for name, value in values.items() if "." in name}
    attributes = {
        name: clean(value, multiline=name in MULTILINE, limit=2000 if name in MULTILINE else 300)
        for name, value in values.items()
        if "." not in name
    }
    listing_url, listing_id = _listing(portal, email)
    lead = ParsedLead(
        parser=portal.key,
        origin=portal.origin,
        listing_url=listing_url,
        listing_id=listing_id,
        details={key: clean(value, limit=300) for key, value in details.items()},
        **attributes,
    )
    lead = with_names(lead)
    return replace(lead, kind=_kind(portal, email, lead))


def _mapped_labels(field_mapping: dict | None) -> dict:
    """An integration's {"Their label": "our_field"} entries, as labels."""
    labels = {}
    for label, ours in (field_mapping or {}).items():
        if isinstance(label, str) and isinstance(ours, str) and ours in OUR_FIELDS:
            labels[_label_key(label)] = OUR_FIELDS[ours]
    return labels


def _listing(portal: Portal, email: InboundEmail) -> tuple[str, str]:
    if portal.listing_url is None:
        return "", ""
    for text in (email.text, email.html, *email.links):
        match = portal.listing_url.search(text or "")
        if match:
            return match.group(0)[:500], match.group("id")[:100]
    return "", ""


def _kind(portal: Portal, email: InboundEmail, lead: ParsedLead) -> str:
    """What was asked: the email's own label for it ("Inquiry Type: Home Value Request"), the
    portal's phrases in its subject and text (the prospect's message left out: "we will sell
    our condo first" does not make a buyer a seller), the subject's words; a listing named
    makes it a listing inquiry."""
    labelled = kind_from_words(lead.kind_label) if lead.kind_label else None
    if labelled:
        return labelled
    searched = f"{email.subject}\n{_without(email.body, lead.message)}"
    for pattern, kind in portal.kinds:
        if pattern.search(searched):
            return kind
    by_subject = kind_from_words(email.subject)
    if by_subject:
        return by_subject
    if lead.property_address or lead.listing_id or lead.mls:
        return Kind.LISTING
    return portal.default_kind


def _without(text: str, message: str) -> str:
    """The text without the lines of the prospect's message (the portal's own words only)."""
    said = [line for line in (clean(part) for part in message.split("\n")) if len(line) > 3]
    if not said:
        return text
    kept = []
    for line in text.split("\n"):
        cleaned = clean(line)
        if not any(part in cleaned for part in said):
            kept.append(line)
    return "\n".join(kept)

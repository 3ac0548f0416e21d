"""A template filled for one lead: which variant, which values, which fallbacks.

template_for(key, source, inquiry_type)   the most specific variant: website:buying →
                                          website → default
lead_values(lead, source, asked)          every placeholder's value, or its fallback phrase
render(template, values)                  (subject, body), by plain substitution
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.urls import reverse

from leads.models import InquiryType, Lead, Source
from leads.names import person_name
from leads.phones import phone_display
from leads.rulebook import rulebook_cached

from .models import Template
from .placeholders import clean_value, fill

# What a placeholder says when the lead did not give us the value (or gave a link-like one).
FALLBACKS = {
    "first_name": "there",
    "lead_name": "this lead",
    "agent_name": "our team",
    "neighbourhood": "your area",
    "open_house": "the open house",
    "inquiry": "your question",
    # Outside an appointment's own messages (services/appointments.py fills the real ones).
    "appointment_kind": "appointment",
    "appointment_time": "the time we agreed",
    "appointment_place": "the place we agreed",
}
PROPERTY_FALLBACK = {
    Source.VALUATION: "your home",
    Source.REACTIVATION: "your home",
}
INQUIRY_PHRASES = {
    InquiryType.BUYING: "buying a home",
    InquiryType.SELLING: "selling your home",
    InquiryType.NEIGHBOURHOOD: "the neighborhood",
    InquiryType.MARKET_QUESTION: "the local market",
    InquiryType.NEIGHBOUR: "the neighborhood",
}


def variants_for(source: str, inquiry_type: str = "") -> list[str]:
    """Template variants to try, most specific first."""
    variants = [source, ""]
    if source == Source.WEBSITE and inquiry_type:
        variants.insert(0, f"{source}:{inquiry_type}")
    return variants


def template_for(key: str, *, source: str, inquiry_type: str = "") -> Template | None:
    """The most specific variant of the template `key` for this source. Every template is read
    in one query, then kept in memory while none changes (leads.rulebook): read-only."""
    found = rulebook_cached("templates", _templates)
    candidates = variants_for(source, inquiry_type)
    return next((found[key, v] for v in candidates if (key, v) in found), None)


def _templates() -> dict[tuple[str, str], Template]:
    return {(t.key, t.variant): t for t in Template.objects.all()}


def lead_values(
    lead: Lead, *, source: str | None = None, asked: Mapping | None = None
) -> dict[str, str]:
    """Every placeholder for this lead. `source` is the form they just used (a re-inquiry may
    come from another form than the first one); `asked` what that form asked about (its
    property_address, open_house, inquiry_type), which wins over the lead's recorded answers:
    a re-inquiry about another home is answered about that home."""
    source = source or lead.source
    asked = asked or {}
    owner = lead.owner
    agent = getattr(owner, "agent", None) if owner else None
    first_name = clean_value(lead.first_name, max_length=40)
    full_name = clean_value(lead.full_name, max_length=80)
    address = clean_value(asked.get("property_address") or lead.property_address, max_length=120)
    open_house = clean_value(asked.get("open_house") or lead.open_house, max_length=120)
    inquiry = INQUIRY_PHRASES.get(asked.get("inquiry_type") or lead.inquiry_type, "")
    values = {
        "first_name": first_name or FALLBACKS["first_name"],
        "lead_name": full_name or lead.email or lead.phone or FALLBACKS["lead_name"],
        "agent_name": person_name(owner, nobody=FALLBACKS["agent_name"]),
        "agent_phone": phone_display(
            agent.phone if agent and agent.phone else settings.BROKERAGE_PHONE
        ),
        "agent_email": (owner.email if owner and owner.email else settings.BROKERAGE_EMAIL),
        "property_address": address or PROPERTY_FALLBACK.get(source, "the home you asked about"),
        "neighbourhood": clean_value(lead.neighbourhood, max_length=60)
        or FALLBACKS["neighbourhood"],
        "open_house": open_house or FALLBACKS["open_house"],
        "inquiry": inquiry or FALLBACKS["inquiry"],
        "brokerage": settings.BROKERAGE_NAME,
        "brokerage_phone": phone_display(settings.BROKERAGE_PHONE),
        "brokerage_email": settings.BROKERAGE_EMAIL,
        "reactivation_link": reactivation_form_url(),
        "appointment_kind": FALLBACKS["appointment_kind"],
        "appointment_time": FALLBACKS["appointment_time"],
        "appointment_place": FALLBACKS["appointment_place"],
    }
    values["submission"] = _submission(source, lead, address, open_house, inquiry)
    return values


def reactivation_form_url(query: str = "") -> str:
    """The public reactivation form; a campaign's message gives each contact a signed one
    (sequences.campaigns), anything else the plain form."""
    url = f"{settings.SITE_URL}{_reactivation_form_path()}"
    return f"{url}?{query}" if query else url


@lru_cache(maxsize=1)
def _reactivation_form_path() -> str:
    return reverse("leads:intake", args=["reactivation"])  # a campaign asks 20,000 times


def brokerage_values() -> dict[str, str]:
    """Placeholder values when there is no lead (a HELP from an unknown number)."""
    return {
        **FALLBACKS,
        "lead_name": FALLBACKS["lead_name"],
        "agent_phone": phone_display(settings.BROKERAGE_PHONE),
        "agent_email": settings.BROKERAGE_EMAIL,
        "property_address": "the home you asked about",
        "submission": "a message",
        "brokerage": settings.BROKERAGE_NAME,
        "brokerage_phone": phone_display(settings.BROKERAGE_PHONE),
        "brokerage_email": settings.BROKERAGE_EMAIL,
        "reactivation_link": reactivation_form_url(),
    }


def _submission(source, lead, address, open_house, inquiry) -> str:
    """Agent-facing: what this lead sent us, in a few words (task titles)."""
    if source == Source.VALUATION:
        return f"valuation request for {address}" if address else "valuation request"
    if source == Source.LISTING_AD:
        what = "asked for a showing" if lead.asked_for_showing else "listing inquiry"
        return f"{what}: {address}" if address else what
    if source == Source.OPEN_HOUSE:
        return f"open house sign-in: {open_house}" if open_house else "open house sign-in"
    if source == Source.WEBSITE:
        return f"website question about {inquiry}" if inquiry else "website question"
    if source == Source.REACTIVATION:
        return "answered our reactivation campaign"
    return "giveaway entry"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(template: Template, values: dict[str, str]) -> Rendered:
    return Rendered(
        subject=" ".join(fill(template.subject, values).split()), body=fill(template.body, values)
    )


def render_for_lead(
    key: str, lead: Lead, *, source: str | None = None, asked: Mapping | None = None
) -> Rendered | None:
    """The copy `key` for this lead (about what it `asked` now, see lead_values), or None when
    no such template exists."""
    source = source or lead.source
    inquiry_type = (asked or {}).get("inquiry_type") or lead.inquiry_type
    template = template_for(key, source=source, inquiry_type=inquiry_type)
    if template is None:
        return None
    return render(template, lead_values(lead, source=source, asked=asked))

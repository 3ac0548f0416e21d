"""Demo integrations: the brokerage's IDX website on the Events API, the Zillow and Realtor.com
inboxes, and its Meta page with a home-valuation form; and how demo leads spread over them.

Nothing here is a secret anyone could use: the API key is random, kept only as its hash and
never printed (make a working key with `manage.py create_api_key`); the Meta page has no token
and made-up ids. Idempotent: each integration is made once, by kind and name.
"""

import hashlib
import secrets
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from leads.models import Channel, Integration, Source

from .meta import origin_for

IDX_SITE = "harborandmain.com"
ZILLOW = "Zillow"
REALTOR = "Realtor.com"
META_PAGE = "Harbor & Main Realty"
# As the Meta adapter names a lead's origin (integrations.meta.origin_for): page, then form.
META_ORIGIN = origin_for(META_PAGE, "Home valuation form")
META_PAGE_ID = "104857600000001"
META_FORM_ID = "880000000000001"
IDX_CONSENT = (
    "By checking this box, I agree to receive text messages from Harbor & Main Realty about "
    "my inquiry. Message and data rates may apply. Reply STOP to opt out."
)

DEMO_INTEGRATIONS = [
    {
        "name": f"{IDX_SITE} IDX site",
        "kind": Integration.Kind.API,
        "origin": IDX_SITE,
        "default_source": Source.WEBSITE,
        "sms_consent_collected": True,
        "sms_consent_wording": IDX_CONSENT,
    },
    {
        "name": "Zillow inbox",
        "kind": Integration.Kind.EMAIL,
        "origin": ZILLOW,
        "inbox_address": "zillow@leads.harborandmain.com",
        "default_source": Source.LISTING_AD,
        "owner": "alex",  # Alex works the Zillow leads
    },
    {
        "name": "Realtor.com inbox",
        "kind": Integration.Kind.EMAIL,
        "origin": REALTOR,
        "inbox_address": "realtor@leads.harborandmain.com",
        "default_source": Source.LISTING_AD,
    },
    {
        "name": f"{META_PAGE} (Meta page)",
        "kind": Integration.Kind.META,
        "origin": META_PAGE,
        "meta_page_id": META_PAGE_ID,
        "meta_form_id": META_FORM_ID,
        "default_source": Source.VALUATION,
    },
]


def seed_demo_integrations() -> list[Integration]:
    """The four integrations, each once; the default owner by username when there is one."""
    users = get_user_model().objects
    made = []
    for spec in DEMO_INTEGRATIONS:
        defaults = {key: value for key, value in spec.items() if key not in ("name", "kind")}
        owner = defaults.pop("owner", None)
        defaults["default_owner"] = users.filter(username=owner).first() if owner else None
        if spec["kind"] == Integration.Kind.API:
            defaults |= _unknown_key()
        integration, _ = Integration.objects.get_or_create(
            kind=spec["kind"], name=spec["name"], defaults=defaults
        )
        made.append(integration)
    return made


def _unknown_key() -> dict:
    """A key nobody is told: the row looks like any key's (prefix, hash), and works for no one."""
    key = secrets.token_urlsafe(32)
    return {"key_prefix": key[:8], "key_hash": hashlib.sha256(key.encode()).hexdigest()}


@dataclass(frozen=True)
class Arrival:
    channel: str = Channel.FORM
    origin: str = ""
    attribution: dict = field(default_factory=dict)
    keeps_utm: bool = True  # portal emails and Meta leads carry no utm tags

    @property
    def owner(self) -> str | None:
        """The demo agent its integration names as default owner: its leads are theirs."""
        return OWNER_BY_ORIGIN.get(self.origin)


OWNER_BY_ORIGIN = {spec["origin"]: spec["owner"] for spec in DEMO_INTEGRATIONS if "owner" in spec}


META_ADS = [
    ("120210000000011", "What is your home worth? (carousel)"),
    ("120210000000012", "Free home valuation (video)"),
]
# By source: (chance, how it arrived), the rest through our own forms.
ARRIVALS = {
    Source.VALUATION: [(0.45, "meta"), (0.15, "idx")],
    Source.LISTING_AD: [(0.35, "zillow"), (0.2, "realtor"), (0.15, "idx")],
    Source.WEBSITE: [(0.5, "idx"), (0.15, "zillow")],
}


def demo_arrival(source: str, rng) -> Arrival:
    """How one demo lead of this source arrived: by a form, or through a demo integration."""
    draw, upto = rng.random(), 0.0
    for chance, how in ARRIVALS.get(source, []):
        upto += chance
        if draw < upto:
            return _arrival(how, rng)
    return Arrival()


def _arrival(how: str, rng) -> Arrival:
    if how == "meta":
        ad_id, ad_name = rng.choice(META_ADS)
        return Arrival(
            Channel.META,
            META_ORIGIN,
            {
                "campaign_id": "120210000000001",
                "campaign_name": "Spring home valuation",
                "adset_id": "120210000000002",
                "adset_name": "Springfield homeowners 35+",
                "ad_id": ad_id,
                "ad_name": ad_name,
                "form_id": META_FORM_ID,
                "page_id": META_PAGE_ID,
            },
            keeps_utm=False,
        )
    if how == "idx":
        return Arrival(Channel.API, IDX_SITE, {"system": "IDX website"})
    return Arrival(Channel.EMAIL, ZILLOW if how == "zillow" else REALTOR, keeps_utm=False)

"""Reactivation campaigns, the reads: who a campaign reaches, the personal link, the copy.

    Criteria / campaign_audience   the smart list: dormant contacts only, narrowed by tags (any
                                   of them), owner, last personal contact before a day (or
                                   never) and previous relationship (past clients)
    reactivation_link              a contact's personal, signed link to /intake/reactivation/
    reactivation_link_read         what a link names (lead and campaign), or None when it is
                                   forged, altered or older than REACTIVATION_LINK_DAYS
    campaign_render                the email and the text as one contact gets them

The writes (send, batches, clicks, re-engagement) are services/campaigns.py.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db.models import Q, QuerySet
from django.utils import timezone

from leads.models import Channel, ImportBatch, Lead, Tag
from realtycrm import formats
from realtycrm.http import ascii_digits

from .models import ReactivationCampaign
from .placeholders import fill
from .rendering import Rendered, lead_values, reactivation_form_url

LINK_SALT = "sequences.campaigns.reactivation-link"
LINK_PARAMETER = "r"
LINK_PLACEHOLDER = "{reactivation_link}"


# --- The smart list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criteria:
    """Which dormant contacts a campaign reaches. Empty values mean any."""

    tag_ids: tuple[int, ...] = ()
    owner_id: int | None = None
    last_contact_before: date | None = None
    relationship: str = ""

    @classmethod
    def of(cls, campaign: ReactivationCampaign) -> "Criteria":
        return cls(
            tag_ids=tuple(sorted(tag.pk for tag in campaign.tags.all())),
            owner_id=campaign.owner_id,
            last_contact_before=campaign.last_contact_before,
            relationship=campaign.relationship,
        )


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audience(criteria: Criteria) -> QuerySet[Lead]:
    """The dormant contacts matching `criteria`, oldest import first (the lead_dormant index).
    A contact who re-engaged is a lead again, not dormant: no campaign reaches it; nor does
    one whose import is being undone (it is about to be deleted)."""
    leads = Lead.objects.filter(dormant=True)
    undoing = list(
        ImportBatch.objects.filter(status=ImportBatch.Status.UNDOING).values_list("pk", flat=True)
    )
    if undoing:
        leads = leads.exclude(channel=Channel.IMPORT, attribution__import__in=undoing)
    if criteria.owner_id is not None:
        leads = leads.filter(owner_id=criteria.owner_id)
    if criteria.relationship:
        leads = leads.filter(relationship=criteria.relationship)
    if criteria.last_contact_before is not None:
        leads = leads.filter(
            Q(last_personal_contact_at__lt=_start_of(criteria.last_contact_before))
            | Q(last_personal_contact_at__isnull=True)
        )
    if criteria.tag_ids:
        tagged = Lead.tags.through.objects.filter(tag_id__in=criteria.tag_ids)
        leads = leads.filter(pk__in=tagged.values("lead_id"))
    return leads.order_by("imported_at", "pk")


def campaign_audience(campaign: ReactivationCampaign) -> QuerySet[Lead]:
    return audience(Criteria.of(campaign))


def criteria_summary(criteria: Criteria, *, tags=None, owner=None) -> str:
    """ "Dormant contacts tagged pool or VIP, of Alex Rivera, past clients, last contacted before
    Jan 1, 2025 (or never)": what the list is, in one line."""
    parts = ["Dormant contacts"]
    if criteria.tag_ids:
        names = [tag.name for tag in (tags or Tag.objects.filter(pk__in=criteria.tag_ids))]
        parts.append("tagged " + " or ".join(names))
    if owner is not None:
        parts.append(f"of {owner.get_full_name() or owner.get_username()}")
    if criteria.relationship:
        parts.append(Lead.Relationship(criteria.relationship).label.lower() + "s")
    if criteria.last_contact_before is not None:
        day = formats.day(criteria.last_contact_before)
        parts.append(f"last contacted before {day} (or never)")
    return ", ".join(parts)


# --- The personal link ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkClaim:
    """What a valid personal link names (and, once the view has looked, the contact's details
    as recorded, to prefill the form)."""

    lead_id: int
    campaign_id: int
    contact: dict | None = None


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=LINK_SALT)


def reactivation_token(lead_id: int, campaign_id: int) -> str:
    """Signed with SECRET_KEY and dated: the lead and campaign cannot be changed without
    breaking the signature, and it stops working after REACTIVATION_LINK_DAYS."""
    return _signer().sign(f"{lead_id}.{campaign_id}")


def reactivation_link(lead_id: int, campaign_id: int) -> str:
    token = reactivation_token(lead_id, campaign_id)
    return reactivation_form_url(urlencode({LINK_PARAMETER: token}, safe=":"))


def reactivation_link_read(token: str | None) -> LinkClaim | None:
    """The lead and campaign a link names, or None for a forged, altered or expired one (the
    form is then the plain, empty one)."""
    if not token or len(token) > 200:
        return None
    max_age = timedelta(days=settings.REACTIVATION_LINK_DAYS)
    try:
        value = _signer().unsign(token, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    lead_id, _, campaign_id = value.partition(".")
    if not (ascii_digits(lead_id) and ascii_digits(campaign_id)):
        return None
    return LinkClaim(int(lead_id), int(campaign_id))


# --- The copy ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignCopy:
    """What one contact gets: the email (before the outbox adds the postal address and the
    unsubscribe link) and the text ("" when the campaign has none)."""

    email: Rendered
    sms: str


def with_link(text: str, *, after: str) -> str:
    """Copy that forgot its {reactivation_link} still carries the link, `after` the text."""
    if LINK_PLACEHOLDER in text:
        return text
    return f"{text.rstrip()}{after}{LINK_PLACEHOLDER}"


def campaign_render(campaign: ReactivationCampaign, lead: Lead) -> CampaignCopy:
    """The campaign's copy filled for this contact, by plain substitution (never the template
    engine), with its own signed link."""
    values = lead_values(lead) | {"reactivation_link": reactivation_link(lead.pk, campaign.pk)}
    body = with_link(campaign.email_body, after="\n\nTell us what has changed: ")
    sms = with_link(campaign.sms_body, after=" ") if campaign.sms_body.strip() else ""
    return CampaignCopy(
        email=Rendered(
            subject=" ".join(fill(campaign.email_subject, values).split()),
            body=fill(body, values),
        ),
        sms=fill(sms, values).strip(),
    )

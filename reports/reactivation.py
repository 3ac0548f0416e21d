"""The reactivation campaign report: what each campaign did, per campaign and per owner.

Every figure counts contacts (recipient rows), each from a fact another part of the system
owns, so the report keeps no numbers of its own:

    contacts       the dormant contacts the campaign was sent to (its recipient rows)
    skipped        nothing could go to them (unsubscribed, opted out, no address, no consent)
    sent           a campaign message to them left for the provider (Message.sent_at)
    delivered      the provider reported one delivered (Message.delivered_at)
    bounced        their campaign email went, and the address is on the suppression list as a
                   bounce (a hard bounce)
    unsubscribed   they opted out of email or texts after the campaign was queued for them (the
                   lead's opt-out dates: the suppression list's cache)
    clicked        they opened their personal link (the form page), the first time
    re-engaged     they answered: the link's form, any other form, or a reply to the text
    hot            re-engaged as hot (a timeline within 6 months)
    to appointment re-engaged, then reached an appointment (or further) on the timeline

One query for every campaign (the list), one for a campaign's total, one for its owners:
none per row.
"""

from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Lower

from leads.models import LeadEvent, Stage
from sequences.models import CampaignRecipient, Message, ReactivationCampaign, Suppression

FIGURES = (
    "contacts",
    "skipped",
    "sent",
    "delivered",
    "bounced",
    "unsubscribed",
    "clicked",
    "reengaged",
    "hot",
    "appointment",
)
LABELS = {
    "contacts": "Contacts",
    "skipped": "Skipped",
    "sent": "Sent",
    "delivered": "Delivered",
    "bounced": "Bounced",
    "unsubscribed": "Unsubscribed",
    "clicked": "Clicked",
    "reengaged": "Re-engaged",
    "hot": "Hot",
    "appointment": "To appointment",
}

# Each rate's base: sent, for what became of the messages; re-engaged, for what followed.
RATE_OF = {
    "delivered": "sent",
    "bounced": "sent",
    "unsubscribed": "sent",
    "clicked": "sent",
    "reengaged": "sent",
    "hot": "reengaged",
    "appointment": "reengaged",
}
COLUMNS = [(name, LABELS[name]) for name in FIGURES]
AT_APPOINTMENT_OR_LATER = [Stage.APPOINTMENT, Stage.CLIENT, Stage.CLOSED]


@dataclass(frozen=True)
class Cell:
    name: str
    count: int
    rate: float | None  # of RATE_OF's base; None when it has none or the base is 0

    @property
    def percent(self) -> str:
        return "" if self.rate is None else f"{self.rate:.0%}"

    @property
    def label(self) -> str:
        """Its column's name (a phone shows it beside the number: templates' data-label)."""
        return LABELS[self.name]


@dataclass(frozen=True)
class Row:
    """One line of the report: a campaign, an owner, or a total."""

    label: str
    figures: dict[str, int]
    key: object = None
    campaign: ReactivationCampaign | None = None
    total: bool = False

    def __getitem__(self, name: str) -> int:
        return self.figures[name]

    @property
    def cells(self) -> list[Cell]:
        return [Cell(name, self.figures[name], self.rate(name)) for name in FIGURES]

    def rate(self, name: str) -> float | None:
        base = RATE_OF.get(name)
        if base is None or not self.figures[base]:
            return None
        return self.figures[name] / self.figures[base]


def _row(label: str, values: dict, **extra) -> Row:
    return Row(label=label, figures={name: values.get(name) or 0 for name in FIGURES}, **extra)


def _flag(condition: Q) -> Case:
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


def _annotated(recipients: QuerySet) -> QuerySet:
    """Recipient rows with the facts that are not columns of the row or its messages."""
    bounced = Suppression.objects.filter(
        channel=Message.Channel.EMAIL,
        address=Lower(OuterRef("email_message__to")),
        reason=Suppression.Reason.BOUNCE,
    )
    to_appointment = LeadEvent.objects.filter(
        lead=OuterRef("lead"),
        kind=LeadEvent.Kind.STAGE_CHANGED,
        data__to__in=AT_APPOINTMENT_OR_LATER,
        occurred_at__gte=OuterRef("reengaged_at"),
    )
    opted_out = Q(queued_at__isnull=False) & (
        Q(lead__email_opted_out_at__gte=F("queued_at"))
        | Q(lead__sms_opted_out_at__gte=F("queued_at"))
    )
    return recipients.annotate(
        was_bounced=Exists(bounced),
        went_to_appointment=Exists(to_appointment),
        opted_out=_flag(opted_out),
    )


def _aggregates() -> dict:
    sent = Q(email_message__sent_at__isnull=False) | Q(sms_message__sent_at__isnull=False)
    delivered = Q(email_message__delivered_at__isnull=False) | Q(
        sms_message__delivered_at__isnull=False
    )
    reengaged = Q(reengaged_at__isnull=False)
    return {
        "contacts": Count("pk"),
        "skipped": Count("pk", filter=Q(status=CampaignRecipient.Status.SKIPPED)),
        "sent": Count("pk", filter=sent),
        "delivered": Count("pk", filter=delivered),
        "bounced": Count("pk", filter=Q(email_message__sent_at__isnull=False, was_bounced=True)),
        "unsubscribed": Count("pk", filter=Q(opted_out=True)),
        "clicked": Count("pk", filter=Q(clicked_at__isnull=False)),
        "reengaged": Count("pk", filter=reengaged),
        "hot": Count("pk", filter=reengaged & Q(reengaged_intent="hot")),
        "appointment": Count("pk", filter=reengaged & Q(went_to_appointment=True)),
    }


def campaign_rows(campaigns: list[ReactivationCampaign]) -> list[Row]:
    """One row per campaign, in the order given: one query for them all."""
    by_campaign = {
        values.pop("campaign"): values
        for values in _annotated(CampaignRecipient.objects.filter(campaign__in=campaigns))
        .values("campaign")
        .annotate(**_aggregates())
        .order_by()
    }
    return [
        _row(campaign.name, by_campaign.get(campaign.pk, {}), key=campaign.pk, campaign=campaign)
        for campaign in campaigns
    ]


def campaign_total(campaign: ReactivationCampaign) -> Row:
    values = _annotated(CampaignRecipient.objects.filter(campaign=campaign)).aggregate(
        **_aggregates()
    )
    return _row("All owners", values, key=campaign.pk, campaign=campaign, total=True)


def campaign_owner_rows(campaign: ReactivationCampaign) -> list[Row]:
    """The campaign per owner (whose contact it was when it went out), busiest first: one
    query."""
    grouped = (
        _annotated(CampaignRecipient.objects.filter(campaign=campaign))
        .values("owner", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(**_aggregates())
        .order_by("-contacts", "owner__first_name", "owner__last_name", "owner")
    )
    rows = []
    for values in grouped:
        name = f"{values['owner__first_name']} {values['owner__last_name']}".strip()
        label = name or values["owner__username"] or "No owner"
        rows.append(_row(label, values, key=values["owner"], campaign=campaign))
    return rows

"""Campaigns and their spend (entered by the broker), and the segment report's place in the admin.

Leads belong to a campaign by attribution, not by a foreign key: a lead is in a campaign when it
matches every key the campaign sets: its source, its origin (the sending system or brand, e.g.
Zillow) and its utm_campaign, each ignoring case. So a campaign entered today also counts the
leads that arrived before it was entered. A lead that more than one campaign matches belongs to
the most specific one only (Campaign.precedence), so no lead is counted, or paid for, twice.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from leads.models import Lead, Source


class Campaign(models.Model):
    name = models.CharField(max_length=100)
    source = models.CharField(
        max_length=20,
        choices=Source.choices,
        blank=True,
        help_text="The intake form its ads point to. Blank (with an origin): any source.",
    )
    origin = models.CharField(
        max_length=200,
        blank=True,
        help_text="Leads from this sending system or brand (e.g. Zillow, ignoring case) belong "
        "to the campaign. Blank: any origin.",
    )
    utm_campaign = models.CharField(
        "utm_campaign",
        max_length=200,
        blank=True,
        help_text="Leads whose utm_campaign equals this (ignoring case) belong to the campaign. "
        "Blank (with an origin): any.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "origin", "name"]
        constraints = [
            # One campaign per attribution key. Campaigns with different keys may still match the
            # same lead (one by origin, one by utm_campaign): the most specific one takes it.
            models.UniqueConstraint(
                "source",
                Lower("origin"),
                Lower("utm_campaign"),
                name="campaign_one_per_key",
                violation_error_message="A campaign with this source, origin and utm_campaign "
                "already exists.",
            ),
            # Something to match on: an origin, or (as before origins) a source and a utm_campaign.
            models.CheckConstraint(
                condition=~Q(origin="") | (~Q(source="") & ~Q(utm_campaign="")),
                name="campaign_has_a_key",
                violation_error_message="Give the campaign an origin, or a source and a "
                "utm_campaign.",
            ),
        ]

    def __str__(self):
        return self.name

    def lead_filter(self) -> Q:
        """The leads this campaign matches (before precedence): every key it sets, ignoring case."""
        condition = Q()
        if self.source:
            condition &= Q(source=self.source)
        if self.origin:
            condition &= Q(origin__iexact=self.origin)
        if self.utm_campaign:
            condition &= Q(utm_campaign__iexact=self.utm_campaign)
        return condition

    def precedence(self) -> tuple:
        """Sort key, most specific first: a utm_campaign names one ad campaign, an origin one
        sending system, a source one form. A lead two campaigns match goes to the first."""
        return (not self.utm_campaign, not self.origin, not self.source, self.pk or 0)


class CampaignSpend(models.Model):
    """What the brokerage paid for a campaign over a period (first and last day included).

    A report whose range covers part of the period counts the matching share of the amount,
    day by day (see reports.figures.spend_in_window).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="spends")
    starts_on = models.DateField()
    ends_on = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["campaign", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="campaignspend_period_in_order"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="campaignspend_not_negative"),
        ]
        indexes = [models.Index(fields=["campaign", "starts_on", "ends_on"], name="spend_period")]

    def __str__(self):
        return f"{self.campaign}: {self.amount} ({self.starts_on} to {self.ends_on})"


class SegmentReport(Lead):
    """No data of its own: gives the segment report a page, a permission and a place in the
    admin index (reports.admin.SegmentReportAdmin renders the report there)."""

    class Meta:
        proxy = True
        verbose_name = "segment report"
        verbose_name_plural = "segment report"


# --- The report's rollup (reports/rollup.py keeps it; docs/reports.md, "The rollup") ----------


class LeadDayCount(models.Model):
    """Counts of the leads that arrived on one day (in the brokerage's time zone), for one value
    of one grouping: `kind` names what `a`, `b`, `c` hold (reports.rollup.GROUPINGS), e.g.
    "segment": a source and an intent. Written only by the database triggers on the leads table
    and by `manage.py rebuild_report_rollup`; counts add up, so a range is a SUM over its days."""

    kind = models.CharField(max_length=10)
    day = models.DateField()
    a = models.CharField(max_length=200, blank=True)
    b = models.CharField(max_length=200, blank=True)
    c = models.CharField(max_length=200, blank=True)
    leads = models.IntegerField(default=0)
    contacted = models.IntegerField(default=0)
    engaged = models.IntegerField(default=0)
    appointment = models.IntegerField(default=0)
    client = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    lost = models.IntegerField(default=0)
    opted_out = models.IntegerField(default=0)
    acknowledged = models.IntegerField(default=0)
    hot = models.IntegerField(default=0)
    hot_within_5 = models.IntegerField(default=0)
    hot_within_60 = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "day", "a", "b", "c"], name="leaddaycount_key")
        ]

    def __str__(self):
        return f"{self.day} {self.kind} {self.a}/{self.b}/{self.c}: {self.leads}"


class LeadMonthTime(models.Model):
    """How many leads that arrived in one month (the first day of it, in the brokerage's time
    zone) of one grouping value waited a time in one log-spaced bucket for `measure` (the
    first personal contact, or the automated acknowledgment): a histogram whose buckets add up
    across months and groups, from which the report estimates percentiles within
    reports.rollup.RELATIVE_ERROR."""

    kind = models.CharField(max_length=10)
    month = models.DateField()
    a = models.CharField(max_length=200, blank=True)
    b = models.CharField(max_length=200, blank=True)
    measure = models.CharField(max_length=10)
    bucket = models.IntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "month", "a", "b", "measure", "bucket"],
                name="leadmonthtime_key",
            )
        ]

    def __str__(self):
        return f"{self.month} {self.kind} {self.a}/{self.b} {self.measure}[{self.bucket}]"

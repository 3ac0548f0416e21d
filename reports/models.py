"""Campaigns and their spend (entered by the broker), and the segment report's place in the admin.

Leads belong to a campaign by attribution, not by a foreign key: a lead is in a campaign when its
source is the campaign's source and its utm_campaign equals the campaign's (ignoring case). So a
campaign entered today also counts the leads that arrived before it was entered.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from leads.models import Lead, Source


class Campaign(models.Model):
    name = models.CharField(max_length=100)
    source = models.CharField(
        max_length=20, choices=Source.choices, help_text="The intake form its ads point to."
    )
    utm_campaign = models.CharField(
        "utm_campaign",
        max_length=200,
        help_text="Leads from this source whose utm_campaign equals this (ignoring case) "
        "belong to the campaign.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "name"]
        constraints = [
            # One campaign per attribution key, so no lead is counted (or paid for) twice.
            models.UniqueConstraint(
                "source", Lower("utm_campaign"), name="campaign_one_per_source_utm"
            ),
            models.CheckConstraint(condition=~Q(utm_campaign=""), name="campaign_utm_not_blank"),
        ]

    def __str__(self):
        return self.name


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

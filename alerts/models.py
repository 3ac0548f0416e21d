"""How a lead's owner is interrupted (alerts). Who owns it is leads' business (leads.ownership)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Alert(models.Model):
    """An interruption of one agent about one lead. At most one open alert per (lead, reason,
    recipient): a re-inquiry storm never becomes an alert storm."""

    class Reason(models.TextChoices):
        HOT_LEAD = "hot_lead", "Hot lead"
        CLAIM = "claim", "New lead to claim"
        REINQUIRY = "reinquiry", "Hot lead asked again"
        REPLY = "reply", "Lead replied"
        ESCALATION = "escalation", "Hot lead not acknowledged"
        REASSIGNMENT = "reassignment", "Lead reassigned"
        WARM_OUTREACH = "warm_outreach", "Warm lead needs personal outreach today"

    # Hot-lead interruptions ignore the agent's quiet hours; the rest wait for them.
    URGENT = (
        Reason.HOT_LEAD,
        Reason.CLAIM,
        Reason.REINQUIRY,
        Reason.ESCALATION,
        Reason.REASSIGNMENT,
    )

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="alerts")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    rule = models.ForeignKey(
        "leads.AssignmentRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When the recipient said "I'm on it" (or opened the lead from the alert, or logged contact).
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # When the alert stopped needing attention: acknowledged, claimed by someone else, or the
    # lead was reassigned away. Open alerts are the ones without it.
    closed_at = models.DateTimeField(null=True, blank=True)
    # Escalation ladder of a hot-lead alert: 1 re-alerted the owner, 2 told the broker (or the
    # rule's backup), 3 reassigned the lead. Each step happens once, whatever the worker does.
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # The grouped text ("N new hot leads") that carried this alert when its agent had already had
    # ALERT_SMS_PER_AGENT_PER_HOUR alert texts this hour; empty when it was texted on its own (or
    # not texted at all). The alert itself, its email and its toast are never held back.
    text_digest = models.ForeignKey(
        "sequences.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="digested_alerts",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "reason", "agent"],
                condition=Q(closed_at__isnull=True),
                name="alert_one_open_per_lead_reason_agent",
            )
        ]
        indexes = [
            models.Index(fields=["agent", "closed_at", "-created_at"], name="alert_inbox"),
            models.Index(
                fields=["reason", "created_at"],
                condition=Q(closed_at__isnull=True),
                name="alert_open_by_reason",
            ),
        ]

    def __str__(self):
        return f"{self.get_reason_display()}: {self.lead} → {self.agent}"

    @property
    def is_urgent(self) -> bool:
        return self.reason in self.URGENT

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

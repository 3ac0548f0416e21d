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


class PushSubscription(models.Model):
    """One browser (a phone, a laptop) that asked for an agent's urgent alerts as Web Push
    notifications. The endpoint is the push service's address for that browser; p256dh and auth
    are the keys its payloads are encrypted to. A push service that answers 404 or 410 has
    forgotten the browser: the row is deleted (alerts/push.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    # One browser is one subscription: signing in as someone else there and enabling
    # notifications moves it to them.
    endpoint = models.URLField(max_length=2000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Failed sends since the last one that went (a push service that refused or stayed down
    # through the retries); 0 again after a success.
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.device} for {self.user}"

    @property
    def subscription_info(self) -> dict:
        """What the browser's PushSubscription.toJSON() said, as pywebpush takes it."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    @property
    def device(self) -> str:
        """ "Chrome on Android", "Safari on iPhone": enough for an agent to tell devices apart."""
        return device_name(self.user_agent)


_BROWSERS = (
    ("Edg", "Edge"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Mac OS X", "Mac"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_name(user_agent: str) -> str:
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "A browser")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    return f"{browser} on {system}" if system else browser

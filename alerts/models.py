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


def call_length(seconds: int) -> str:
    """45 s, 4 min 12 s, 1 h 5 min: a call's length as the timeline and the lead page show it."""
    minutes, seconds = divmod(max(int(seconds), 0), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    return f"{seconds} s"


class Call(models.Model):
    """One call-connect: the agent's phone rings first and says who the lead is; on 1 the lead is
    dialed from the brokerage's number. Once the lead's leg is over the call is logged by itself
    as the agent's personal contact (realtycrm.flows.calls), answered or not, and the agent adds
    the outcome with one tap."""

    class Origin(models.TextChoices):
        LEAD = "lead", "Lead page"
        TODAY = "today", "Today"
        ALERT = "alert", "An alert"
        LINK = "link", "The link in an alert"
        AUTO = "auto", "Automatic (hot lead)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Placing the call"
        RINGING = "ringing", "Ringing your phone"
        ANSWERED = "answered", "Waiting for you to press 1"
        CONNECTING = "connecting", "Calling the lead"
        ENDED = "ended", "Call ended"
        NOT_CONNECTED = "not_connected", "Not connected"
        FAILED = "failed", "Could not place the call"

    # Under way: the agent's phone can hold one of these at a time.
    ACTIVE = (Status.QUEUED, Status.RINGING, Status.ANSWERED, Status.CONNECTING)

    class Outcome(models.TextChoices):
        TALKED = "talked", "Talked"
        VOICEMAIL = "voicemail", "Left voicemail"
        NO_ANSWER = "no_answer", "No answer"
        WRONG_NUMBER = "wrong_number", "Wrong number"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="calls")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calls"
    )
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    origin = models.CharField(max_length=10, choices=Origin.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # The numbers as they were when the call was placed (the lead's may be corrected later).
    agent_number = models.CharField(max_length=16)
    lead_number = models.CharField(max_length=16)
    caller_id = models.CharField(max_length=16, blank=True)
    recorded = models.BooleanField(default=False, help_text="CALL_RECORDING was on.")
    provider_id = models.CharField(max_length=64, blank=True, help_text="The agent's leg.")
    lead_leg_id = models.CharField(max_length=64, blank=True, help_text="The lead's leg.")
    lead_answered = models.BooleanField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    detail = models.CharField(max_length=255, blank=True, help_text="Why it did not connect.")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    # The personal contact the call was logged as (its summary follows the outcome).
    contact_event = models.ForeignKey(
        "leads.LeadEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)  # the agent picked up
    dialed_at = models.DateTimeField(null=True, blank=True)  # they pressed 1
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent"],
                condition=Q(status__in=["queued", "ringing", "answered", "connecting"]),
                name="call_one_under_way_per_agent",
            )
        ]
        indexes = [
            models.Index(fields=["lead", "agent", "-created_at"], name="call_lead_agent"),
        ]

    def __str__(self):
        return f"Call {self.lead} → {self.agent} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def length_text(self) -> str:
        return call_length(self.duration_seconds or 0)

    @property
    def needs_outcome(self) -> bool:
        """Over, and the lead answered: the agent says how it went (one tap)."""
        return self.status == self.Status.ENDED and self.outcome_at is None

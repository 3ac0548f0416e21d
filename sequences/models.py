"""Nurture tracks, their steps and copy, enrolments, the outbox and agents' tasks.

    Track ─< Step ──(template_key)──> Template (one per variant: default, per source, …)
    Lead ─< Enrollment (which track, where in it)      ─▶ Message (the outbox) ─▶ provider
                                                       ─▶ Task (a personal touch for the agent)

    ReactivationCampaign ─< CampaignRecipient (one per dormant contact) ─▶ Message (email, text)

    Lead ─< Appointment (with an agent, at a time and place) ─▶ Message (confirmation, reminders)
    User ── CalendarFeed (the secret of the agent's iCalendar URL)

Models hold fields, choices and constraints; what happens to them is in services/ (enrolment,
steps, automation, tasks, suppressions, campaigns, appointments) and outbox.py (queue and
dispatch).
docs/sequences.md and docs/reactivation.md explain the choices.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from leads.models import InquiryType, Intent, Relationship, Source, Tag, default_time_zone
from leads.rulebook import rules_watch

from .placeholders import validate_template_text


class Track(models.Model):
    """A nurture sequence a lead can be enrolled in, named by a stable key."""

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


def _variant_choices():
    sources = [(value, label) for value, label in Source.choices]
    website = [
        (f"{Source.WEBSITE}:{value}", f"Website inquiry: {label.lower()}")
        for value, label in InquiryType.choices
        if value != InquiryType.NEIGHBOUR
    ]
    return [("", "Default (any source)"), *sources, *website]


class Template(models.Model):
    """Broker-editable copy. Text with a fixed set of {placeholders}, filled by plain string
    substitution (never the Django template engine). Templates sharing a key are variants of
    one piece of copy: the most specific variant for the lead is used, else the default.
    For a task, the subject is the task's title and the body its notes."""

    class Channel(models.TextChoices):
        SMS = "sms", "Text message"
        EMAIL = "email", "Email"
        TASK = "task", "Agent task"

    VARIANT_CHOICES = _variant_choices()

    key = models.SlugField(max_length=60, help_text="Steps name this key, e.g. ack_sms.")
    variant = models.CharField(
        max_length=40,
        blank=True,
        choices=VARIANT_CHOICES,
        help_text="Which leads this wording is for; the default covers everyone else.",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    description = models.CharField(max_length=200, blank=True, help_text="What this copy is for.")
    subject = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_template_text],
        help_text="Email subject, or the task's title.",
    )
    body = models.TextField(max_length=5000, validators=[validate_template_text])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key", "variant"]
        constraints = [
            models.UniqueConstraint(fields=["key", "variant"], name="template_one_per_variant")
        ]

    def __str__(self):
        return f"{self.key} · {self.get_variant_display()}"

    def clean(self):
        if self.channel in (self.Channel.EMAIL, self.Channel.TASK) and not self.subject.strip():
            what = "subject" if self.channel == self.Channel.EMAIL else "task title"
            raise ValidationError({"subject": f"Write a {what}."})
        other = Template.objects.filter(key=self.key).exclude(pk=self.pk).first()
        if other and other.channel != self.channel:
            raise ValidationError(
                {"channel": f"Other variants of {self.key} are {other.get_channel_display()}."}
            )


class TaskKind(models.TextChoices):
    CALL = "call", "Call"
    TEXT = "text", "Personal text"
    CHECK_IN = "check_in", "Check in"
    REVIEW = "review", "Review and plan outreach"
    RE_ENGAGE = "re_engage", "Re-engage"
    REPLY = "reply", "Answer a reply"
    EMAIL = "email", "Email"


class Step(models.Model):
    """One step of a track: at an offset from enrolment, send a text or an email, give the
    agent a task, or move the lead to another track. Steps at the same offset run in order."""

    class Kind(models.TextChoices):
        SMS = "sms", "Automated text"
        EMAIL = "email", "Automated email"
        TASK = "task", "Agent task"
        MOVE = "move", "Move to another track"

    class Unit(models.TextChoices):
        MINUTES = "minutes", "minutes"
        HOURS = "hours", "hours"
        DAYS = "days", "days"

    class Condition(models.TextChoices):
        ALWAYS = "", "Always"
        NO_CONVERSATION = "no_conversation", "Only if no conversation yet"
        CONVERSATION = "conversation", "Only after a conversation"

    UNIT_MINUTES = {Unit.MINUTES: 1, Unit.HOURS: 60, Unit.DAYS: 60 * 24}

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="Order among steps at the same time.")
    delay = models.PositiveIntegerField(default=0, help_text="How long after enrollment.")
    delay_unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.DAYS)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    for_intent = models.CharField(
        max_length=12,
        blank=True,
        choices=[c for c in Intent.choices if c[0] != Intent.UNKNOWN],
        help_text="Only for leads followed at this intent (blank: every lead on the track).",
    )
    condition = models.CharField(max_length=20, blank=True, choices=Condition.choices)
    is_acknowledgment = models.BooleanField(
        default=False,
        help_text="The source-matched acknowledgment: sent on first enrollment, never on a move.",
    )
    template_key = models.SlugField(
        max_length=60, blank=True, help_text="The copy to use (texts, emails and tasks)."
    )
    task_kind = models.CharField(max_length=12, blank=True, choices=TaskKind.choices)
    task_due_minutes = models.PositiveIntegerField(
        default=60 * 24, help_text="Tasks: how long the agent has, in minutes."
    )
    move_to = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    move_intent = models.CharField(
        max_length=12,
        blank=True,
        choices=[c for c in Intent.choices if c[0] != Intent.UNKNOWN],
        help_text="Moves: follow the new track at this intent (blank: keep the current one).",
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["track", "position"]
        constraints = [
            models.UniqueConstraint(fields=["track", "position"], name="step_unique_position")
        ]

    def __str__(self):
        return (
            f"{self.track.name} #{self.position}: {self.get_kind_display()} at {self.offset_label}"
        )

    @property
    def offset_minutes(self) -> int:
        return self.delay * self.UNIT_MINUTES[self.delay_unit]

    @property
    def offset(self) -> timedelta:
        return timedelta(minutes=self.offset_minutes)

    @property
    def offset_label(self) -> str:
        return f"+{self.delay} {self.get_delay_unit_display()}"

    def clean(self):
        errors = {}
        if self.kind == self.Kind.MOVE:
            if not self.move_to_id:
                errors["move_to"] = "Choose the track to move the lead to."
        else:
            expected = self.kind if self.kind != self.Kind.TASK else Template.Channel.TASK
            template = Template.objects.filter(key=self.template_key, variant="").first()
            if not self.template_key:
                errors["template_key"] = "Choose the copy this step uses."
            elif template is None:
                errors["template_key"] = f"There is no default template {self.template_key!r}."
            elif template.channel != expected:
                errors["template_key"] = (
                    f"{self.template_key} is a {template.get_channel_display().lower()} template."
                )
        if self.kind == self.Kind.TASK and not self.task_kind:
            errors["task_kind"] = "Choose the kind of task."
        if self.is_acknowledgment and self.kind not in (self.Kind.SMS, self.Kind.EMAIL):
            errors["is_acknowledgment"] = "Only a text or an email can be the acknowledgment."
        if errors:
            raise ValidationError(errors)


class Enrollment(models.Model):
    """A lead following a track. At most one open (active or paused) enrolment per lead.

    `clock_start` is when the track's offsets count from: the start, pushed later by the time
    spent paused. Steps up to `done_through_minutes` have been materialised; `next_due_at` is
    when the next one is, so the scheduler finds due work with one indexed query."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        STOPPED = "stopped", "Stopped"

    OPEN = (Status.ACTIVE, Status.PAUSED)

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="enrollments")
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="enrollments")
    intent = models.CharField(
        max_length=12, choices=Intent.choices, help_text="Which of the track's columns it follows."
    )
    acknowledge = models.BooleanField(
        default=True, help_text="Whether the track's acknowledgment is sent (not after a move)."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    clock_start = models.DateTimeField(default=timezone.now)
    done_through_minutes = models.IntegerField(default=-1)
    next_due_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=Q(status__in=["active", "paused"]),
                name="enrollment_one_open_per_lead",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_due_at"], condition=Q(status="active"), name="enrollment_due"
            ),
            models.Index(fields=["lead", "-started_at"], name="enrollment_lead"),
        ]

    def __str__(self):
        return f"{self.lead} on {self.track} ({self.get_status_display()})"


class Message(models.Model):
    """One SMS or email the system sends to anyone: the outbox row and the record of it.

    Written in the caller's transaction and dispatched after commit (sequences.outbox). The
    unique idempotency key makes queueing idempotent; the status machine
    queued → sending → sent / failed / expired / suppressed, claimed atomically, makes sending
    happen once. `expired`: transient failures (an outage) went on past the retry horizon; a
    broker sends it again from the admin's "Undelivered messages".
    Messages to agents (audience agent) are internal: no lead consent, lead quiet hours or
    per-number cap applies to them.
    """

    class Channel(models.TextChoices):
        SMS = "sms", "Text"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        SUPPRESSED = "suppressed", "Suppressed"

    class Audience(models.TextChoices):
        LEAD = "lead", "Lead"
        AGENT = "agent", "Agent"

    class Purpose(models.TextChoices):
        ACKNOWLEDGMENT = "acknowledgment", "Acknowledgment"
        NURTURE = "nurture", "Nurture touch"
        ALERT = "alert", "Alert to an agent"
        ONE_OFF = "one_off", "One-off from an agent"
        SERVICE = "service", "Service reply (HELP)"
        CAMPAIGN = "campaign", "Reactivation campaign"
        # Transactional: an appointment's confirmation, change and reminders (to the lead or the
        # agent). Not automated (a stopped track does not stop it) and not capped; a text to a
        # lead still needs consent and waits out quiet hours.
        APPOINTMENT = "appointment", "Appointment"

    AUTOMATED = (Purpose.ACKNOWLEDGMENT, Purpose.NURTURE)
    # Marketing the per-number cap counts: every automated text, and a campaign's. (A campaign's
    # message is not "automated" contact: it does not start a lead's speed to lead.)
    CAPPED = (Purpose.ACKNOWLEDGMENT, Purpose.NURTURE, Purpose.CAMPAIGN)
    # Ended without reaching the recipient, for a reason a person can act on: a broker sends
    # these again (admin: "Undelivered messages").
    UNDELIVERED = (Status.FAILED, Status.EXPIRED)
    # The claim's order when there is a backlog (lower goes first): an alert to an agent about a
    # hot lead, then what a person is waiting for now (an acknowledgment, a one-off, a HELP
    # reply, an appointment's message), then nurture touches and campaigns.
    PRIORITY_ALERT, PRIORITY_WAITING, PRIORITY_BULK = 0, 1, 2
    BULK = (Purpose.NURTURE, Purpose.CAMPAIGN)

    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages_received",
        help_text="The agent an agent-audience message goes to.",
    )
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages_sent",
        help_text="The person who wrote a one-off; empty for automation.",
    )
    channel = models.CharField(max_length=5, choices=Channel.choices)
    audience = models.CharField(max_length=5, choices=Audience.choices, default=Audience.LEAD)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    # Computed by the database from the purpose (so every way of writing a row, bulk or not,
    # gets it, and it can never disagree with the purpose): see PRIORITY_ALERT above.
    priority = models.GeneratedField(
        expression=Case(
            When(purpose=Purpose.ALERT, then=Value(PRIORITY_ALERT)),
            When(purpose__in=BULK, then=Value(PRIORITY_BULK)),
            default=Value(PRIORITY_WAITING),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    to = models.CharField(max_length=254, help_text="E.164 number or email address.")
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField()
    idempotency_key = models.CharField(max_length=200, unique=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    status_reason = models.CharField(
        max_length=255, blank=True, help_text="Why it was deferred, suppressed or failed."
    )
    created_at = models.DateTimeField(default=timezone.now)
    scheduled_for = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The lease: a claimed message belongs to one worker until it expires; then the scheduler
    # recovers it, asking the provider first where that can be known (outcome_unknown).
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The first attempt: the provider is asked about everything since (not only the last
    # claim), and the retry horizon counts from it.
    first_claimed_at = models.DateTimeField(null=True, blank=True)
    # Transient failures are retried until then (MESSAGE_RETRY_HORIZON_HOURS after the first
    # attempt, or after a broker sent it again); then the message is `expired`.
    retry_until = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    outcome_unknown = models.BooleanField(
        default=False,
        help_text="A previous attempt may have reached the provider. Cleared only by the "
        "provider's answer (found, or certainly not there), or by the send.",
    )
    possible_duplicate = models.BooleanField(
        default=False,
        help_text="Sent again although an earlier attempt may have reached the provider, which "
        "could not be asked (email): the recipient may have it twice.",
    )
    # Set with the "sent" mark, cleared once the send's effects (timeline, first contact,
    # message_sent) are recorded; lease recovery finishes any a dead worker left behind.
    effects_pending = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    delivery_status = models.CharField(max_length=20, blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    # When the provider said the recipient's server or carrier took it (a fact in no provider's
    # words, beside delivery_status, which is the provider's own): the campaign report counts it.
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=["queued", "sending", "sent", "failed", "expired", "suppressed"]
                ),
                name="message_status_valid",
            ),
        ]
        indexes = [
            # The dispatcher's claim: alerts, then what a person waits for, then bulk; the oldest
            # due first within each (outbox._claim orders by exactly these).
            models.Index(
                fields=["priority", "scheduled_for", "id"],
                condition=Q(status="queued"),
                name="message_due_by_priority",
            ),
            # Lease recovery.
            models.Index(
                fields=["lease_expires_at"], condition=Q(status="sending"), name="message_leased"
            ),
            # The per-number cap and "is this the first text to this number?".
            models.Index(fields=["to", "channel", "created_at"], name="message_to"),
            models.Index(fields=["lead", "-created_at"], name="message_lead"),
            models.Index(
                fields=["provider_id"], condition=~Q(provider_id=""), name="message_provider_id"
            ),
            models.Index(fields=["status", "-created_at"], name="message_status"),
            # Sent messages whose effects a dead worker did not record.
            models.Index(
                fields=["sent_at"], condition=Q(effects_pending=True), name="message_effects"
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.to} ({self.get_status_display()})"


class UndeliveredMessage(Message):
    """The broker's one screen for messages that ended without reaching anyone: expired (an
    outage outlasted the retry horizon) or failed. Same rows as Message, its own admin page."""

    class Meta:
        proxy = True
        verbose_name = "undelivered message"
        verbose_name_plural = "undelivered messages (expired or failed)"


class Task(models.Model):
    """A personal touch the track (or a reply) asks of the lead's agent, due at a time; or a
    follow-up an agent scheduled themselves ("call back Tuesday 10:00": created_by is set)."""

    Kind = TaskKind

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Canceled"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="tasks")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        help_text="Who should do it (the lead's owner when it was created).",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True, help_text="When it was done or dropped.")
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField(max_length=200, blank=True)
    snooze_count = models.PositiveSmallIntegerField(default=0)
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    idempotency_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    # The person who scheduled it (an agent's own follow-up); empty when automation made it.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="task_status_due"),
            models.Index(fields=["agent", "status", "due_at"], name="task_agent_due"),
            models.Index(fields=["lead", "status"], name="task_lead"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_at < timezone.now()


class AppointmentKind(models.TextChoices):
    LISTING_PRESENTATION = "listing_presentation", "Listing presentation"
    SHOWING = "showing", "Showing"
    BUYER_CONSULTATION = "buyer_consultation", "Buyer consultation"
    OTHER = "other", "Other"


class Appointment(models.Model):
    """An agent meeting a lead at a time and place. Booking one moves the lead to the
    appointment stage (realtycrm.flows.appointments); its confirmation and reminders are outbox
    messages whose keys name the appointment and its `sequence`, so a change replaces them and
    nothing is sent twice (services/appointments.py). `sequence` is also the calendar feed's
    SEQUENCE: it goes up with every change a calendar must pick up."""

    Kind = AppointmentKind

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="appointments")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
        help_text="Who meets the lead (their calendar feed shows it).",
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # The wall clock the time was given on (the agent's): the lead's messages say it so.
    time_zone = models.CharField(max_length=64, default=default_time_zone)
    place = models.CharField(max_length=255, blank=True)
    notes = models.TextField(max_length=2000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sequence = models.PositiveIntegerField(default=0, help_text="Changes so far (iCalendar).")
    # The booking form's token: a double submit books once.
    booking_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # Reminder bookkeeping: when the current reminders are due (empty: none, e.g. booked too
    # close to the time, or no way to reach them). The messages are the outbox's rows.
    agent_reminder_at = models.DateTimeField(null=True, blank=True)
    lead_reminder_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["booked", "done", "cancelled", "no_show"]),
                name="appointment_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "starts_at"], name="appointment_agent_start"),
            models.Index(fields=["lead", "starts_at"], name="appointment_lead_start"),
            models.Index(fields=["starts_at"], name="appointment_start"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} with {self.lead}"

    @property
    def is_booked(self) -> bool:
        return self.status == self.Status.BOOKED


class CalendarFeed(models.Model):
    """An agent's private calendar subscription (iCalendar): the random secret in its URL.
    Calendar apps fetch the URL without a session, so the secret is the only key; it is
    compared in constant time, and making a new one (rotating) stops the old URL at once."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Calendar feed of {self.agent}"


class Suppression(models.Model):
    """An address nothing more may be sent to: a texted STOP, a bounce, a spam report, an
    unsubscribe. Checked for every message, whoever it is for."""

    class Reason(models.TextChoices):
        SMS_STOP = "sms_stop", "Replied STOP"
        CARRIER_OPT_OUT = "carrier_opt_out", "Opted out at the carrier (Twilio 21610)"
        BOUNCE = "bounce", "Email bounced"
        SPAM_REPORT = "spam_report", "Marked as spam"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed"
        CONFIRMED_STOP = "confirmed_stop", "Asked to stop (confirmed by their agent)"

    channel = models.CharField(max_length=5, choices=Message.Channel.choices)
    address = models.CharField(max_length=254)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="suppression_unique")
        ]

    def __str__(self):
        return f"{self.address} ({self.get_reason_display()})"


class OptOutQuestion(models.Model):
    """A text that may have asked to stop ("not interested", "who is this?"): until the lead's
    agent answers, its automation stays paused and a one-off text asks them to confirm first.
    Unanswered is pending (services/opt_out_questions.py writes these)."""

    class Answer(models.TextChoices):
        PENDING = "", "Not answered yet"
        STOP = "stop", "They asked to stop"
        NOT_STOP = "not_stop", "They did not ask to stop"

    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, related_name="opt_out_questions"
    )
    body = models.TextField(help_text="The text, as received.")
    received_at = models.DateTimeField(default=timezone.now)
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer = models.CharField(max_length=10, blank=True, choices=Answer.choices)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["lead"], condition=Q(answer=""), name="optoutquestion_pending")
        ]

    def __str__(self):
        return f"“{self.body[:40]}” ({self.get_answer_display()})"


class WebhookEvent(models.Model):
    """A provider's webhook call, stored as received (deduplicated on the provider's id)."""

    class Provider(models.TextChoices):
        TWILIO_INBOUND = "twilio_inbound", "Twilio inbound SMS"
        TWILIO_STATUS = "twilio_status", "Twilio delivery status"
        SENDGRID = "sendgrid", "SendGrid event"

    provider = models.CharField(max_length=20, choices=Provider.choices)
    event_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(default=dict)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhookevent_unique")
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=Q(processed_at__isnull=True),
                name="webhookevent_unprocessed",
            )
        ]

    def __str__(self):
        return f"{self.get_provider_display()} {self.kind} {self.event_id}"


class ReactivationCampaign(models.Model):
    """A broker's message to dormant contacts of the old database, with a personal link to say
    what has changed. The audience is a smart list (dormant contacts only, narrowed by tags,
    owner, last contact and previous relationship); it is fixed as recipient rows the moment the
    broker sends, then batches queue the messages (services/campaigns.py). The copy is untrusted
    text with {placeholders}, like every template."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"

    name = models.CharField(max_length=100)
    # The smart list. Blank means any; dormant contacts only, always.
    tags = models.ManyToManyField(
        Tag, blank=True, related_name="+", help_text="Contacts with any of these tags."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Only this agent's contacts.",
    )
    last_contact_before = models.DateField(
        null=True, blank=True, help_text="Last personal contact before this day (or never)."
    )
    relationship = models.CharField(
        max_length=12, choices=Relationship.choices, blank=True, help_text="E.g. past clients."
    )
    # The copy.
    email_subject = models.CharField(max_length=200, validators=[validate_template_text])
    email_body = models.TextField(max_length=5000, validators=[validate_template_text])
    sms_body = models.TextField(
        max_length=1000,
        blank=True,
        validators=[validate_template_text],
        help_text="Sent only to contacts with SMS consent. Blank: email only.",
    )

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    send_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="Every recipient queued.")
    # Counts, written by the send and its batches (the report reads the recipient rows).
    recipient_count = models.PositiveIntegerField(default=0)
    processed_count = models.PositiveIntegerField(default=0)
    emails_queued = models.PositiveIntegerField(default=0)
    texts_queued = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


class CampaignRecipient(models.Model):
    """One dormant contact of a campaign: whether its messages were queued (or why not), and
    what it did with them. Unique per campaign and lead, so sending twice sends nothing new."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for its batch"
        QUEUED = "queued", "Messages queued"
        SKIPPED = "skipped", "Skipped"

    campaign = models.ForeignKey(
        ReactivationCampaign, on_delete=models.CASCADE, related_name="recipients"
    )
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, related_name="campaign_recipients"
    )
    # Whose contact it was when the campaign went out (the report's per-owner rows).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    skip_reason = models.CharField(max_length=255, blank=True)
    email_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sms_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    # The first time the contact opened its personal link (the form page).
    clicked_at = models.DateTimeField(null=True, blank=True)
    # The contact answered (the link's form, any form, a text): it became a lead again.
    reengaged_at = models.DateTimeField(null=True, blank=True)
    reengaged_intent = models.CharField(max_length=12, choices=Intent.choices, blank=True)

    class Meta:
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "lead"], name="recipient_one_per_lead")
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "id"], name="recipient_campaign_status"),
            models.Index(fields=["lead", "-queued_at"], name="recipient_lead"),
        ]

    def __str__(self):
        return f"{self.lead} in {self.campaign}"


# Tracks, their steps and the templates are kept in every process's memory while unchanged
# (leads.rulebook): a save or delete tells every process to read them again.
rules_watch(Track, Step, Template)

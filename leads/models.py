"""The lead, its timeline, the agents who own leads, who may own which (assignment rules and
claim offers), the routing matrix, and what else a broker edits: which answers count as hot
(IntentMapping) and what each intake form says (FormCopy).

Stored values and their meaning are fixed by DESIGN.md (the vocabulary and the data contract).
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from realtycrm import formats

from .names import person_name


class Source(models.TextChoices):
    """Where the lead came from. Set by the form, never by the prospect."""

    VALUATION = "valuation", "Home valuation funnel"
    LISTING_AD = "listing_ad", "Listing ad"
    GIVEAWAY = "giveaway", "Giveaway"
    OPEN_HOUSE = "open_house", "Open house sign-in"
    WEBSITE = "website", "Website inquiry"
    REACTIVATION = "reactivation", "Database reactivation"


class Channel(models.TextChoices):
    """How the lead reached us (beside the source, which is the message angle)."""

    FORM = "form", "Hosted form"
    API = "api", "Events API"
    EMAIL = "email", "Portal email"
    META = "meta", "Meta lead ads"
    IMPORT = "import", "Import"


class Timeline(models.TextChoices):
    """The answer to "When are you thinking of making a move?"."""

    WITHIN_3_MONTHS = "within_3_months", "Within 3 months"
    MONTHS_3_TO_6 = "3_to_6_months", "3 to 6 months"
    MONTHS_6_TO_18 = "6_to_18_months", "6 to 18 months"
    JUST_CURIOUS = "just_curious", "Just curious"
    UNKNOWN = "unknown", "Unknown"


class Intent(models.TextChoices):
    HOT = "hot", "Hot"
    WARM = "warm", "Warm"
    LONG_TERM = "long_term", "Long-term"
    UNKNOWN = "unknown", "Unknown"


class Side(models.TextChoices):
    SELLER = "seller", "Seller"
    BUYER = "buyer", "Buyer"
    BOTH = "both", "Buyer and seller"
    UNKNOWN = "unknown", "Unknown"


class Stage(models.TextChoices):
    """The conversion funnel, in order, plus lost from any stage."""

    # (The order of the members below is the funnel's order.)

    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    ENGAGED = "engaged", "Engaged"
    APPOINTMENT = "appointment", "Appointment"
    CLIENT = "client", "Client"
    CLOSED = "closed", "Closed"
    LOST = "lost", "Lost"


class InquiryType(models.TextChoices):
    """What a website visitor asked about (and an open-house visitor's reason to be there)."""

    BUYING = "buying", "Buying a home"
    SELLING = "selling", "Selling a home"
    NEIGHBOURHOOD = "neighbourhood", "A neighborhood"
    MARKET_QUESTION = "market_question", "A market question"
    NEIGHBOUR = "neighbour", "Just a neighbor"


class FirstContactMode(models.TextChoices):
    PERSONAL_CALL = "personal_call", "Personal call"
    TARGETED_TEXT = "targeted_text", "Targeted text"
    AUTOMATED = "automated", "Automated"
    SOFT_NURTURE = "soft_nurture", "Soft nurture"


def default_time_zone() -> str:
    return settings.TIME_ZONE


class Agent(models.Model):
    """A user who owns leads (an agent) or sees everyone's (a broker)."""

    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        BROKER = "broker", "Broker"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)
    phone = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +14135550123")
    active = models.BooleanField(default=True, help_text="Inactive agents get no new leads.")
    time_zone = models.CharField(max_length=64, default=default_time_zone)
    # Availability: a paused agent is skipped by assignment, never silently handed a hot lead.
    paused = models.BooleanField(default=False, help_text="Vacation or off duty: no new leads.")
    paused_reason = models.CharField(max_length=200, blank=True)
    work_start = models.TimeField(null=True, blank=True, help_text="Working hours start (local).")
    work_end = models.TimeField(null=True, blank=True, help_text="Working hours end (local).")
    work_days = models.CharField(
        max_length=7, default="01234", help_text="Weekdays worked, Monday=0 … Sunday=6."
    )
    # Non-urgent alerts wait outside these hours; hot-lead alerts always go out.
    alert_quiet_start = models.TimeField(null=True, blank=True)
    alert_quiet_end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["user__first_name", "user__last_name", "user__username"]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return person_name(self.user)

    @property
    def is_broker(self) -> bool:
        return self.role == self.Role.BROKER


class RoutingRule(models.Model):
    """One row of the segmentation matrix: source × intent × side → track, alert, first contact.

    A blank source, intent or side means "any". The most specific matching rule wins: a rule
    naming the source beats one naming the intent, which beats one naming the side (see
    docs/routing.md). At most one rule per combination, so the choice is never ambiguous.
    """

    source = models.CharField(max_length=20, choices=Source.choices, blank=True)
    intent = models.CharField(
        max_length=12, choices=[c for c in Intent.choices if c[0] != Intent.UNKNOWN], blank=True
    )
    side = models.CharField(max_length=10, choices=Side.choices, blank=True)
    track = models.ForeignKey("sequences.Track", on_delete=models.PROTECT, related_name="+")
    alert = models.BooleanField(default=False, help_text="Interrupt the owner at once.")
    first_contact_mode = models.CharField(max_length=20, choices=FirstContactMode.choices)
    note = models.CharField(max_length=200, blank=True, help_text="Why this rule exists.")

    class Meta:
        ordering = ["source", "intent", "side"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "intent", "side"], name="routingrule_one_per_combination"
            )
        ]

    def __str__(self):
        def part(value, choices):
            return dict(choices).get(value, value) if value else "any"

        return (
            f"{part(self.source, Source.choices)} × {part(self.intent, Intent.choices)} × "
            f"{part(self.side, Side.choices)} → {self.track.name if self.track_id else 'no track'}"
        )


class Relationship(models.TextChoices):
    """What an imported contact was to the brokerage before (from the old database)."""

    PAST_CLIENT = "past_client", "Past client"
    PAST_LEAD = "past_lead", "Past lead"
    SPHERE = "sphere", "Sphere of influence"
    OTHER = "other", "Other"


class Tag(models.Model):
    """A free label on leads ("pool", "VIP", "Zillow 2023"): imported and API leads bring theirs."""

    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Lead(models.Model):
    Source = Source
    Relationship = Relationship
    Channel = Channel
    Timeline = Timeline
    Intent = Intent
    Side = Side
    Stage = Stage
    InquiryType = InquiryType
    FirstContactMode = FirstContactMode

    # Who
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True, help_text="Stored lower-case.")
    phone = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +14135550123")

    # What they told us
    source = models.CharField(max_length=20, choices=Source.choices)
    timeline = models.CharField(max_length=20, choices=Timeline.choices, default=Timeline.UNKNOWN)
    side = models.CharField(max_length=10, choices=Side.choices, default=Side.UNKNOWN)
    property_address = models.CharField(max_length=255, blank=True)
    neighbourhood = models.CharField("neighborhood", max_length=100, blank=True)
    postal_code = models.CharField(max_length=12, blank=True)
    bedrooms = models.PositiveSmallIntegerField(null=True, blank=True)
    bathrooms = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    open_house = models.CharField(max_length=200, blank=True, help_text="Which open house.")
    inquiry_type = models.CharField(max_length=20, choices=InquiryType.choices, blank=True)
    message = models.TextField(max_length=2000, blank=True)
    asked_for_showing = models.BooleanField(default=False)

    # What we decided (segmentation and routing)
    intent = models.CharField(max_length=12, choices=Intent.choices, default=Intent.UNKNOWN)
    intent_reason = models.CharField(max_length=200, blank=True)
    routing_rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    nurture_track = models.ForeignKey(
        "sequences.Track", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    first_contact_mode = models.CharField(
        max_length=20, choices=FirstContactMode.choices, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.NEW)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    # When the lead first reached each funnel milestone (kept even if it is later lost), so
    # conversion per segment is a count of non-empty dates. Set only by lead_change_stage.
    engaged_at = models.DateTimeField(null=True, blank=True)
    appointment_at = models.DateTimeField(null=True, blank=True)
    client_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # When (speed to lead is derived from these; personal contact from the timeline's events)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_inquiry_at = models.DateTimeField(default=timezone.now)
    inquiry_count = models.PositiveIntegerField(default=1)
    first_automated_contact_at = models.DateTimeField(null=True, blank=True)
    alert_acknowledged_at = models.DateTimeField(null=True, blank=True)
    first_personal_contact_at = models.DateTimeField(null=True, blank=True)
    last_personal_contact_at = models.DateTimeField(null=True, blank=True)

    # Consent and opt-outs. No consent timestamp means no SMS, ever.
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    sms_consent_version = models.CharField(max_length=40, blank=True)
    sms_opted_out_at = models.DateTimeField(null=True, blank=True)
    email_opted_out_at = models.DateTimeField(null=True, blank=True)

    # Attribution: the ad platform and campaign sit on top of the source.
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)

    # First touch: how the lead reached us and from whom ("Zillow", "harborandmain.com", the Meta
    # page and form), with the campaign and ad ids the channel gave. A re-inquiry keeps these.
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.FORM)
    origin = models.CharField(max_length=200, blank=True)
    attribution = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="leads")

    # The old database: an imported contact is dormant (it asked for nothing: no acknowledgment,
    # no track, no alert, not in the segment report) until it re-engages, which is its arrival:
    # created_at becomes that moment, imported_at keeps when it was imported.
    dormant = models.BooleanField(default=False)
    imported_at = models.DateTimeField(null=True, blank=True)
    relationship = models.CharField(max_length=12, choices=Relationship.choices, blank=True)

    # Every submission exactly as received is a Submission row (lead.submissions), never a copy.

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Same person, same lead: dedupe is enforced by the database, so racing submissions
            # cannot create two leads.
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="lead_unique_email"
            ),
            models.UniqueConstraint(
                fields=["phone"], condition=~Q(phone=""), name="lead_unique_phone"
            ),
            models.CheckConstraint(condition=Q(source__in=Source.values), name="lead_source_valid"),
            models.CheckConstraint(condition=Q(intent__in=Intent.values), name="lead_intent_valid"),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="lead_stage_valid"),
        ]
        indexes = [
            models.Index(fields=["-created_at"], name="lead_created"),
            models.Index(fields=["owner", "-created_at"], name="lead_owner_created"),
            models.Index(fields=["source", "intent"], name="lead_segment"),
            models.Index(fields=["stage"], name="lead_stage"),
            models.Index(
                fields=["intent", "first_personal_contact_at"], name="lead_intent_contact"
            ),
            models.Index(fields=["last_personal_contact_at"], name="lead_last_contact"),
            # The dashboard's lists (leads/selectors.py). Today's hot queue is a handful of rows
            # out of many thousands: a partial index holds exactly those, oldest first.
            models.Index(
                fields=["owner", "created_at"],
                condition=Q(intent="hot", first_personal_contact_at__isnull=True),
                name="lead_hot_queue",
            ),
            # The list filters by intent (and source) far more than by anything else, newest first.
            models.Index(fields=["intent", "-created_at"], name="lead_intent_created"),
            models.Index(fields=["source", "intent", "-created_at"], name="lead_segment_created"),
            models.Index(fields=["last_name", "first_name", "id"], name="lead_name"),
            models.Index(fields=["owner", "last_name", "first_name", "id"], name="lead_owner_name"),
            models.Index(
                fields=["owner", "last_personal_contact_at"], name="lead_owner_last_contact"
            ),
            models.Index(fields=["origin", "-created_at"], name="lead_origin_created"),
            models.Index(fields=["channel", "-created_at"], name="lead_channel_created"),
            models.Index(
                fields=["owner", "imported_at"], condition=Q(dormant=True), name="lead_dormant"
            ),
        ]

    def __str__(self):
        return self.full_name or self.email or self.phone or f"Lead #{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def can_text(self) -> bool:
        """SMS only with recorded consent, never after an opt-out."""
        return bool(self.phone and self.sms_consent_at and not self.sms_opted_out_at)

    @property
    def can_email(self) -> bool:
        return bool(self.email and not self.email_opted_out_at)


class LeadEvent(models.Model):
    """One fact on a lead's timeline. Derived dates (last personal contact, speed to lead) come
    from these, so reports rest on facts rather than on fields someone remembered to update."""

    class Kind(models.TextChoices):
        CREATED = "created", "Lead created"
        IMPORTED = "imported", "Imported"
        REENGAGED = "reengaged", "Re-engaged"
        REINQUIRY = "reinquiry", "Re-inquiry"
        ASSIGNED = "assigned", "Assigned"
        REASSIGNED = "reassigned", "Reassigned"
        INTENT_CHANGED = "intent_changed", "Intent changed"
        TIMELINE_CHANGED = "timeline_changed", "Timeline changed"
        SIDE_CHANGED = "side_changed", "Side changed"
        STAGE_CHANGED = "stage_changed", "Stage changed"
        TRACK_CHANGED = "track_changed", "Nurture track changed"
        PERSONAL_CONTACT = "personal_contact", "Personal contact"
        NOTE = "note", "Note"
        MESSAGE_SENT = "message_sent", "Automated message sent"
        MESSAGE_FAILED = "message_failed", "Message failed"
        REPLY = "reply", "Reply from lead"
        CONSENT_GIVEN = "consent_given", "Consent given"
        OPTED_OUT = "opted_out", "Opted out"
        OPTED_IN = "opted_in", "Opted back in"
        ALERT = "alert", "Agent alerted"
        ALERT_ACKNOWLEDGED = "alert_acknowledged", "Alert acknowledged"
        AUTOMATION_PAUSED = "automation_paused", "Automation paused"
        AUTOMATION_STOPPED = "automation_stopped", "Automation stopped"
        AUTOMATION_RESUMED = "automation_resumed", "Automation resumed"
        CONTACT_UPDATED = "contact_updated", "Contact details updated"
        APPOINTMENT = "appointment", "Appointment"
        TAG_ADDED = "tag_added", "Tag added"
        TAG_REMOVED = "tag_removed", "Tag removed"

    class Channel(models.TextChoices):
        CALL = "call", "Call"
        SMS = "sms", "Text"
        EMAIL = "email", "Email"
        IN_PERSON = "in_person", "In person"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The person who did it; empty for the system or the prospect.",
    )
    summary = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-occurred_at"], name="leadevent_timeline"),
            models.Index(fields=["kind", "occurred_at"], name="leadevent_kind_time"),
        ]

    def __str__(self):
        return (
            f"{self.get_kind_display()} · {self.summary}"
            if self.summary
            else self.get_kind_display()
        )


class Integration(models.Model):
    """One way leads arrive from outside: an Events API key, a portal inbox address, or a Meta
    page (and form). What a broker edits here is data the channel's adapter reads for every lead:
    the default source and origin, who gets the leads, how the payload's fields map to ours, and
    whether the source collects SMS consent (with the wording it shows)."""

    class Kind(models.TextChoices):
        API = "api", "Events API key"
        EMAIL = "email", "Portal email inbox"
        META = "meta", "Meta lead ads page"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    active = models.BooleanField(default=True, help_text="Inactive: its key or inbox is refused.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Events API: the key is shown once (manage.py create_api_key); only its SHA-256 is kept.
    key_prefix = models.CharField(
        max_length=12, blank=True, help_text="The key's first characters."
    )
    key_hash = models.CharField(max_length=64, blank=True)
    rate_limit = models.PositiveIntegerField(
        default=120, help_text="Events API: requests a minute before it answers 429."
    )
    # Portal email: the address (or its local part) portals send to, e.g. zillow@leads.example.com.
    inbox_address = models.CharField(max_length=254, blank=True)
    # Meta lead ads: the page, optionally one form of it, and the page's access token.
    meta_page_id = models.CharField(max_length=40, blank=True)
    meta_form_id = models.CharField(max_length=40, blank=True, help_text="Blank: every form.")
    meta_page_token = models.CharField(max_length=500, blank=True)
    meta_synced_at = models.DateTimeField(null=True, blank=True)

    # What every lead from here starts with, unless the payload says otherwise.
    origin = models.CharField(
        max_length=200, blank=True, help_text="The sending system or brand, e.g. Zillow."
    )
    default_source = models.CharField(max_length=20, choices=Source.choices, default=Source.WEBSITE)
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Gets every lead from here (while available). Blank: the assignment rules.",
    )
    assignment_rule = models.ForeignKey(
        "AssignmentRule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Assign by this rule instead of the first matching one.",
    )
    field_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text='Their field → ours, e.g. {"move_time": "timeline", "home_address": '
        '"property_address"}; event types → sources under "types".',
    )
    # Consent is evidence: only a source that collects compliant SMS consent, with the wording it
    # shows recorded here, makes its leads textable without consent in the payload itself.
    sms_consent_collected = models.BooleanField(
        "collects SMS consent",
        default=False,
        help_text="This source collects SMS consent with the wording below.",
    )
    sms_consent_wording = models.TextField("SMS consent wording", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["key_hash"], condition=~Q(key_hash=""), name="integration_unique_key"
            ),
            models.CheckConstraint(
                condition=Q(sms_consent_collected=False) | ~Q(sms_consent_wording=""),
                name="integration_consent_has_wording",
            ),
        ]
        indexes = [models.Index(fields=["kind", "meta_page_id"], name="integration_meta_page")]

    def __str__(self):
        return self.name


class Submission(models.Model):
    """Every payload that reached intake from any channel (a form POST, an API event, a portal
    email, a Meta lead), stored before anything else happens, so nothing a prospect sent is lost
    even if processing fails. A payload no adapter could read is kept too (rejected, with why)."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PENDING = "pending", "Waiting for its details"
        ACCEPTED = "accepted", "Accepted"
        SPAM = "spam", "Quarantined as spam"
        FAILED = "failed", "Processing failed"
        REJECTED = "rejected", "Rejected"

    source = models.CharField(max_length=20, choices=Source.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.FORM)
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    origin = models.CharField(max_length=200, blank=True)
    attribution = models.JSONField(default=dict, blank=True)
    # The channel's own id for this payload (namespaced by the adapter: an Idempotency-Key, a
    # Message-ID, a Meta lead id): the same one never makes two leads.
    external_id = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    spam_reason = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, help_text="The payload as received.")
    query = models.JSONField(default=dict, help_text="The page's query string (utm_*, listing…).")
    # What a channel's adapter read from the payload (Lead fields, consent evidence, owner), so
    # any stored submission can be processed again without the adapter (forms re-read `data`).
    mapped = models.JSONField(default=dict, blank=True)
    form_url = models.CharField(max_length=1000, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    created_lead = models.BooleanField(default=False, help_text="It made a new lead.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="submission_unique_external_id",
            )
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="submission_status"),
            models.Index(fields=["channel", "status", "-created_at"], name="submission_channel"),
        ]

    def __str__(self):
        label = (
            self.get_source_display()
            if self.channel == Channel.FORM
            else self.get_channel_display()
        )
        return f"{label} submission #{self.pk} ({self.get_status_display()})"


class ConsentRecord(models.Model):
    """Evidence of an SMS consent: the exact wording shown, when, from where."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="consents")
    submission = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, default="sms")
    wording_version = models.CharField(max_length=40)
    wording = models.TextField()
    form_url = models.CharField(max_length=1000, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    # When the prospect agreed, by the payload (a form's consent is given when it is stored), and
    # what else the channel's evidence said (the sending system, the integration's record).
    given_at = models.DateTimeField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        channel = "SMS" if self.channel == "sms" else self.channel.capitalize()
        return f"{channel} consent {self.wording_version}, {formats.when(self.created_at)}"


class SavedFilter(models.Model):
    """A smart list: a leads-list query an agent named and may pin to the top of the list.

    `query` is the list's query string, normalised (known filter keys only, no page number), so
    a saved list opens exactly as it was saved and visibility is still decided per request.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=1000, blank=True)
    pinned = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-pinned", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="savedfilter_unique_name")
        ]

    def __str__(self):
        return self.name


class BulkJob(models.Model):
    """One bulk action on the leads list: who asked, what to do (`action`, `params`), to which
    leads (the list's filter query, or the rows they ticked), and how far it has got.

    The leads are read again when the work is done, through `lead_visible_to` for the person who
    asked, so a forged selection never reaches another agent's lead. Work goes a chunk at a time
    in lead id order; each chunk and the `cursor` (the last lead id it finished) commit together,
    so a worker that dies mid-chunk leaves nothing half done and the next one resumes after the
    cursor: no lead is changed twice (realtycrm/flows/bulk.py).
    """

    class Action(models.TextChoices):
        REASSIGN = "reassign", "Reassign"
        STAGE = "stage", "Change stage"
        TAG_ADD = "tag_add", "Add a tag"
        TAG_REMOVE = "tag_remove", "Remove a tag"
        PAUSE = "pause", "Pause automation"
        RESUME = "resume", "Resume automation"
        TRACK = "track", "Move to a track"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Working"
        DONE = "done", "Done"
        FAILED = "failed", "Stopped by an error"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="bulk_jobs"
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    # What the action needs, by id: {"owner": 7}, {"stage": "lost", "note": ""}, {"tag": 3},
    # {"track": 2}, {"reason": ""}; and what to call them on the page ("label").
    params = models.JSONField(default=dict, blank=True)
    # The selection: every lead matching `query` (the list's normalised filter) up to
    # `upto_lead_id` (leads that arrive later are not part of it), or exactly `lead_ids`.
    all_matching = models.BooleanField(default=False)
    query = models.CharField(max_length=1000, blank=True)
    upto_lead_id = models.PositiveBigIntegerField(default=0)
    lead_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0, help_text="Leads worked (changed or not).")
    changed = models.PositiveIntegerField(default=0, help_text="Of those, the leads it changed.")
    failed = models.PositiveIntegerField(default=0)
    cursor = models.PositiveBigIntegerField(default=0, help_text="The last lead id worked.")
    errors = models.JSONField(default=list, blank=True, help_text="The first failures, why.")
    error = models.TextField(blank=True, help_text="Why the whole job stopped.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "status"], name="bulkjob_by_status")]

    def __str__(self):
        return f"Bulk {self.get_action_display().lower()} #{self.pk}"

    @property
    def is_working(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100  # some leads may have stopped matching the filter meanwhile
        if not self.total:
            return 0
        return min(100, (self.done + self.failed) * 100 // self.total)

    # A job with no progress for this long has probably lost its worker: the page offers Resume.
    STALLED_AFTER = timedelta(minutes=2)

    @property
    def is_stalled(self) -> bool:
        return self.is_working and timezone.now() - self.updated_at > self.STALLED_AFTER


class AssignmentRule(models.Model):
    """Ordered, first match wins. Blank criteria match anything; the shipped catch-all has none.

    The rule's group is its members, or every active agent when it names none (so a solo agent
    needs no configuration at all).
    """

    class Policy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"
        FIRST_TO_CLAIM = "first_to_claim", "First to claim"

    position = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    source = models.CharField(max_length=20, choices=Source.choices, blank=True)
    intent = models.CharField(
        max_length=12, choices=[c for c in Intent.choices if c[0] != Intent.UNKNOWN], blank=True
    )
    side = models.CharField(max_length=10, choices=Side.choices, blank=True)
    neighbourhood = models.CharField(
        "neighborhood",
        max_length=100,
        blank=True,
        help_text="Matches the lead's neighborhood, any case.",
    )
    postal_code_prefix = models.CharField(
        max_length=12, blank=True, help_text="Matches postal codes starting with this."
    )
    policy = models.CharField(max_length=20, choices=Policy.choices, default=Policy.ROUND_ROBIN)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="assignment_rules",
        help_text="The group. Leave empty for every active agent.",
    )
    claim_minutes = models.PositiveSmallIntegerField(
        default=5,
        help_text="First to claim: minutes before an unclaimed lead goes to the fallback.",
    )
    fallback = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Gets the lead when nobody in the group can take it or claims it in time.",
    )
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Alerted when a hot lead is not acknowledged in time (instead of the brokers).",
    )
    # Call-connect (alerts.calls): the hot-lead alert also rings the owner's phone and, on 1,
    # dials the lead, the moment it arrives. On the rule because it is the group's agreement
    # to be rung (the rule names the group); off unless a broker turns it on.
    auto_call_hot = models.BooleanField(
        "Call hot leads at once",
        default=False,
        help_text="When a hot lead arrives, ring its owner's phone and connect them to the lead.",
    )
    # Round robin: who got the last lead from this rule; the next goes to the one after them.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]
        db_table = "alerts_assignmentrule"  # moved from alerts (leads/0007): the table stayed

    def __str__(self):
        return self.name


class ClaimOffer(models.Model):
    """An unowned lead offered to one agent of a first-to-claim group. While it is open, the agent
    may see the lead and claim it; the first claim closes every offer of the lead."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="claim_offers")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claim_offers"
    )
    rule = models.ForeignKey(
        AssignmentRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "agent"],
                condition=Q(closed_at__isnull=True),
                name="claimoffer_one_open_per_lead_agent",
            )
        ]
        indexes = [
            models.Index(
                fields=["agent", "lead"],
                condition=Q(closed_at__isnull=True),
                name="claimoffer_open_by_agent",
            )
        ]

    def __str__(self):
        return f"{self.lead} offered to {self.agent}"


class OnDuplicate(models.TextChoices):
    """What an import does with a row that matches a lead we already have (by email or phone)."""

    SKIP = "skip", "Skip it: keep the lead as it is"
    FILL = "fill", "Fill the lead's empty fields from the file"


class ImportBatch(models.Model):
    """One file of a brokerage's old database, from upload to done (or undone): the file as
    uploaded, how its columns map to a lead's fields, the dry run's outcome per row (ImportRow)
    and the import's progress. Its leads carry `attribution["import"]` = its pk."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded: map the columns"
        CHECKING = "checking", "Dry run in progress"
        DRY_RUN = "dry_run", "Dry run done: ready to import"
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"
        UNDOING = "undoing", "Undoing"
        UNDONE = "undone", "Undone"

    OnDuplicate = OnDuplicate

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    file_type = models.CharField(max_length=4, choices=[("csv", "CSV"), ("xlsx", "Excel")])
    # The file as uploaded, in the database: any worker on any machine can read it.
    content = models.BinaryField()
    headers = models.JSONField(default=list, blank=True)
    # One lead field (leads.imports.mapping.COLUMNS) or "" per header, in the headers' order.
    mapping = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Owns the contacts whose row names no owner.",
    )
    on_duplicate = models.CharField(
        max_length=4, choices=OnDuplicate.choices, default=OnDuplicate.SKIP
    )
    # What the brokerage says its contacts agreed to when they gave the dates of the consent
    # column: stored with every consent recorded from this file.
    consent_wording = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0, help_text="Of the current phase.")
    # The last row number the current phase (dry run, import) finished: where a worker resumes.
    cursor = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # The dry run's totals per outcome (ImportRow.Outcome) when it ends.
    dry_run = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, help_text="Why it failed, or why undo was refused.")
    failed_during = models.CharField(max_length=10, blank=True, help_text="The status it had.")
    # The one Submission of this import (channel import): what its consent records point to.
    submission = models.ForeignKey(
        "Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"

    def __str__(self):
        return f"Import #{self.pk} ({self.file_name})"

    @property
    def is_working(self) -> bool:
        """A worker has something to do (the page polls for progress)."""
        return self.status in (
            self.Status.CHECKING,
            self.Status.QUEUED,
            self.Status.RUNNING,
            self.Status.UNDOING,
        )

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, self.rows_processed * 100 // self.rows_total)


class ImportRow(models.Model):
    """One row of an import's file as the dry run read it: the lead's values cleaned from its
    cells, what the import will do with it, and (for a row that will not be imported: an error,
    a duplicate) its cells as they were, for the CSV of those rows."""

    class Outcome(models.TextChoices):
        NEW = "new", "New contact"
        MATCH = "match", "Matches an existing lead"
        DUPLICATE = "duplicate", "Duplicate of an earlier row"
        ERROR = "error", "Error"

    # Indexed by the unique (batch, number) below: one index less to write per row.
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.CASCADE, related_name="rows", db_index=False
    )
    number = models.PositiveIntegerField(help_text="The row's number in the file (header = 1).")
    cells = models.JSONField(default=list, blank=True)
    values = models.JSONField(default=dict)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=16, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["batch", "number"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="importrow_one_per_number")
        ]
        indexes = [models.Index(fields=["batch", "outcome", "number"], name="importrow_outcome")]

    def __str__(self):
        return f"Row {self.number} of import #{self.batch_id}"


# --- What a broker edits: how answers count, and what each form says -----------------------------
# The website form's questions (the open-house "just a neighbour" is not one of them).
WEBSITE_INQUIRY_TYPES = (
    InquiryType.BUYING,
    InquiryType.SELLING,
    InquiryType.NEIGHBOURHOOD,
    InquiryType.MARKET_QUESTION,
)
# What an answer may count as: "unknown" is what a lead never segmented has, not a verdict.
MAPPED_INTENTS = [choice for choice in Intent.choices if choice[0] != Intent.UNKNOWN]
# The answers the intent mapping has a row for, by kind ("unknown" is no answer: it has none).
MAPPED_ANSWERS = {
    "timeline": [choice for choice in Timeline.choices if choice[0] != Timeline.UNKNOWN],
    "source": Source.choices,
    "inquiry": [choice for choice in InquiryType.choices if choice[0] in WEBSITE_INQUIRY_TYPES],
}


class IntentMapping(models.Model):
    """Which answers count as hot, warm or long-term: one row per answer, the shipped values
    seeded by a data migration (leads/0012). Segmentation reads them for every decision
    (leads.routing.intent_map, one query); a change counts for decisions made after it, never
    for leads already classified. The rows are fixed (one per timeline answer, per source, per
    website question): a broker changes only the intent. "Unknown" has no row: without a
    stated timeline the source's row (or, on the website form, the question's) decides."""

    class Kind(models.TextChoices):
        TIMELINE = "timeline", "Timeline answer"
        SOURCE = "source", "Source, when no timeline was given"
        INQUIRY = "inquiry", "Website question, when no timeline was given"

    ANSWERS = MAPPED_ANSWERS

    kind = models.CharField(max_length=10, choices=Kind.choices, editable=False)
    answer = models.CharField(max_length=20, editable=False)
    intent = models.CharField(
        max_length=12,
        choices=MAPPED_INTENTS,
        help_text="Counts for leads classified from now on; leads already classified keep "
        "their intent until they are classified again.",
    )
    position = models.PositiveSmallIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "timeline → intent mapping"
        verbose_name_plural = "timeline → intent mapping"
        constraints = [
            models.UniqueConstraint(fields=["kind", "answer"], name="intentmapping_one_per_answer"),
            models.CheckConstraint(
                condition=Q(intent__in=[value for value, _ in MAPPED_INTENTS]),
                name="intentmapping_intent_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind="timeline", answer__in=[v for v, _ in MAPPED_ANSWERS["timeline"]])
                | Q(kind="source", answer__in=[v for v, _ in MAPPED_ANSWERS["source"]])
                | Q(kind="inquiry", answer__in=[v for v, _ in MAPPED_ANSWERS["inquiry"]]),
                name="intentmapping_answer_valid",
            ),
        ]

    def __str__(self):
        return f"{self.answer_label} → {self.get_intent_display()}"

    @property
    def answer_label(self) -> str:
        label = dict(self.ANSWERS.get(self.kind, [])).get(self.answer, self.answer)
        if self.kind == self.Kind.TIMELINE:
            return f"Said they are moving: {label.lower()}"
        if self.kind == self.Kind.SOURCE:
            return f"No timeline given: {label}"
        return f"No timeline given: website question about {label.lower()}"

    def clean(self):
        super().clean()
        if self.answer not in dict(self.ANSWERS.get(self.kind, [])):
            raise ValidationError(
                {"answer": f"“{self.answer}” is not an answer a {self.kind} can have."}
            )


class FormCopy(models.Model):
    """What a hosted intake form says: its headline, intro, submit button and thank-you text, and
    for the giveaway its prize, rules and end date. A broker edits it in the admin; one row per
    form, seeded with the shipped wording (leads/0012); without a row a form shows its own
    (leads.forms). Plain text, always shown escaped: never a template, so nothing typed here
    can run on the page."""

    source = models.CharField(max_length=20, choices=Source.choices, unique=True, editable=False)
    headline = models.CharField(max_length=120)
    intro = models.TextField(max_length=600, blank=True, help_text="Shown under the headline.")
    submit_label = models.CharField(max_length=40, help_text="The button's words.")
    thank_you = models.TextField(
        max_length=600, blank=True, help_text="The thank-you page, after the form is sent."
    )
    prize = models.CharField(max_length=200, blank=True, help_text="Giveaway only.")
    rules = models.TextField(
        max_length=5000, blank=True, help_text="Giveaway only: the official rules, as text."
    )
    ends_on = models.DateField(
        null=True,
        blank=True,
        help_text="Giveaway only: the last day to enter (the brokerage's time zone). After it "
        "the form shows “This giveaway has ended”; anything still sent is kept, not entered.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source"]
        verbose_name = "form copy"
        verbose_name_plural = "form copy"

    def __str__(self):
        return f"{self.get_source_display()} form"

    def clean(self):
        super().clean()
        if self.source != Source.GIVEAWAY:
            given = [name for name in ("prize", "rules", "ends_on") if getattr(self, name)]
            if given:
                raise ValidationError(
                    {
                        name: "Only the giveaway form has a prize, rules and an end date."
                        for name in given
                    }
                )


class RulesVersion(models.Model):
    """One row: a token that changes whenever a broker-edited rule does (routing rules, the
    intent mapping, form copy, assignment rules and their groups, tracks, steps, message
    templates). Every process keeps those
    rules in memory and reads only this token to know whether they are still current
    (leads.rulebook), so a change made in the admin of one web process reaches every other web
    process and worker at their next read. A random token rather than a counter: a change rolled
    back leaves the old token, and no two changes can ever share one."""

    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = "rules version"

    def __str__(self):
        return self.token

"""One factory per model. `.build()` when no database is needed."""

import base64
import os

import factory
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group, User
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from django_q.models import Task as QueueTask
from django_q.signing import SignedPackage

from alerts.models import Alert, Call, PushSubscription
from leads.models import (
    Agent,
    AssignmentRule,
    BulkJob,
    ClaimOffer,
    ConsentRecord,
    Integration,
    Lead,
    LeadEvent,
    RoutingRule,
    SavedFilter,
    Submission,
    Tag,
)
from reports.models import Campaign, CampaignSpend
from sequences.models import (
    Appointment,
    CampaignRecipient,
    Enrollment,
    Message,
    ReactivationCampaign,
    Step,
    Suppression,
    Task,
    Template,
    Track,
    WebhookEvent,
)

PASSWORD = "correct-horse-battery"


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Group {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@agents.example")
    password = factory.django.Password(PASSWORD)


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    user = factory.SubFactory(UserFactory)
    role = Agent.Role.AGENT
    phone = factory.Sequence(lambda n: f"+1413555{n % 10000:04d}")

    class Params:
        broker = factory.Trait(role=Agent.Role.BROKER)
        on_vacation = factory.Trait(paused=True, paused_reason="Vacation")


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track
        django_get_or_create = ("key",)

    key = "long_term_local"
    name = factory.LazyAttribute(lambda track: track.key.replace("_", " ").title())


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    track = factory.SubFactory(TrackFactory)
    alert = False
    first_contact_mode = Lead.FirstContactMode.AUTOMATED


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1617555{n % 10000:04d}")
    source = Lead.Source.VALUATION
    timeline = Lead.Timeline.MONTHS_6_TO_18
    intent = Lead.Intent.WARM
    side = Lead.Side.SELLER
    property_address = factory.Faker("street_address")
    created_at = factory.LazyFunction(timezone.now)
    last_inquiry_at = factory.SelfAttribute("created_at")

    class Params:
        hot = factory.Trait(timeline=Lead.Timeline.WITHIN_3_MONTHS, intent=Lead.Intent.HOT)
        long_term = factory.Trait(timeline=Lead.Timeline.JUST_CURIOUS, intent=Lead.Intent.LONG_TERM)
        texting = factory.Trait(
            sms_consent_at=factory.LazyFunction(timezone.now), sms_consent_version="sms-2026-11-v1"
        )


class LeadEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadEvent

    lead = factory.SubFactory(LeadFactory)
    kind = LeadEvent.Kind.NOTE
    summary = factory.Faker("sentence")


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    source = Lead.Source.VALUATION
    data = factory.LazyFunction(lambda: {"first_name": "Ada", "email": "ada@example.com"})


class ConsentRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentRecord

    lead = factory.SubFactory(LeadFactory)
    wording_version = "sms-2026-11-v1"
    wording = "Yes, text me."


# --- Agent dashboard (leads/views/, leads/filters.py) --------------------------------------------


class SavedFilterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedFilter

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"My list {n}")
    query = "intent=hot"
    pinned = True


# --- sequences -----------------------------------------------------------------------------------


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Template
        django_get_or_create = ("key", "variant")

    key = factory.Sequence(lambda n: f"test_template_{n}")
    variant = ""
    channel = Template.Channel.SMS
    body = "Hi {first_name}, this is {agent_name} at {brokerage}."


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Step

    track = factory.SubFactory(TrackFactory, key=factory.Sequence(lambda n: f"test_track_{n}"))
    position = factory.Sequence(lambda n: n + 1)
    delay = 0
    delay_unit = Step.Unit.MINUTES
    kind = Step.Kind.SMS
    template_key = factory.LazyAttribute(lambda step: TemplateFactory(channel=step.kind).key)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    lead = factory.SubFactory(LeadFactory)
    track = factory.SubFactory(TrackFactory)
    intent = factory.SelfAttribute("lead.intent")
    started_at = factory.LazyFunction(timezone.now)
    clock_start = factory.SelfAttribute("started_at")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    lead = factory.SubFactory(LeadFactory, texting=True)
    channel = Message.Channel.SMS
    audience = Message.Audience.LEAD
    purpose = Message.Purpose.NURTURE
    to = factory.LazyAttribute(
        lambda m: m.lead.phone if m.channel == Message.Channel.SMS else m.lead.email
    )
    body = "Hello from the outbox."
    idempotency_key = factory.Sequence(lambda n: f"test-message-{n}")
    scheduled_for = factory.LazyFunction(timezone.now)

    class Params:
        email = factory.Trait(channel=Message.Channel.EMAIL, subject="A subject")
        to_agent = factory.Trait(
            audience=Message.Audience.AGENT,
            purpose=Message.Purpose.ALERT,
            lead=None,
            to="+14135550199",
        )


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    lead = factory.SubFactory(LeadFactory)
    agent = factory.SelfAttribute("lead.owner")
    kind = Task.Kind.CALL
    title = factory.LazyAttribute(lambda task: f"Call {task.lead}")
    due_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(hours=1))


class SuppressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suppression

    channel = Message.Channel.SMS
    address = factory.Sequence(lambda n: f"+1617556{n % 10000:04d}")
    reason = Suppression.Reason.SMS_STOP


class WebhookEventFactory(factory.django.DjangoModelFactory):
    """A delivery receipt for a message; `inbound=True` for a text that arrived."""

    class Meta:
        model = WebhookEvent

    provider = WebhookEvent.Provider.TWILIO_STATUS
    event_id = factory.Sequence(lambda n: f"SM{n:032d}")
    kind = "delivered"
    message = factory.SubFactory(MessageFactory)
    payload = factory.LazyAttribute(
        lambda event: {"MessageSid": event.event_id, "MessageStatus": event.kind}
    )

    class Params:
        inbound = factory.Trait(
            provider=WebhookEvent.Provider.TWILIO_INBOUND,
            kind="inbound",
            message=None,
            payload=factory.LazyAttribute(
                lambda event: {"MessageSid": event.event_id, "Body": "Yes please"}
            ),
        )


class ReactivationCampaignFactory(factory.django.DjangoModelFactory):
    """A draft reactivation campaign to every dormant contact, email and text."""

    class Meta:
        model = ReactivationCampaign

    name = factory.Sequence(lambda n: f"Spring check-in {n}")
    email_subject = "It's been a while, {first_name}"
    email_body = "Hi {first_name}, it's {agent_name}. What has changed? {reactivation_link}"
    sms_body = "Hi {first_name}, it's {agent_name}. Anything new? {reactivation_link}"


class CampaignRecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignRecipient

    campaign = factory.SubFactory(ReactivationCampaignFactory, status="sent")
    lead = factory.SubFactory(
        LeadFactory,
        dormant=True,
        channel="import",
        source="reactivation",
        timeline="unknown",
        intent="unknown",
    )
    owner = factory.SelfAttribute("lead.owner")
    status = CampaignRecipient.Status.QUEUED
    queued_at = factory.LazyFunction(timezone.now)


# --- alerts ---------------------------------------------------------------------------------------


class AssignmentRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssignmentRule
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Rule {n}")
    position = factory.Sequence(lambda n: n + 1)
    policy = AssignmentRule.Policy.ROUND_ROBIN

    @factory.post_generation
    def members(rule, create, extracted, **kwargs):
        if create and extracted:
            rule.members.set(extracted)


class ClaimOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClaimOffer

    lead = factory.SubFactory(LeadFactory, owner=None)
    agent = factory.SubFactory(UserFactory)


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    lead = factory.SubFactory(LeadFactory)
    agent = factory.SubFactory(UserFactory)
    reason = Alert.Reason.HOT_LEAD


# --- reports -------------------------------------------------------------------------------------


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    name = factory.Sequence(lambda n: f"Integration {n}")
    kind = Integration.Kind.API
    origin = "Zillow"
    default_source = Lead.Source.WEBSITE


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    source = Lead.Source.VALUATION
    utm_campaign = factory.Sequence(lambda n: f"campaign-{n}")


class CampaignSpendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignSpend

    campaign = factory.SubFactory(CampaignFactory)
    starts_on = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))
    ends_on = factory.SelfAttribute("starts_on")
    amount = "100.00"


# --- other apps: django-q2's queue, django-axes' sign-in records ---------------------------------


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Schedule

    name = factory.Sequence(lambda n: f"schedule-{n}")
    func = "math.floor"
    schedule_type = Schedule.MINUTES
    minutes = 1


class QueueTaskFactory(factory.django.DjangoModelFactory):
    """A finished django-q2 task (Success); `failed=True` for a Failure."""

    class Meta:
        model = QueueTask

    id = factory.Sequence(lambda n: f"{n:032x}")
    name = factory.Sequence(lambda n: f"task-{n}")
    func = "sequences.tasks.message_dispatch"
    started = factory.LazyFunction(timezone.now)
    stopped = factory.SelfAttribute("started")
    success = True

    class Params:
        failed = factory.Trait(success=False, result="Traceback: it broke")


class OrmQFactory(factory.django.DjangoModelFactory):
    """A task waiting in django-q2's ORM queue."""

    class Meta:
        model = OrmQ

    key = "realtycrm"
    payload = factory.Sequence(
        lambda n: SignedPackage.dumps(
            {"id": f"{n:032x}", "name": f"queued-{n}", "func": "math.floor", "args": (n,)}
        )
    )


class _SignInFactory(factory.django.DjangoModelFactory):
    """What every django-axes record says about a sign-in."""

    class Meta:
        abstract = True

    username = factory.Sequence(lambda n: f"user{n}")
    ip_address = "198.51.100.1"
    user_agent = "Mozilla/5.0"
    http_accept = "text/html"
    path_info = "/accounts/login/"


class AccessAttemptFactory(_SignInFactory):
    """Failed sign-ins of one username from one address (django-axes)."""

    class Meta:
        model = AccessAttempt

    get_data = ""
    post_data = ""
    failures_since_start = 2


class AccessLogFactory(_SignInFactory):
    """A successful sign-in (django-axes)."""

    class Meta:
        model = AccessLog


class AccessFailureLogFactory(_SignInFactory):
    """One failed sign-in (django-axes keeps these only with AXES_ENABLE_ACCESS_FAILURE_LOG)."""

    class Meta:
        model = AccessFailureLog

    locked_out = False


# --- Web Push (alerts/push.py) ---------------------------------------------------------------------


def _p256_point() -> str:
    """A real browser key (an uncompressed P-256 point, base64url), so a push can be encrypted."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


class PushSubscriptionFactory(factory.django.DjangoModelFactory):
    """A browser that enabled notifications (Chrome on Android, Google's push service)."""

    class Meta:
        model = PushSubscription

    user = factory.SubFactory(UserFactory)
    endpoint = factory.Sequence(lambda n: f"https://fcm.googleapis.com/fcm/send/device-{n}")
    p256dh = factory.LazyFunction(_p256_point)
    auth = factory.LazyFunction(
        lambda: base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
    )
    user_agent = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/156.0.0.0 Mobile Safari/537.36"
    )


# --- Call-connect (alerts.Call) ------------------------------------------------------------------


class CallFactory(factory.django.DjangoModelFactory):
    """A call-connect of the lead's owner; `over=True` for one that reached the lead and ended."""

    class Meta:
        model = Call

    lead = factory.SubFactory(LeadFactory)
    agent = factory.LazyAttribute(lambda call: call.lead.owner or AgentFactory().user)
    origin = Call.Origin.LEAD
    status = Call.Status.RINGING
    agent_number = factory.LazyAttribute(lambda call: call.agent.agent.phone)
    lead_number = factory.LazyAttribute(lambda call: call.lead.phone)
    caller_id = "+14135550100"
    provider_id = factory.Sequence(lambda n: f"CA{n:032d}")

    class Params:
        over = factory.Trait(
            status=Call.Status.ENDED,
            lead_answered=True,
            duration_seconds=95,
            dialed_at=factory.LazyFunction(timezone.now),
            ended_at=factory.LazyFunction(timezone.now),
        )


# --- Appointments (issue 14: appointments and follow-ups) ----------------------------------------


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    lead = factory.SubFactory(LeadFactory)
    agent = factory.SelfAttribute("lead.owner")
    kind = Appointment.Kind.SHOWING
    starts_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=2))
    ends_at = factory.LazyAttribute(lambda a: a.starts_at + timezone.timedelta(hours=1))
    place = factory.SelfAttribute("lead.property_address")


# --- Tags and bulk actions (leads.Tag, leads.BulkJob) ---------------------------------------------


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag {n}")


class BulkJobFactory(factory.django.DjangoModelFactory):
    """Ticked leads given a stage (pass `lead_ids` and `total`, or `all_matching` and `query`)."""

    class Meta:
        model = BulkJob

    created_by = factory.SubFactory(UserFactory)
    action = BulkJob.Action.STAGE
    params = factory.LazyFunction(lambda: {"stage": "engaged", "label": "Stage: Engaged"})

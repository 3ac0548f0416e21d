"""One factory per model. `.build()` when no database is needed."""

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from alerts.models import Alert
from leads.models import (
    Agent,
    AssignmentRule,
    ClaimOffer,
    ConsentRecord,
    Lead,
    LeadEvent,
    RoutingRule,
    SavedFilter,
    Submission,
)
from reports.models import Campaign, CampaignSpend
from sequences.models import Enrollment, Message, Step, Task, Template, Track

PASSWORD = "correct-horse-battery"


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

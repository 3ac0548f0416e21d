"""Demo data: a broker, two agents, the brokerage's integrations and a few hundred leads over the
last 90 days.

Leads are classified by the real segmentation and routing rules, then given a believable history
(personal contacts, stage changes) whose conversion differs by segment, so the dashboard and the
reports have something true to show: what a well-run brokerage's last 90 days look like. Every
person has a name of their own; hot leads were called within the hour (their alerts answered in
minutes), except the two or three that arrived in the last hour and wait on Today now; every
step along the funnel was a conversation the timeline shows; an agent's task list is a morning's
work, not months of arrears. Some arrived through the integrations (Zillow and
Realtor.com emails, the IDX site's Events API, Meta lead ads) rather than our own forms, so the
report by origin and the list's filters have something to show too. Runs once: a second call
changes nothing. Sends nothing, and prints no secret.
"""

import random
import unicodedata
from datetime import timedelta
from decimal import Decimal
from itertools import product

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from alerts.demo import seed_demo_alerts
from integrations.demo import Arrival, demo_arrival, seed_demo_integrations
from leads.models import (
    Agent,
    InquiryType,
    Integration,
    Lead,
    LeadEvent,
    Side,
    Source,
    Stage,
    Timeline,
)
from leads.routing import intent_map, lead_answers, routing_rules
from leads.segmentation import segment
from leads.services import lead_event_record
from realtycrm.flows.contacts import stage_change
from reports.demo import seed_demo_campaigns
from sequences.demo import seed_demo_appointments, seed_demo_data
from sequences.models import Track

DEMO_PASSWORD = "realtycrm-demo"  # noqa: S105 - printed for the demo logins, never used in production
DEMO_USERS = [
    # username, first, last, role, phone
    ("broker", "Morgan", "Blake", Agent.Role.BROKER, "+14135550101"),
    ("alex", "Alex", "Rivera", Agent.Role.AGENT, "+14135550102"),
    ("sam", "Sam", "Chen", Agent.Role.AGENT, "+14135550103"),
]

SOURCE_WEIGHTS = {
    Source.VALUATION: 25,
    Source.LISTING_AD: 20,
    Source.GIVEAWAY: 20,
    Source.OPEN_HOUSE: 12,
    Source.WEBSITE: 13,
    Source.REACTIVATION: 10,
}
# How each source's prospects answer the timeline question (within 3, 3-6, 6-18 months, curious).
TIMELINE_WEIGHTS = {
    Source.VALUATION: (15, 20, 35, 30),
    Source.LISTING_AD: (25, 25, 30, 20),
    Source.GIVEAWAY: (4, 6, 20, 70),
    Source.OPEN_HOUSE: (20, 20, 35, 25),
    Source.WEBSITE: (15, 20, 35, 30),
    Source.REACTIVATION: (15, 20, 40, 25),
}
TIMELINES = (
    Timeline.WITHIN_3_MONTHS,
    Timeline.MONTHS_3_TO_6,
    Timeline.MONTHS_6_TO_18,
    Timeline.JUST_CURIOUS,
)
# Chance of reaching each next stage (contacted → engaged → appointment → client → closed), by
# source quality and by intent: valuation leads convert, giveaway entrants mostly do not.
SOURCE_QUALITY = {
    Source.VALUATION: 1.0,
    Source.LISTING_AD: 0.8,
    Source.GIVEAWAY: 0.25,
    Source.OPEN_HOUSE: 0.7,
    Source.WEBSITE: 0.6,
    Source.REACTIVATION: 0.9,
}
INTENT_FUNNEL = {
    "hot": (0.95, 0.75, 0.6, 0.6, 0.7),
    "warm": (0.8, 0.5, 0.35, 0.45, 0.6),
    "long_term": (0.4, 0.25, 0.2, 0.3, 0.5),
}
# The median first personal contact, in minutes: hot leads within the hour (none later than
# HOT_CALLED_WITHIN), warm the same day, long-term within the week.
FIRST_CONTACT_MINUTES = {"hot": 6, "warm": 180, "long_term": 60 * 24 * 3}
HOT_CALLED_WITHIN = timedelta(minutes=55)
MET_AT = (Stage.APPOINTMENT, Stage.CLIENT, Stage.CLOSED)
# The newest leads arrived minutes ago: hot, and not yet called (one not even acknowledged), as a
# live morning's hot queue is.
FRESH_ARRIVALS_MINUTES = (4, 26, 48)
# What an agent writes when they log each conversation along the funnel.
CONTACT_NOTES = {
    Stage.CONTACTED: (
        "Introduced myself, answered their question",
        "Called; they want comps for their street",
        "Texted back and forth, set a time to talk",
        "Left a voicemail, then reached them by text",
    ),
    Stage.ENGAGED: (
        "Talked through their timeline and budget",
        "Sent three listings they liked; call booked",
        "Walked them through the valuation",
    ),
    Stage.APPOINTMENT: (
        "Booked the listing presentation",
        "Showing booked for Saturday",
        "Buyer consultation at the office",
    ),
    Stage.CLIENT: ("Signed the listing agreement", "Signed the buyer agreement"),
    Stage.CLOSED: ("Closed. Asked for a review", "Keys handed over"),
}
STREETS = [
    "Elm Street",
    "Maple Avenue",
    "Harbor View Drive",
    "Chestnut Lane",
    "Forest Park Road",
    "Mill Pond Way",
    "Summit Avenue",
    "Orchard Hill Road",
    "Riverside Drive",
    "Sumner Avenue",
]
NEIGHBOURHOODS = ["Forest Park", "Sixteen Acres", "East Forest Park", "Old Hill", "McKnight"]
POSTAL_CODES = ("01108", "01118", "01119", "01129", "01109")
CAMPAIGNS = {
    Source.VALUATION: "spring-valuation",
    Source.LISTING_AD: "harbor-view-listing",
    Source.GIVEAWAY: "summer-giveaway",
}
# What website visitors asked about (and the side that implies), and what they wrote.
INQUIRIES = (
    (InquiryType.BUYING, Side.BUYER),
    (InquiryType.SELLING, Side.SELLER),
    (InquiryType.NEIGHBOURHOOD, Side.UNKNOWN),
    (InquiryType.MARKET_QUESTION, Side.UNKNOWN),
)
MESSAGES = {
    Source.WEBSITE: (
        "We're relocating from Hartford in the spring and need three bedrooms near a good "
        "elementary school.",
        "What have homes on our street sold for this year?",
        "Is Forest Park walkable? We have two kids and a dog.",
        "Looking for a condo under $350k, ideally with parking.",
        "Thinking of downsizing once our youngest leaves for college. Where do we start?",
    ),
    Source.LISTING_AD: (
        "Is it still available? Could we see it Saturday morning?",
        "Does the price include the lot next door?",
        "How old is the roof?",
    ),
}
# Varied enough that no two demo leads share a name (a list of 300 with "Kenji Brown" twice, or
# one with a dozen Patels, reads as made up).
FIRST_NAMES = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sophia", "Lucas", "Mia", "Amara",
    "Ethan", "Zoë", "Aarav", "Chloé", "Kenji", "Fatima", "Diego", "Ingrid", "Kwame", "Siobhán",
    "Grace", "Omar", "Priya", "Jonas", "Leila", "Marco", "Nina", "Felix", "Aisha", "Tomás",
    "Yuki", "Elena", "Samir", "Clara", "Owen", "Ruth", "Arjun", "Inés", "Malik", "Freya",
    "Hugo", "Maya", "Caleb", "Rosa", "Declan", "Hana", "Isaac", "Lucia", "Andre", "Tessa",
    "Wei", "Naomi", "Rafael", "June", "Theo", "Carmen", "Ezra", "Dana", "Victor", "Paige",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "García", "Nguyen", "O'Brien", "Kowalski", "Johnson", "Okafor", "Müller", "Rossi",
    "Patel", "Lefebvre", "Kim", "Haddad", "Brown", "Novak", "Silva", "Cohen", "Ivanova",
    "Walsh", "Romero", "Takahashi", "Mensah", "Lindqvist", "Dubois", "Kaplan", "Reyes",
    "Fitzgerald", "Abadi", "Moreau", "Schultz", "Delgado", "Osei", "Park", "Hughes", "Costa",
    "Nakamura", "Bauer", "Carter", "Ferreira", "Byrne", "Sato", "Mendes", "Quinn", "Ahmed",
    "Jensen", "Vargas", "Russo", "Thompson", "Castillo", "Lambert", "Wright", "Chowdhury",
    "Barnes", "Horvat", "Ortiz", "Sullivan", "Amato", "Whitfield", "Kovacs", "Ellis",
]  # fmt: skip
AREA_CODES = ("413", "617", "508", "781")


class Command(BaseCommand):
    help = "Create demo users and a few hundred demo leads (once)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, leads, seed, **options):
        if User.objects.filter(username="broker").exists():
            self.stdout.write("Demo data is already there; nothing to do.")
        else:
            with transaction.atomic():
                users = self.create_users()
                seed_demo_integrations()
                self.create_leads(
                    users, count=leads, rng=random.Random(seed), arrivals=random.Random(seed + 1)
                )
                seed_demo_data(rng=random.Random(seed))  # tracks, sent messages, tasks
                seed_demo_appointments(rng=random.Random(seed))  # the appointment stage's
                seed_demo_campaigns()  # campaigns and their spend, for the cost report
            self.stdout.write(self.style.SUCCESS(f"Created {leads} demo leads."))
        # Also into a demo database made before there were integrations (each is made once).
        integrations = seed_demo_integrations()
        self.stdout.write(f"Demo logins (password for each: {DEMO_PASSWORD}):")
        for username, first, last, role, _ in DEMO_USERS:
            self.stdout.write(f"  {username:<8} {first} {last} ({role})")
        self.stdout.write("Demo integrations (Admin → Leads → Integrations):")
        for integration in integrations:
            self.stdout.write(f"  {integration.get_kind_display():<20} {_where(integration)}")

    def create_users(self) -> list[User]:
        users = []
        for username, first, last, role, phone in DEMO_USERS:
            is_broker = role == Agent.Role.BROKER
            user = User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                email=f"{username}@harborandmain.example",
                is_staff=is_broker,
                is_superuser=is_broker,
            )
            Agent.objects.create(user=user, role=role, phone=phone)
            users.append(user)
        return users

    def create_leads(
        self, users, *, count: int, rng: random.Random, arrivals: random.Random
    ) -> None:
        """`arrivals` draws each lead's channel and origin: a generator of its own, so the rest
        of the demo (sources, answers, histories) is what it was before leads had origins."""
        now = timezone.now()
        agents = [user for user in users if user.agent.role == Agent.Role.AGENT]
        by_username = {user.username: user for user in users}
        tracks = {track.key: track for track in Track.objects.all()}
        rules = routing_rules()
        intents = intent_map()
        phones = rng.sample(
            [f"+1{area}5550{n:03d}" for area in AREA_CODES for n in range(100, 200)], k=count
        )
        names = _names(count, rng)
        fresh = dict(zip(range(count - 1, -1, -1), FRESH_ARRIVALS_MINUTES, strict=False))
        alerted = []
        for index in range(count):
            source = rng.choices(list(SOURCE_WEIGHTS), weights=SOURCE_WEIGHTS.values())[0]
            created_at = now - timedelta(
                days=rng.uniform(0, 90), hours=rng.uniform(-4, 4), minutes=rng.uniform(0, 59)
            )
            created_at = min(created_at, now - timedelta(hours=2))
            if index in fresh:
                created_at = now - timedelta(minutes=fresh[index])
            arrival = demo_arrival(source, arrivals)
            lead = self.create_lead(
                source, created_at, phones[index], names[index], rng, arrival, hot=index in fresh
            )
            decision = segment(lead_answers(lead), rules, intents)
            lead.intent = decision.intent
            lead.intent_reason = decision.intent_reason
            lead.routing_rule_id = decision.rule_id
            lead.nurture_track = tracks.get(decision.track)
            lead.first_contact_mode = decision.first_contact_mode
            lead.owner = by_username.get(arrival.owner) or agents[index % len(agents)]
            lead.save()
            via = f"{lead.origin} ({lead.get_channel_display().lower()}) · " if lead.origin else ""
            lead_event_record(
                lead,
                LeadEvent.Kind.CREATED,
                summary=f"{via}{lead.get_source_display()} · {lead.get_intent_display()}",
                occurred_at=created_at,
            )
            lead_event_record(
                lead,
                LeadEvent.Kind.ASSIGNED,
                summary=f"Assigned to {lead.owner.get_full_name()}",
                occurred_at=created_at,
            )
            self.play_history(lead, now, rng, waiting=index in fresh)
            if decision.alert:
                alerted.append(lead)
        seed_demo_alerts(alerted, rng=rng, now=now)

    def create_lead(
        self, source, created_at, phone, name, rng, arrival: Arrival, *, hot=False
    ) -> Lead:
        timeline = rng.choices(TIMELINES, weights=TIMELINE_WEIGHTS[source])[0]
        if hot:
            timeline = Timeline.WITHIN_3_MONTHS
        first, last, email = name
        address = f"{rng.randint(2, 240)} {rng.choice(STREETS)}"
        side = {
            Source.VALUATION: Side.SELLER,
            Source.LISTING_AD: Side.BUYER,
            Source.GIVEAWAY: Side.UNKNOWN,
        }.get(source) or rng.choice([Side.BUYER, Side.SELLER, Side.BOTH, Side.UNKNOWN])
        has_phone = rng.random() < 0.8
        consent = has_phone and rng.random() < 0.7
        utm_source = rng.choice(["facebook", "google", "mailer", ""])
        # The campaigns each source's ads ran under (reports.demo spends on them).
        utm_campaign = rng.choice([CAMPAIGNS.get(source, ""), CAMPAIGNS.get(source, ""), ""])
        if not arrival.keeps_utm:
            utm_source = utm_campaign = ""
        answers = {}  # what the form asked beyond the timeline
        if source == Source.VALUATION:
            answers["bedrooms"] = rng.choice((2, 3, 3, 4, 4, 5))
            answers["bathrooms"] = Decimal(rng.choice(("1", "1.5", "2", "2.5", "3")))
        if source in (Source.VALUATION, Source.LISTING_AD):
            answers["postal_code"] = rng.choice(POSTAL_CODES)
        if source == Source.WEBSITE:
            answers["inquiry_type"], side = rng.choice(INQUIRIES)
        if source in MESSAGES and rng.random() < 0.6:
            answers["message"] = rng.choice(MESSAGES[source])
        return Lead.objects.create(
            first_name=first,
            last_name=last,
            email=email,
            phone=phone if has_phone else "",
            source=source,
            timeline=timeline,
            side=side,
            property_address=address if source in (Source.VALUATION, Source.LISTING_AD) else "",
            neighbourhood=rng.choice(NEIGHBOURHOODS),
            open_house=f"Open house, {address}" if source == Source.OPEN_HOUSE else "",
            asked_for_showing=source == Source.LISTING_AD and rng.random() < 0.2,
            created_at=created_at,
            last_inquiry_at=created_at,
            sms_consent_at=created_at if consent else None,
            sms_consent_version="sms-2026-11-v1" if consent else "",
            utm_source=utm_source,
            utm_campaign=utm_campaign,
            channel=arrival.channel,
            origin=arrival.origin,
            attribution=arrival.attribution,
            **answers,
        )

    def play_history(self, lead: Lead, now, rng: random.Random, *, waiting=False) -> None:
        """Personal contacts and stage changes, each after the last, never in the future. A hot
        lead is called within the hour whatever its source (a giveaway entrant who says
        "within 3 months" gets the call too); `waiting` ones arrived minutes ago."""
        quality = SOURCE_QUALITY[lead.source]
        funnel = INTENT_FUNNEL[lead.intent]
        at = lead.created_at
        hot = lead.intent == "hot"
        # Warm leads get their same-day call too; long-term ones mostly ride their nurture track.
        reached = {"hot": 1.0, "warm": 0.9}.get(lead.intent, funnel[0] * max(quality, 0.5))
        if waiting or rng.random() > reached:
            if rng.random() < 0.15 and now - lead.created_at > timedelta(days=20):
                self.move(lead, Stage.LOST, at + timedelta(days=rng.uniform(10, 20)), now, rng)
            return
        delay = timedelta(minutes=rng.lognormvariate(0, 0.8) * FIRST_CONTACT_MINUTES[lead.intent])
        at += min(delay, HOT_CALLED_WITHIN) if hot else delay
        if at >= now:
            return
        self.move(lead, Stage.CONTACTED, at, now, rng)
        for stage, chance in zip(
            (Stage.ENGAGED, Stage.APPOINTMENT, Stage.CLIENT, Stage.CLOSED), funnel[1:], strict=True
        ):
            at += timedelta(days=rng.uniform(1, 14))
            if at >= now:
                return
            if rng.random() > chance * quality:
                if rng.random() < 0.3:
                    self.move(lead, Stage.LOST, at, now, rng)
                return
            self.move(lead, stage, at, now, rng)

    def move(self, lead: Lead, stage: str, at, now, rng: random.Random) -> None:
        """A step along the funnel is a conversation first (logged, as an agent would), then
        the stage change; lost is only a stage change."""
        if at >= now:
            return
        if stage in CONTACT_NOTES:
            channel = LeadEvent.Channel.IN_PERSON if stage in MET_AT else None
            lead_event_record(
                lead,
                LeadEvent.Kind.PERSONAL_CONTACT,
                channel=channel or rng.choice([LeadEvent.Channel.CALL, LeadEvent.Channel.SMS]),
                actor=lead.owner,
                summary=rng.choice(CONTACT_NOTES[stage]),
                occurred_at=at,
            )
        stage_change(lead, stage, actor=lead.owner, occurred_at=at)


def _names(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """`count` (first, last, email) of people no two alike while the lists allow (past that,
    the email tells them apart)."""
    pairs = list(product(FIRST_NAMES, LAST_NAMES))
    if count <= len(pairs):
        return [
            (first, last, f"{_ascii(first)}.{_ascii(last)}@example.com")
            for first, last in rng.sample(pairs, k=count)
        ]
    return [
        (first, last, f"{_ascii(first)}.{_ascii(last)}.{index}@example.com")
        for index, (first, last) in enumerate(rng.choice(pairs) for _ in range(count))
    ]


def _ascii(name: str) -> str:
    """ "Zoë" → "zoe", "O'Brien" → "obrien": for a demo email address."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _where(integration: Integration) -> str:
    """What a broker connects it by, never its key: the inbox, the page, the name to make a
    key for (manage.py create_api_key prints a new one)."""
    if integration.kind == Integration.Kind.EMAIL:
        return f"{integration.inbox_address} ({integration.origin})"
    if integration.kind == Integration.Kind.META:
        return f"{integration.name}, form {integration.meta_form_id} (no page token in the demo)"
    return f'{integration.name} (no key shown: manage.py create_api_key "{integration.name}")'

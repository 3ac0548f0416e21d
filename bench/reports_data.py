"""Synthetic leads for the report benchmarks: believable shape, loaded fast.

PostgreSQL gets them through COPY, SQLite through executemany in big batches (both bypass
the ORM on purpose: the benchmark measures the report, not the loading). Deterministic: the
same seed gives the same leads, so two runs measure the same data.
"""

import random
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.db import connection, transaction

from leads.management.commands.seed_demo import SOURCE_WEIGHTS  # the demo's mix of sources
from leads.models import Agent, Intent, Lead, Stage
from sequences.models import Track

AGENTS = 20
DAYS = 730  # two years of leads, so a one-year range is also a realistic query
CAMPAIGNS = [f"campaign-{n:02d}" for n in range(12)]
INTENT_WEIGHTS = {Intent.HOT: 20, Intent.WARM: 35, Intent.LONG_TERM: 40, Intent.UNKNOWN: 5}
TRACK_FOR_INTENT = {
    Intent.HOT: "hot_seller",
    Intent.WARM: "homeowner_market_90",
    Intent.LONG_TERM: "long_term_local",
    Intent.UNKNOWN: "long_term_local",
}
# Chance of personal contact, typical minutes to it, then of each next milestone.
FUNNEL = {
    Intent.HOT: (0.95, 8, (0.75, 0.6, 0.6, 0.7)),
    Intent.WARM: (0.8, 180, (0.5, 0.35, 0.45, 0.6)),
    Intent.LONG_TERM: (0.4, 4320, (0.25, 0.2, 0.3, 0.5)),
    Intent.UNKNOWN: (0.5, 600, (0.3, 0.2, 0.3, 0.5)),
}
MILESTONES = ("engaged_at", "appointment_at", "client_at", "closed_at")
# How the leads reach us besides our own forms: (channel, origin, weight), the rest by form.
ORIGINS = [
    ("email", "Zillow", 15),
    ("email", "Realtor.com", 5),
    ("email", "Homes.com", 3),
    ("email", "Redfin", 2),
    ("api", "harborandmain.com", 10),
    ("meta", "Harbor & Main Realty · Home valuation", 10),
    ("form", "", 55),
]
STAGE_FOR = {
    None: Stage.CONTACTED,
    "engaged_at": Stage.ENGAGED,
    "appointment_at": Stage.APPOINTMENT,
    "client_at": Stage.CLIENT,
    "closed_at": Stage.CLOSED,
}

COLUMNS = (
    "first_name", "last_name", "email", "phone", "source", "timeline", "side",
    "property_address", "neighbourhood", "postal_code", "open_house", "inquiry_type", "message",
    "asked_for_showing", "intent", "intent_reason", "first_contact_mode", "stage", "created_at",
    "updated_at", "last_inquiry_at", "inquiry_count", "first_automated_contact_at",
    "first_personal_contact_at", "last_personal_contact_at", "sms_consent_version",
    "sms_opted_out_at", "email_opted_out_at", "utm_source", "utm_medium", "utm_campaign",
    "utm_content", "utm_term", "nurture_track_id", "owner_id",
    *MILESTONES,
    "channel", "origin", "attribution", "dormant", "relationship",
)  # fmt: skip


def bench_agents() -> list[int]:
    """Twenty agents and a broker, created once; returns the agents' user ids."""
    ids = []
    for n in range(AGENTS):
        user, created = User.objects.get_or_create(
            username=f"bench-agent-{n:02d}", defaults={"first_name": "Agent", "last_name": f"{n}"}
        )
        if created:
            Agent.objects.create(user=user)
        ids.append(user.pk)
    broker, created = User.objects.get_or_create(username="bench-broker")
    if created:
        Agent.objects.create(user=broker, role=Agent.Role.BROKER)
    return ids


def lead_rows(count: int, *, now: datetime, owners: list[int], tracks: dict[str, int], seed=6):
    rng = random.Random(seed)
    # Origins from a generator of their own: the other columns stay what they were before
    # leads had origins, so earlier numbers remain comparable.
    origin_rng = random.Random(seed + 1)
    origins, origin_weights = [o[:2] for o in ORIGINS], [o[2] for o in ORIGINS]
    sources, source_weights = list(SOURCE_WEIGHTS), list(SOURCE_WEIGHTS.values())
    intents, intent_weights = list(INTENT_WEIGHTS), list(INTENT_WEIGHTS.values())
    # Oldest first, as a live system appends them: the table's order follows created_at.
    ages = sorted((rng.uniform(300, DAYS * 86400) for _ in range(count)), reverse=True)
    for age in ages:
        source = rng.choices(sources, source_weights)[0]
        intent = rng.choices(intents, intent_weights)[0]
        created = now - timedelta(seconds=age)
        dates = dict.fromkeys(MILESTONES)
        automated = created + timedelta(seconds=rng.uniform(5, 90)) if rng.random() < 0.95 else None
        personal = None
        stage = Stage.NEW
        contact_chance, minutes, chances = FUNNEL[intent]
        if rng.random() < contact_chance:
            personal = created + timedelta(minutes=rng.lognormvariate(0, 1) * minutes)
            stage, at, reached = Stage.CONTACTED, personal, None
            for field, chance in zip(MILESTONES, chances, strict=True):
                if rng.random() > chance:
                    break
                at += timedelta(days=rng.uniform(1, 14))
                dates[field], reached = at, field
            stage = STAGE_FOR[reached]
        if stage != Stage.CLOSED and rng.random() < 0.15:
            stage = Stage.LOST
        opted_out = created + timedelta(days=3) if rng.random() < 0.04 else None
        campaign = rng.choice(CAMPAIGNS) if rng.random() < 0.6 else ""
        channel, origin = origin_rng.choices(origins, origin_weights)[0]
        yield (
            "Bench", "Lead", "", "", source, "unknown", "unknown", "", "", "", "", "", "",
            False, intent, "", "", stage, created, created, created, 1, automated, personal,
            personal, "", opted_out, None, "facebook" if campaign else "", "", campaign, "", "",
            tracks.get(TRACK_FOR_INTENT[intent]), rng.choice(owners),
            *(dates[field] for field in MILESTONES),
            channel, origin, "{}", False, "",
        )  # fmt: skip


def load(count: int, *, now: datetime | None = None) -> None:
    """Replace every lead with `count` synthetic ones."""
    now = now or datetime.now(UTC)
    table = Lead._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table name
        # Read everything the rows need first: the connection is busy while COPY runs.
        owners, tracks = bench_agents(), dict(Track.objects.values_list("key", "id"))
        rows = lead_rows(count, now=now, owners=owners, tracks=tracks)
        if connection.vendor == "postgresql":
            sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            placeholders = ", ".join(["%s"] * len(COLUMNS))
            sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({placeholders})"  # noqa: S608
            batch = []
            for row in rows:
                batch.append([adapt(v) if isinstance(v, datetime) else v for v in row])
                if len(batch) == 20_000:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")

"""Server time of the dashboard's pages with 100,000 leads on PostgreSQL: p50 / p95, printed.
(A third of the leads carry tags; the list shows them on every row and filters by them.)

    make bench                      # or: .venv/bin/python bench/dashboard.py [--leads N] [--runs N]

Uses its own database (BENCH_DATABASE_URL, default realtycrm_dash_bench on 127.0.0.1), created,
migrated and filled once (bulk inserts; a later run reuses it). Each page is requested in-process
through Django's test client, so the time is the server's: URL routing, middleware, queries and
template rendering, without a network or a browser. The target is p95 < 150 ms.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/realtycrm_dash_bench"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtycrm.settings.test")

import django  # noqa: E402
import psycopg  # noqa: E402

SOURCES = ["valuation", "listing_ad", "giveaway", "open_house", "website", "reactivation"]
TIMELINES = ["within_3_months", "3_to_6_months", "6_to_18_months", "just_curious"]
INTENT = {
    "within_3_months": "hot",
    "3_to_6_months": "hot",
    "6_to_18_months": "warm",
    "just_curious": "long_term",
}
# Names and streets varied enough that no search matches a fifth of the table (real address books
# are more varied still: the commonest US surname is about 1% of people).
FIRST = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Mateo",
    "Sophia",
    "Lucas",
    "Mia",
    "Amara",
    "Ethan",
    "Zoe",
    "Aarav",
    "Chloe",
    "Kenji",
    "Fatima",
    "Diego",
    "Ingrid",
    "Kwame",
    "Grace",
    "Hannah",
    "Omar",
    "Priya",
    "Jonas",
    "Leila",
    "Marco",
    "Nina",
    "Felix",
    "Aisha",
    "Tomas",
    "Yuki",
    "Elena",
    "Samir",
    "Clara",
    "Owen",
    "Ruth",
    "Arjun",
    "Ines",
    "Malik",
    "Freya",
    "Hugo",
    "Sana",
    "Victor",
    "Maeve",
    "Idris",
    "Lena",
    "Rafael",
    "Alma",
    "Theo",
    "Rosa",
]
LAST = [
    "Smith",
    "Garcia",
    "Nguyen",
    "OBrien",
    "Kowalski",
    "Johnson",
    "Okafor",
    "Muller",
    "Rossi",
    "Patel",
    "Lefebvre",
    "Kim",
    "Haddad",
    "Brown",
    "Novak",
    "Silva",
    "Cohen",
    "Ivanova",
    "Walsh",
    "Tanaka",
    "Moreau",
    "Berg",
    "Costa",
    "Reyes",
    "Schmidt",
    "Ali",
    "Jensen",
    "Hughes",
    "Park",
    "Murphy",
    "Dubois",
    "Lopez",
    "Fischer",
    "Khan",
    "Sato",
    "Romano",
    "Nowak",
    "Popescu",
    "Larsen",
    "Ortiz",
    "Adams",
    "Bauer",
    "Chen",
    "Diaz",
    "Evans",
    "Ferrari",
    "Gill",
    "Horvat",
    "Ito",
    "Jovanovic",
    "Keller",
    "Lindqvist",
    "Mendes",
    "Nagy",
    "Olsen",
    "Petrov",
    "Quinn",
    "Rahman",
    "Santos",
    "Torres",
    "Usman",
    "Vargas",
    "Weber",
    "Yilmaz",
    "Zimmerman",
    "Ahmed",
    "Baker",
    "Castro",
    "Das",
    "Edwards",
]
STREET_NAMES = [
    "Elm",
    "Maple",
    "Harbor",
    "Chestnut",
    "Summit",
    "Oak",
    "Pine",
    "Cedar",
    "Birch",
    "Willow",
    "Walnut",
    "Spruce",
    "Orchard",
    "Mill",
    "Pond",
    "River",
    "Forest",
    "Park",
    "Lake",
    "Hill",
    "Meadow",
    "Spring",
    "Church",
    "School",
    "Union",
    "Water",
    "Bridge",
    "Prospect",
    "Highland",
    "Sunset",
    "Ridge",
    "Cherry",
    "Laurel",
    "Holly",
    "Ash",
    "Beech",
    "Sycamore",
    "Hawthorn",
    "Magnolia",
    "Juniper",
]
STREET_KINDS = ["Street", "Avenue", "Road", "Lane", "Drive", "Way", "Court", "Place"]
HOODS = ["Forest Park", "Sixteen Acres", "East Forest Park", "Old Hill", "McKnight"]
AGENTS = 20


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def fill(count: int) -> None:
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.utils import timezone

    from leads.models import Agent, Lead, LeadEvent

    if Lead.objects.count() >= count:
        return
    print(f"Creating {count:,} leads (once)...", flush=True)
    started = time.perf_counter()
    rng = random.Random(2026)
    now = timezone.now()
    with transaction.atomic():
        Lead.objects.all().delete()
        broker, _ = User.objects.get_or_create(
            username="bench-broker", defaults={"first_name": "Morgan"}
        )
        Agent.objects.get_or_create(user=broker, defaults={"role": Agent.Role.BROKER})
        agents = []
        for index in range(AGENTS):
            user, _ = User.objects.get_or_create(
                username=f"bench-agent-{index}", defaults={"first_name": f"Agent{index}"}
            )
            Agent.objects.get_or_create(user=user)
            agents.append(user)
        batch = []
        for index in range(count):
            timeline = rng.choice(TIMELINES)
            created = now - timedelta(minutes=rng.uniform(1, 60 * 24 * 720))
            # Most leads get a personal touch; a few hot ones still wait (the hot queue).
            contacted = rng.random() < (0.97 if INTENT[timeline] == "hot" else 0.6)
            contact_at = (
                created + timedelta(minutes=rng.uniform(5, 60 * 24 * 30)) if contacted else None
            )
            contact_at = min(contact_at, now) if contact_at else None
            first, last = rng.choice(FIRST), rng.choice(LAST)
            batch.append(
                Lead(
                    first_name=first,
                    last_name=last,
                    email=f"{first.lower()}.{last.lower()}.{index}@example.com",
                    phone=f"+1{rng.choice(['413', '617', '508', '781'])}{index:07d}",
                    source=rng.choice(SOURCES),
                    timeline=timeline,
                    intent=INTENT[timeline],
                    side=rng.choice(["seller", "buyer", "both", "unknown"]),
                    property_address=(
                        f"{rng.randint(1, 999)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_KINDS)}"
                    ),
                    neighbourhood=rng.choice(HOODS),
                    owner=agents[index % AGENTS],
                    stage="contacted" if contacted else "new",
                    created_at=created,
                    last_inquiry_at=created,
                    first_personal_contact_at=contact_at,
                    last_personal_contact_at=contact_at,
                )
            )
            if len(batch) == 5000:
                Lead.objects.bulk_create(batch)
                batch = []
        Lead.objects.bulk_create(batch)
        events = []
        for lead_id, created in Lead.objects.values_list("id", "created_at").iterator(
            chunk_size=5000
        ):
            events.append(
                LeadEvent(lead_id=lead_id, kind="created", summary="Bench", occurred_at=created)
            )
            if len(events) == 10000:
                LeadEvent.objects.bulk_create(events)
                events = []
        LeadEvent.objects.bulk_create(events)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE leads_lead")
        cursor.execute("VACUUM ANALYZE leads_leadevent")
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)


# Follow-up in proportion to the leads (sequences): per 100 leads, 2 messages sent, 5 open tasks
# (half of them due today or overdue), 25 done ones, 1.5 texts from leads (two thirds of them not
# yet answered), and one enrolment each.
MESSAGES_PER_LEAD = 2
OPEN_TASKS, DONE_TASKS, REPLIES = 0.05, 0.25, 0.015


def fill_followup() -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from leads.models import Lead, LeadEvent
    from sequences.models import Enrollment, Message, Task, Track

    if Task.objects.exists():
        return
    count = Lead.objects.count()
    print(f"Creating messages, tasks, replies and enrolments for {count:,} leads (once)...")
    started = time.perf_counter()
    rng = random.Random(7)
    now = timezone.now()
    track = Track.objects.get(key="long_term_local")
    leads = list(
        Lead.objects.values_list(
            "id", "owner_id", "phone", "email", "created_at", "last_personal_contact_at"
        )
    )
    with transaction.atomic():
        batch: list = []
        replies: list = []

        def flush(model, force=False):
            if batch and (force or len(batch) >= 5000):
                model.objects.bulk_create(batch)
                batch.clear()

        for lead_id, _owner, _phone, _email, created, _contact in leads:
            batch.append(
                Enrollment(
                    lead_id=lead_id,
                    track=track,
                    intent="long_term",
                    started_at=created,
                    clock_start=created,
                    done_through_minutes=60 * 24 * 7,
                    status="completed",
                    ended_at=created + timedelta(days=7),
                )
            )
            flush(Enrollment)
        flush(Enrollment, force=True)
        for index, (lead_id, _owner, phone, email, created, _contact) in enumerate(leads):
            for number in range(MESSAGES_PER_LEAD):
                at = created + timedelta(minutes=rng.uniform(0, 60 * 24 * 30))
                sms = number % 2 == 0
                batch.append(
                    Message(
                        lead_id=lead_id,
                        channel="sms" if sms else "email",
                        purpose="acknowledgment" if number == 0 else "nurture",
                        to=phone if sms else email,
                        subject="" if sms else "Homes sold near you",
                        body="Hi, thanks for reaching out. Reply STOP to opt out.",
                        idempotency_key=f"bench:{index}:{number}",
                        status="sent",
                        created_at=at,
                        scheduled_for=at,
                        sent_at=at,
                        attempts=1,
                    )
                )
                flush(Message)
        flush(Message, force=True)
        for lead_id, owner, _phone, _email, created, _contact in rng.sample(
            leads, int(count * (OPEN_TASKS + DONE_TASKS))
        ):
            done = rng.random() < DONE_TASKS / (OPEN_TASKS + DONE_TASKS)
            # Open ones: a quarter overdue (up to a week), a quarter due later today, half later.
            offset = rng.choice([-1, 0, 1, 1]) * rng.uniform(0, 60 * 24 * 7)
            due = created + timedelta(days=1) if done else now + timedelta(minutes=offset)
            if not done and offset >= 0 and rng.random() < 0.5:
                due = now + timedelta(minutes=rng.uniform(0, 60 * 6))
            batch.append(
                Task(
                    lead_id=lead_id,
                    agent_id=owner,
                    kind="call",
                    title="Call about their home's value",
                    due_at=due,
                    created_at=created,
                    status="done" if done else "open",
                    done_at=due if done else None,
                )
            )
            flush(Task)
        flush(Task, force=True)
        # Texts from leads: each one on the timeline and an "answer it" task for the owner,
        # done when a personal contact answered it (as realtycrm.flows.inbound.text_receive does).
        for lead_id, owner, _phone, _email, created, contact in rng.sample(
            leads, int(count * REPLIES)
        ):
            answered = contact is not None and rng.random() < 1 / 3
            at = (
                contact - timedelta(hours=rng.uniform(1, 48))
                if answered
                else now - timedelta(minutes=rng.uniform(5, 60 * 24 * 3))
            )
            at = max(at, created)
            batch.append(
                LeadEvent(
                    lead_id=lead_id,
                    kind="reply",
                    channel="sms",
                    summary="“Yes, call me after 5”",
                    data={"body": "Yes, call me after 5"},
                    occurred_at=at,
                )
            )
            replies.append(
                Task(
                    lead_id=lead_id,
                    agent_id=owner,
                    kind="reply",
                    title="Answer their text",
                    notes="Yes, call me after 5",
                    due_at=at + timedelta(minutes=15),
                    created_at=at,
                    status="done" if answered else "open",
                    done_at=contact if answered else None,
                )
            )
            flush(LeadEvent)
        flush(LeadEvent, force=True)
        Task.objects.bulk_create(replies)
    with connection.cursor() as cursor:
        for table in ("sequences_enrollment", "sequences_message", "sequences_task"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("VACUUM ANALYZE leads_leadevent")
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)


# Appointments (issue 14): one per 100 leads from 60 days back to 60 ahead (the past ones done,
# one in ten cancelled), and three today for each agent.
APPOINTMENTS = 0.01
TODAY_PER_AGENT = 3


def fill_appointments() -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from leads.models import Lead
    from sequences.models import Appointment

    if Appointment.objects.exists():
        return
    count = Lead.objects.count()
    print(f"Creating appointments for {count:,} leads (once)...")
    started = time.perf_counter()
    rng = random.Random(14)
    now = timezone.now()
    leads = list(Lead.objects.values_list("id", "owner_id", "property_address"))
    rows = []
    for lead_id, owner, address in rng.sample(leads, int(count * APPOINTMENTS)):
        start = now + timedelta(minutes=rng.uniform(-60 * 24 * 60, 60 * 24 * 60))
        status = "done" if start < now else "booked"
        rows.append((lead_id, owner, address, start, "cancelled" if rng.random() < 0.1 else status))
    by_owner: dict = {}
    for lead_id, owner, address in leads:
        by_owner.setdefault(owner, []).append((lead_id, address))
    morning = timezone.localtime(now).replace(hour=8, minute=0, second=0, microsecond=0)
    for owner, owned in by_owner.items():
        for hour, (lead_id, address) in enumerate(rng.sample(owned, TODAY_PER_AGENT)):
            rows.append(
                (lead_id, owner, address, morning + timedelta(hours=2 + 3 * hour), "booked")
            )
    with transaction.atomic():
        Appointment.objects.bulk_create(
            [
                Appointment(
                    lead_id=lead_id,
                    agent_id=owner,
                    kind=rng.choice(["listing_presentation", "showing", "buyer_consultation"]),
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                    place=address,
                    status=status,
                    created_at=start - timedelta(days=3),
                    updated_at=start - timedelta(days=3),
                )
                for lead_id, owner, address, start, status in rows
            ],
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sequences_appointment")
    print(f"  {len(rows):,} in {time.perf_counter() - started:.0f} s", flush=True)


# Free tags (leads.Tag): a third of the leads carry one to three of these, as imports and the
# Events API bring them and agents add them; "VIP" is on about 4,000 of 100,000 leads.
TAG_NAMES = [
    "VIP",
    "Pool",
    "Zillow 2023",
    "Referral",
    "Investor",
    "Downsizer",
    "First-time buyer",
    "Spring mailer",
    "Past client",
    "Relocation",
    "Waterfront",
    "Cash buyer",
]
TAGGED_SHARE = 0.33


def fill_tags() -> None:
    from django.db import connection, transaction

    from leads.models import Lead, Tag

    through = Lead.tags.through
    if through.objects.exists():
        return
    print("Tagging a third of the leads (once)...", flush=True)
    started = time.perf_counter()
    rng = random.Random(11)
    with transaction.atomic():
        Tag.objects.bulk_create([Tag(name=name) for name in TAG_NAMES], ignore_conflicts=True)
        tag_ids = list(Tag.objects.filter(name__in=TAG_NAMES).values_list("pk", flat=True))
        links = []
        for lead_id in Lead.objects.values_list("pk", flat=True).iterator(chunk_size=5000):
            if rng.random() < TAGGED_SHARE:
                for tag_id in rng.sample(tag_ids, rng.randint(1, 3)):
                    links.append(through(lead_id=lead_id, tag_id=tag_id))
            if len(links) >= 10000:
                through.objects.bulk_create(links)
                links = []
        through.objects.bulk_create(links)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {through._meta.db_table}")
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)


def measure(client, urls: list[str], runs: int) -> dict[str, list[float]]:
    """Requests the pages in turn (not one page's runs in a row), so a burst of other work on
    the machine slows every page alike instead of ruining one page's numbers."""
    for url in urls:  # warm caches (templates, the database's buffers)
        for _ in range(5):
            client.get(url)
    timings = {url: [] for url in urls}
    for _ in range(runs):
        for url in urls:
            started = time.perf_counter()
            response = client.get(url)
            timings[url].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from leads.models import Lead
    from sequences.models import Message, Task

    call_command("migrate", verbosity=0)
    fill(args.leads)
    fill_followup()
    fill_appointments()
    from sequences.models import CalendarFeed
    from sequences.services.appointments import calendar_feed_rotate

    feed_owner = User.objects.get(username="bench-agent-3")
    feed = CalendarFeed.objects.filter(agent=feed_owner).first() or calendar_feed_rotate(feed_owner)
    fill_tags()
    # A lead of the agent's with open tasks and messages, for the lead page.
    lead_id = (
        Task.objects.filter(lead__owner__username="bench-agent-3", status="open")
        .values_list("lead_id", flat=True)
        .first()
    )
    pages = [
        ("Today", "/"),
        ("Today: tasks section", "/today/tasks/"),
        ("Today: replies section", "/today/replies/"),
        ("Today: appointments section", "/today/appointments/"),
        ("an agent's calendar feed", f"/calendar/{feed.agent_id}/{feed.token}.ics"),
        ("lead page", f"/leads/{lead_id}/"),
        ("list, first page", "/leads/"),
        ("list, filtered", "/leads/?intent=warm&source=valuation&side=seller&no_contact_days=30"),
        ("list, sorted by name, page 40", "/leads/?sort=name&page=40"),
        ("list, search a name", "/leads/?q=grace+okafor"),
        ("list, search a surname", "/leads/?q=smith"),
        ("list, search a street", "/leads/?q=harbor+lane"),
        ("list, search a phone", "/leads/?q=(413)+000-1234"),
        ("list, one tag", "/leads/?tag=VIP"),
        ("list, two tags, by name", "/leads/?tag=VIP&tag=Pool&sort=name"),
        ("list, a tag and a filter", "/leads/?tag=Investor&intent=hot&source=valuation"),
    ]
    total = Lead.objects.count()
    load = os.getloadavg()[0]
    print(f"\n{total:,} leads, {args.runs} requests per page, server time in ms (target p95 < 150)")
    open_tasks = Task.objects.filter(status="open")
    print(
        f"with {Message.objects.count():,} messages, {open_tasks.exclude(kind='reply').count():,} "
        f"open tasks ({open_tasks.filter(due_at__lt=timezone.now()).exclude(kind='reply').count():,}"
        f" overdue) and {open_tasks.filter(kind='reply').count():,} texts not yet answered"
    )
    print(
        f"load average before: {load:.2f} on {os.cpu_count()} cores (other work on the machine inflates the times)"
    )
    print(f"{'user':<8} {'page':<32} {'p50':>7} {'p95':>7} {'max':>7}")
    worst = 0.0
    for who in ("bench-broker", "bench-agent-3"):
        client = Client()
        client.force_login(User.objects.get(username=who))
        role = "broker" if who == "bench-broker" else "agent"
        measured = measure(client, [url for _label, url in pages], args.runs)
        for label, url in pages:
            timings = sorted(measured[url])
            p50 = statistics.median(timings)
            p95 = timings[int(len(timings) * 0.95) - 1]
            worst = max(worst, p95)
            print(f"{role:<8} {label:<32} {p50:7.1f} {p95:7.1f} {timings[-1]:7.1f}", flush=True)
    print(f"\nworst p95: {worst:.1f} ms ({'OK' if worst < 150 else 'over the 150 ms target'})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

"""The report's rollup (reports/rollup.py) against the leads it rolls up.

After a realistic mix of writes (intake, imports, reassignment one by one and in bulk, claims,
stage changes, contacts, re-engagement, deletes, QuerySet.update), every table of the page read
from the rollup equals the one computed from the leads: counts exactly, times within the bound
the page prints. And the rollup the triggers kept equals the one rebuilt from scratch.
"""

import math
import random
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads import intake
from leads.models import Lead
from leads.ownership import lead_set_owner
from leads.services import lead_change_stage, lead_record_contact
from realtycrm.flows.intake import submission_process
from reports import rollup
from reports.apps import _keep_rollup_triggers
from reports.models import LeadDayCount, LeadMonthTime
from reports.selectors import Scope
from reports.sql import LocalDay
from reports.tables import ESTIMATED_SECONDS, ReportTables
from tests.factories import CampaignFactory, CampaignSpendFactory, LeadFactory, TrackFactory
from tests.reactivation import dormant_contact

pytestmark = pytest.mark.django_db

SOURCES = ["valuation", "listing_ad", "giveaway", "open_house", "website"]
INTENTS = ["hot", "warm", "long_term", "unknown"]
ORIGINS = [("email", "Zillow"), ("email", "zillow"), ("api", "harborandmain.com"), ("form", "")]
MILESTONES = ["engaged_at", "appointment_at", "client_at", "closed_at"]


def random_lead(rng, now, owners, tracks, **extra) -> dict:
    created = now - timedelta(seconds=rng.uniform(600, 420 * 86400))
    channel, origin = rng.choice(ORIGINS)
    values = {
        "source": rng.choice(SOURCES),
        "intent": rng.choice(INTENTS),
        "channel": channel,
        "origin": origin,
        "utm_campaign": rng.choice(["", "", "Spring-Val", "spring-val", "fall"]),
        "owner": rng.choice(owners),
        "nurture_track": rng.choice(tracks),
        "created_at": created,
        "last_inquiry_at": created,
    }
    if rng.random() < 0.9:
        values["first_automated_contact_at"] = created + timedelta(seconds=rng.uniform(0.2, 90))
    if rng.random() < 0.7:
        at = created + timedelta(minutes=rng.lognormvariate(2, 2))
        values["first_personal_contact_at"] = at
        for field in MILESTONES:
            if rng.random() < 0.5:
                break
            at += timedelta(days=rng.uniform(1, 9))
            values[field] = at
    if rng.random() < 0.1:
        values["stage"] = "lost"
    if rng.random() < 0.05:
        values["sms_opted_out_at"] = created + timedelta(days=1)
    return values | extra


@pytest.fixture
def history(people, alex, sam, broker):
    """Some 400 leads over 14 months, then every kind of write the app makes to them."""
    rng = random.Random(15)
    now = timezone.now()
    tracks = [None, *(TrackFactory() for _ in range(2))]
    owners = [None, alex, sam, broker]
    leads = [LeadFactory(**random_lead(rng, now, owners, tracks)) for _ in range(300)]
    # Imports: bulk_create, some of them dormant (they count from their re-engagement).
    Lead.objects.bulk_create(
        [
            Lead(
                first_name="Imported",
                email=f"imported{n}@example.com",
                dormant=n % 3 == 0,
                **random_lead(rng, now, [None, alex], [None]),
            )
            for n in range(60)
        ]
    )
    # Intake: the real flow, twice a new lead and once a re-inquiry.
    for n, email in enumerate(["ada@example.com", "bo@example.com", "ada@example.com"]):
        submission = intake.submission_receive("valuation", {}, intake.RequestInfo())
        fields = {"first_name": f"P{n}", "email": email, "timeline": "within_3_months"}
        submission_process(submission, fields | {"side": "seller"}, sms_consent=False)
    # Reassignment one by one, then in bulk (QuerySet.update, as a bulk job's chunk).
    for lead in rng.sample(leads, 20):
        lead_set_owner(lead, rng.choice([alex, sam]), why="test", how="manual")
    Lead.objects.filter(pk__in=[lead.pk for lead in rng.sample(leads, 40)]).update(owner=sam)
    # Stage changes and contacts.
    for lead in rng.sample(leads, 25):
        lead.refresh_from_db()
        lead_change_stage(lead, rng.choice(["appointment", "lost", "closed"]))
    for lead in Lead.objects.filter(first_personal_contact_at__isnull=True)[:15]:
        lead_record_contact(lead, channel="call", actor=alex)
    # Re-engagement of dormant contacts: untouched ones arrive now.
    for n in range(3):
        contact = dormant_contact(owner=alex, email=f"dormant{n}@example.com")
        intake.lead_reengage(contact, {"timeline": "within_3_months"}, how="by form")
    woken = Lead.objects.filter(dormant=True, email__startswith="imported").values_list(
        "pk", flat=True
    )[:5]
    Lead.objects.filter(pk__in=list(woken)).update(dormant=False)
    # Moved arrivals, owners who leave, deletes one by one and in bulk.
    for lead in rng.sample(leads, 10):
        Lead.objects.filter(pk=lead.pk).update(created_at=lead.created_at - timedelta(days=40))
    for lead in rng.sample(leads, 10):
        Lead.objects.filter(pk=lead.pk).delete()
    Lead.objects.filter(pk__in=[lead.pk for lead in rng.sample(leads, 10)]).delete()
    campaign = CampaignFactory(source="valuation", utm_campaign="spring-val", name="Spring")
    CampaignSpendFactory(campaign=campaign, starts_on=date(2020, 1, 1), ends_on=now.date())
    zillow = CampaignFactory(source="", origin="ZILLOW", utm_campaign="", name="Zillow")
    CampaignSpendFactory(campaign=zillow, starts_on=date(2020, 1, 1), ends_on=now.date())
    return now


def scopes(today: date) -> list[Scope]:
    return [
        Scope(start=today - timedelta(days=500), end=today),  # every lead
        Scope(start=today - timedelta(days=364), end=today),  # the last year
        Scope(start=date(today.year - 1, today.month, 1), end=today, grain="month"),
        Scope(start=today - timedelta(days=200), end=today - timedelta(days=100)),  # partial
        Scope(start=today - timedelta(days=20), end=today),  # inside one or two months
    ]


def assert_same_tables(exact: ReportTables, estimated: ReportTables) -> None:
    assert exact.table_keys() == estimated.table_keys()
    for key in exact.table_keys():
        left, right = exact.get(key), estimated.get(key)
        assert len(left.rows) == len(right.rows), key
        for row, other in zip(left.rows, right.rows, strict=True):
            for value, got, column in zip(row.values, other.values, right.columns, strict=True):
                if column.kind == ESTIMATED_SECONDS and value is not None:
                    bound = max(rollup.RELATIVE_ERROR * abs(value), 0.5) + 1e-6
                    assert abs(got - value) <= bound, (key, row.values[:2], column.key)
                else:
                    assert got == value, (key, row.values[:2], column.key)


def test_every_table_from_the_rollup_equals_the_one_from_the_leads(history, broker):
    for scope in scopes(timezone.localdate()):
        exact = ReportTables(broker, scope, use_rollup=False)
        estimated = ReportTables(broker, scope, use_rollup=True)
        assert not exact.estimated and estimated.estimated
        assert exact.segments.overall.leads > 0
        assert_same_tables(exact, estimated)


def test_the_rollup_the_triggers_kept_equals_the_one_rebuilt(history):
    def snapshot():
        rollup.flush_pending()
        days = {
            (row["kind"], row["day"], row["a"], row["b"], row["c"]): row
            for row in LeadDayCount.objects.values().filter(leads__gt=0)
        }
        for row in days.values():
            del row["id"]
        times = {
            (t.kind, t.month, t.a, t.b, t.measure, t.bucket): t.n
            for t in LeadMonthTime.objects.filter(n__gt=0)
        }
        return days, times

    kept = snapshot()
    call_command("rebuild_report_rollup", verbosity=0)
    assert snapshot() == kept
    assert kept[0] and kept[1]


def test_each_day_holds_the_leads_that_arrived_that_day_in_the_brokerage_zone(history):
    rollup.flush_pending()
    zone = timezone.get_default_timezone()
    expected = {}
    for created in Lead.objects.filter(dormant=False).values_list("created_at", flat=True):
        day = created.astimezone(zone).date()
        expected[day] = expected.get(day, 0) + 1
    summed = {}
    for row in LeadDayCount.objects.filter(kind="segment", leads__gt=0):
        summed[row.day] = summed.get(row.day, 0) + row.leads
    assert summed == expected


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 8, 4, 59),  # 23:59 EST on the 7th
        datetime(2026, 3, 8, 5, 0),  # 00:00 EST on the 8th
        datetime(2026, 3, 8, 7, 30),  # after the spring change: 03:30 EDT
        datetime(2026, 11, 1, 3, 59),  # 23:59 EDT on 31 October
        datetime(2026, 11, 1, 4, 0),  # 00:00 EDT on 1 November
        datetime(2026, 11, 2, 4, 30),  # 23:30 EST on 1 November
    ],
)
def test_the_day_of_arrival_follows_daylight_saving_time(moment):
    created = moment.replace(tzinfo=UTC)
    lead = LeadFactory(created_at=created)
    day = Lead.objects.annotate(day=LocalDay("created_at")).get(pk=lead.pk).day
    assert day == timezone.localtime(created).date()


def test_a_bucket_stands_for_every_time_in_it_within_the_bound():
    for seconds in [1, 1.5, 59.9, 300, 4321.5, 86400 * 30]:
        bucket = math.floor(math.log(seconds) / math.log(rollup.GAMMA))
        assert abs(rollup.bucket_value(bucket) - seconds) <= rollup.RELATIVE_ERROR * seconds


def test_the_page_labels_estimates_with_their_bound(history, broker_client):
    today = timezone.localdate()
    response = broker_client.get(
        "/reports/", {"start": (today - timedelta(days=364)).isoformat(), "end": today}
    )
    page = response.content.decode()
    assert "≈" in page and rollup.BOUND_LABEL in page
    assert "estimates from the report" in page
    short = broker_client.get("/reports/", {"start": (today - timedelta(days=30)), "end": today})
    assert "≈" not in short.content.decode()


def test_an_agents_report_holds_only_their_leads_and_is_exact(history, alex):
    today = timezone.localdate()
    report = ReportTables(alex, Scope(start=today - timedelta(days=500), end=today))
    assert not report.estimated
    expected = Lead.objects.filter(owner=alex, dormant=False).count()
    assert report.segments.overall.leads == expected


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_transactions_counting_the_same_row_lose_neither(run_together):
    """Both commit their +1 into the same rollup rows (today's, same segment): 2, not 1."""

    def create(n):
        LeadFactory(email=f"same{n}@example.com", hot=True)

    run_together(partial(create, 1), partial(create, 2))
    today = timezone.localdate()
    row = LeadDayCount.objects.get(kind="segment", day=today, a="valuation", b="hot")
    assert (row.leads, row.hot) == (2, 2)


def test_a_migration_that_rebuilds_the_leads_table_keeps_the_rollup_current(history):
    """SQLite drops the triggers with the table a migration remakes: post_migrate restores
    them and rebuilds what the rollup missed meanwhile."""
    rollup.uninstall(keep_zone=True)
    LeadFactory(source="website", intent="hot")  # written while no trigger watched
    _keep_rollup_triggers(using="default")
    rollup.flush_pending()
    today = timezone.localdate()
    assert LeadDayCount.objects.get(kind="segment", day=today, a="website", b="hot").leads >= 1
    LeadFactory(source="website", intent="hot")
    rollup.flush_pending()
    counted = LeadDayCount.objects.get(kind="segment", day=today, a="website", b="hot").leads
    assert (
        counted
        == Lead.objects.filter(
            source="website", intent="hot", dormant=False, created_at__date=today
        ).count()
    )


def test_a_partial_month_reads_the_fewer_of_its_days_from_the_leads():
    months, ranges = rollup.time_plan(date(2025, 12, 2), date(2026, 12, 1))
    assert months[0] == date(2025, 12, 1) and months[-1] == date(2026, 11, 1)
    assert ranges == [
        (date(2025, 12, 1), date(2025, 12, 2), -1),  # December 2025 but its first day
        (date(2026, 12, 1), date(2026, 12, 2), 1),  # and 1 December 2026
    ]
    assert rollup.time_plan(date(2026, 3, 10), date(2026, 3, 12)) == (
        [],
        [(date(2026, 3, 10), date(2026, 3, 13), 1)],
    )


def test_the_csv_says_its_times_are_estimates(history, broker_client):
    today = timezone.localdate()
    response = broker_client.get(
        "/reports/export/speed-agents.csv",
        {"start": (today - timedelta(days=364)).isoformat(), "end": today.isoformat()},
    )
    header = response.content.decode().splitlines()[0]
    assert f"Median to personal contact (minutes, estimate {rollup.BOUND_LABEL})" in header

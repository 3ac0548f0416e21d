"""Who reaches what: every URL in the URLconf × owner agent, other agent, broker, anonymous.

The list of URLs comes from the URLconf itself. A URL nobody classified here fails
`test_every_url_is_classified`, so a new view cannot ship without saying who may use it.
"""

import csv
import io
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from alerts.calls import call_link_token
from leads.models import BulkJob, ImportBatch, Lead, LeadEvent, Submission
from leads.views.today import SECTIONS, SECTIONS_BY_KEY
from reports.tables import ALL_INTENTS, ALL_SOURCES
from sequences.models import Appointment, Task
from tests.factories import (
    AgentFactory,
    AlertFactory,
    AppointmentFactory,
    CallFactory,
    EnrollmentFactory,
    LeadEventFactory,
    LeadFactory,
    MessageFactory,
    PushSubscriptionFactory,
    ReactivationCampaignFactory,
    SavedFilterFactory,
    SubmissionFactory,
    TaskFactory,
    TrackFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("owner", "other_agent", "broker", "anonymous")

# Pages anyone may open, signed in or not.
PUBLIC = {
    "healthz",
    "favicon",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "leads:intake",
    "leads:intake-thanks",
    "leads:privacy",
    # The Events API's OpenAPI document, its docs page and its root (a 404 naming the docs).
    "api:api-root",
    "api:openapi-json",
    "api:openapi-view",
    # The installable app's manifest and service worker: no lead data (tests/alerts/test_push_views.py).
    "webmanifest",
    "service-worker",
}
# No session: the request itself is signed (Twilio's, SendGrid's and Meta's webhooks, our
# unsubscribe links). tests/sequences/ checks that an unsigned or forged request is refused.
SIGNED = {
    "sequences:twilio-inbound",
    "sequences:twilio-status",
    "sequences:sendgrid-events",
    "sequences:unsubscribe",
    "integrations:meta-leadgen",  # tests/integrations/test_meta.py
    # Twilio Voice's webhooks for one call-connect (tests/alerts/test_calls.py)
    "alerts:call-answer",
    "alerts:call-connect",
    "alerts:call-whisper",
    "alerts:call-dialed",
    "alerts:call-status",
    "alerts:call-lead-status",
    # SendGrid Inbound Parse: a secret token in the URL (tests/integrations/)
    "integrations:inbound-email",
    # A bearer token (METRICS_TOKEN) instead of a session: tests/test_monitoring.py
    "metrics",
    # An Events API key (HTTP Basic) authenticates each request instead; tests/integrations/
    # checks that a missing, unknown or revoked key is refused, with nothing stored.
    "api:events",
    "api:people",
    # An agent's calendar feed: the secret token in the URL is the key, as calendar apps fetch
    # it without a session (tests/sequences/test_calendar_feed.py: a wrong token is a 404).
    "sequences:calendar-feed",
}
# The signed-in user's own account pages: no lead data.
ACCOUNT = {
    "password_change",
    "password_change_done",
    # Their calendar link, and a new one (tests/sequences/test_calendar_feed.py).
    "sequences:account",
    "sequences:calendar-rotate",
}

IN_A_WEEK = (date.today() + timedelta(days=7)).isoformat()

# URL name → (method, data). Each takes the lead's pk; an agent reaches only their own leads.
LEAD_URLS = {
    "leads:lead-detail": ("get", {}),
    "leads:lead-timeline": ("get", {"page": "1"}),
    "leads:lead-log": ("post", {"kind": "call", "note": "Left a voicemail"}),
    "leads:lead-classify": ("post", {"timeline": "just_curious", "side": "buyer", "intent": "hot"}),
    "leads:lead-stage": ("post", {"stage": "engaged"}),
    "leads:lead-contact": ("post", {"first_name": "Renamed", "email": "new@example.com"}),
    "leads:lead-reassign": ("post", {}),  # owner filled in per test: the other agent
    "leads:lead-messages": ("get", {"page": "1"}),
    "leads:lead-tasks": ("get", {"page": "1"}),
    "leads:lead-send": (
        "post",
        {"channel": "sms", "body": "Hi, it's Alex", "token": "0123456789abcdef0123456789abcdef"},
    ),
    "leads:lead-opt-out-answer": ("post", {"answer": "not_stop"}),
    "leads:lead-pause": ("post", {"reason": "Talking by phone"}),
    "leads:lead-resume": ("post", {}),
    "leads:lead-call": ("post", {}),  # rings the signed-in user's own phone (call-connect)
    # Planning (leads/views/appointments.py): Today's Plan box, a follow-up, an appointment.
    "leads:lead-plan": ("get", {}),
    "leads:lead-follow-up": (
        "post",
        {"kind": "call", "date": IN_A_WEEK, "time": "10:00", "token": "ab" * 16},
    ),
    "leads:lead-appointment-book": (
        "post",
        {
            "kind": "showing",
            "date": IN_A_WEEK,
            "time": "11:00",
            "duration": "60",
            "token": "cd" * 16,
        },
    ),
    "leads:lead-tag-add": ("post", {"name": "VIP"}),
    "leads:lead-tag-remove": ("post", {"tag": "1"}),
}
# URL name → (method, data, what it changes). Each takes the lead's pk and one of its tasks' pk.
TASK_URLS = {
    "leads:task-done": ("post", {}, lambda task: task.status == Task.Status.DONE),
    "leads:task-snooze": ("post", {"until": "tomorrow"}, lambda task: task.snooze_count == 1),
}
# URL name → (data, what it changes). Each takes the lead's pk and one of its appointments' pk
# (POST; the world's appointment has begun, so it may be closed too).
APPOINTMENT_URLS = {
    "leads:appointment-reschedule": (
        {"date": IN_A_WEEK, "time": "15:00", "duration": "60"},
        lambda appointment: appointment.sequence == 1,
    ),
    "leads:appointment-cancel": (
        {"notify_lead": "on"},
        lambda appointment: appointment.status == Appointment.Status.CANCELLED,
    ),
    "leads:appointment-outcome": (
        {"status": "no_show"},
        lambda appointment: appointment.status == Appointment.Status.NO_SHOW,
    ),
}
# URL name → what it changes. Each takes the lead's pk and one of its re-inquiries' pk (POST).
REINQUIRY_URLS = {
    "leads:reinquiry-accept": lambda lead: lead.property_address == "1 Other Road",
    "leads:reinquiry-dismiss": lambda lead: lead.property_address != "1 Other Road",
}
# Lists of leads: every signed-in user opens them; what they show is decided per user.
# (name, method, data, kwargs). Every section of Today is one, taken from the view's SECTIONS.
# The user's own pinned lists, the broker's quarantined submissions and unread portal emails
# (no lead yet).
SECTIONS_WITHOUT_LEADS = {"my-lists", "quarantine", "inbound-emails"}
# Sections about the user's own work, not about every lead they may see: a broker's Today does
# not list the alerts addressed to an agent.
PERSONAL_SECTIONS = {"alerts"}
LIST_URLS = [
    ("leads:today", "get", {}, {}),
    *[
        ("leads:today-section", "get", {}, {"key": section.key})
        for section in SECTIONS
        if section.key not in SECTIONS_WITHOUT_LEADS
    ],
    ("leads:lead-list", "get", {}, {}),
    ("leads:lead-export", "get", {}, {}),
]
# A user's own saved filters (smart lists): nobody else's, not even a broker's.
SAVED_FILTER_URLS = {
    "leads:saved-filter-pin": ("post", {}),
    "leads:saved-filter-delete": ("post", {}),
}
SIGNED_IN_WRITES = {"leads:saved-filter-create": ("post", {"name": "Mine", "query": "intent=hot"})}
# One alert, addressed to the lead's owner: only they open, acknowledge or claim it.
ALERT_URLS = {
    "alerts:open": "get",
    "alerts:acknowledge": "post",
    "alerts:claim": "post",
    "alerts:call": "post",  # call-connect about the alert's lead, ringing its recipient
}
# A signed-in user's own alerts: the live feed (open alerts, their own only), the inbox (their
# own; a broker's history also lists everyone's), their availability.
ALERT_LISTS = {
    "alerts:feed": {"owner"},
    "alerts:inbox": {"owner", "broker"},
    "alerts:availability": set(),
}
# A user's own browsers for Web Push (alerts/push.py): signed in, and only their own devices.
PUSH_URLS = {
    "alerts:push-subscribe": "post",
    "alerts:push-unsubscribe": "post",
    "alerts:push-csrf": "get",
}
# Submissions quarantined as spam belong to no lead yet: only a broker releases one.
BROKER_WRITES = {"leads:quarantine-release": "post"}
# Portal emails no parser could read belong to no lead yet either: a broker's screen. URL name →
# (method, takes the email's pk).
BROKER_PAGES = {
    "integrations:inbox": ("get", False),
    "integrations:inbox-email": ("get", True),
    "integrations:inbox-dismiss": ("post", True),
}
# Importing the old database (leads/views/imports.py): brokers only, an agent is refused (403).
IMPORT_URLS = {
    "leads:import-upload": "get",
    "leads:import-detail": "get",
    "leads:import-map": "get",
    "leads:import-progress": "get",
    "leads:import-failed": "get",
    "leads:import-start": "post",
    "leads:import-undo": "post",
    "leads:import-retry": "post",
}
# Reactivation campaigns write to the whole old database: brokers only (403 for an agent).
# URL name → (method, takes a campaign's pk).
CAMPAIGN_URLS = {
    "sequences:campaign-list": ("get", False),
    "sequences:campaign-create": ("get", False),
    "sequences:campaign-count": ("get", False),
    "sequences:campaign-detail": ("get", True),
    "sequences:campaign-edit": ("get", True),
    "sequences:campaign-progress": ("get", True),
    "sequences:campaign-send": ("post", True),
}
# One call-connect (alerts.Call): only the agent whose phone it rang, through its own lead; a
# broker does not answer an agent's call for them. URL name → (method, data); each takes the
# lead's pk and the call's.
CALL_URLS = {
    "leads:call-card": ("get", {}),
    "leads:call-outcome": ("post", {"outcome": "talked"}),
    "leads:call-play": ("post", {"lead": "answers"}),
}
# The signed "connect a call" link in an alert's text: only the alert's recipient, signed in.
CALL_LINK_URLS = {"alerts:call-link"}
# Bulk actions on the list's selection: every signed-in user may ask, for the leads they see only
# (a forged id reaches nothing); reassigning is a broker's, as for one lead.
BULK_WRITES = {"leads:bulk"}
# A bulk job's page, progress and resume: the person who asked for it only (404 for anyone else).
BULK_JOB_URLS = {
    "leads:bulk-job": "get",
    "leads:bulk-job-progress": "get",
    "leads:bulk-job-resume": "post",
}
# Aggregates over the leads a user may see: the lead counts for its owner and brokers only.
REPORT_URLS = {
    "reports:segment-report": {},
    "reports:segment-report-csv": {"table": "segments"},
}


def url_names(patterns=None, namespace="") -> set[str]:
    names = set()
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django's admin: staff only, its own permissions
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


ALL_NAMES = sorted(url_names())
CLASSIFIED = (
    PUBLIC
    | SIGNED
    | ACCOUNT
    | set(LEAD_URLS)
    | set(TASK_URLS)
    | set(APPOINTMENT_URLS)
    | set(REINQUIRY_URLS)
    | {name for name, *_ in LIST_URLS}
    | set(SAVED_FILTER_URLS)
    | set(SIGNED_IN_WRITES)
    | set(REPORT_URLS)
    | set(ALERT_URLS)
    | set(ALERT_LISTS)
    | set(PUSH_URLS)
    | set(BROKER_WRITES)
    | set(BROKER_PAGES)
    | set(IMPORT_URLS)
    | set(CAMPAIGN_URLS)
    | set(CALL_URLS)
    | CALL_LINK_URLS
    | BULK_WRITES
    | set(BULK_JOB_URLS)
)


def test_every_url_is_classified():
    unclassified = set(ALL_NAMES) - CLASSIFIED
    assert not unclassified, (
        f"Say who may use {sorted(unclassified)} in tests/leads/test_dashboard_permissions.py"
    )
    assert not CLASSIFIED - set(ALL_NAMES), "a classified URL no longer exists"


@pytest.fixture
def world(client):
    owner = AgentFactory(user__username="owner")
    other = AgentFactory(user__username="other")
    broker = AgentFactory(broker=True, user__username="broker")
    lead = LeadFactory(owner=owner.user, hot=True, texting=True, email="owned@example.com")
    # Something for every section and panel to show: a task due, a text they sent, a message,
    # the track it follows.
    task = TaskFactory(lead=lead, due_at=timezone.now() - timedelta(hours=2))
    TaskFactory(lead=lead, kind=Task.Kind.REPLY, notes="Call me", due_at=timezone.now())
    enrollment = EnrollmentFactory(lead=lead, track=TrackFactory(key="hot_seller"))
    MessageFactory(lead=lead, enrollment=enrollment, body="Hello from the outbox.")
    AlertFactory(lead=lead, agent=owner.user, reason="reply")  # an open alert for Today
    now = timezone.now()  # an appointment today (Today's section), begun (it may be closed)
    appointment = AppointmentFactory(lead=lead, starts_at=now, ends_at=now + timedelta(hours=1))
    return {
        "owner": owner.user,
        "other_agent": other.user,
        "broker": broker.user,
        "anonymous": None,
        "lead": lead,
        "task": task,
        "appointment": appointment,
    }


def _client_as(client, world, role):
    if world[role] is not None:
        client.force_login(world[role])
    return client


def _call(client, method, url, data):
    return client.get(url, data) if method == "get" else client.post(url, data)


def _assert_sent_to_sign_in(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(LEAD_URLS)))
def test_a_lead_url_answers_only_its_owner_and_brokers(client, world, name, role):
    method, data = LEAD_URLS[name]
    if name == "leads:lead-reassign":
        data = {"owner": world["other_agent"].pk}
    lead = world["lead"]
    response = _call(_client_as(client, world, role), method, reverse(name, args=[lead.pk]), data)
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "other_agent":
        assert response.status_code == 404
    elif role == "owner" and name == "leads:lead-reassign":
        assert response.status_code == 403  # their own lead, but only a broker gives leads away
        assert Lead.objects.get(pk=lead.pk).owner == world["owner"]
    else:
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(TASK_URLS)))
def test_a_task_url_answers_only_the_leads_owner_and_brokers(client, world, name, role):
    method, data, changed = TASK_URLS[name]
    lead, task = world["lead"], world["task"]
    url = reverse(name, args=[lead.pk, task.pk])
    response = _call(_client_as(client, world, role), method, url, data)
    task.refresh_from_db()
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "other_agent":
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])
    assert changed(task) is (role in ("owner", "broker"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(APPOINTMENT_URLS)))
def test_an_appointment_url_answers_only_the_leads_owner_and_brokers(client, world, name, role):
    data, changed = APPOINTMENT_URLS[name]
    lead, appointment = world["lead"], world["appointment"]
    url = reverse(name, args=[lead.pk, appointment.pk])
    response = _call(_client_as(client, world, role), "post", url, data)
    appointment.refresh_from_db()
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "other_agent":
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])
    assert changed(appointment) is (role in ("owner", "broker"))


@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(APPOINTMENT_URLS)))
def test_an_appointment_is_reached_only_through_its_own_lead(client, world, name):
    data, changed = APPOINTMENT_URLS[name]
    other_lead = LeadFactory(owner=world["owner"])
    client.force_login(world["owner"])
    url = reverse(name, args=[other_lead.pk, world["appointment"].pk])
    assert client.post(url, data).status_code == 404
    world["appointment"].refresh_from_db()
    assert not changed(world["appointment"])


def _reinquiry(lead):
    lead.inquiry_count = 2
    lead.save(update_fields=["inquiry_count"])
    proposed = {"property_address": [lead.property_address, "1 Other Road"]}
    return LeadEventFactory(
        lead=lead,
        kind=LeadEvent.Kind.REINQUIRY,
        data={"source": "listing_ad", "proposed": proposed},
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(REINQUIRY_URLS)))
def test_a_reinquiry_url_answers_only_the_leads_owner_and_brokers(client, world, name, role):
    lead = world["lead"]
    event = _reinquiry(lead)
    url = reverse(name, args=[lead.pk, event.pk])
    response = _call(_client_as(client, world, role), "post", url, {})
    event.refresh_from_db()
    lead.refresh_from_db()
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "other_agent":
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])
        assert REINQUIRY_URLS[name](lead)
    assert ("resolved" in event.data) is (role in ("owner", "broker"))


@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(REINQUIRY_URLS)))
def test_a_reinquiry_is_reached_only_through_its_own_lead(client, world, name):
    event = _reinquiry(world["lead"])
    other_lead = LeadFactory(owner=world["owner"])
    client.force_login(world["owner"])
    assert client.post(reverse(name, args=[other_lead.pk, event.pk])).status_code == 404
    event.refresh_from_db()
    assert "resolved" not in event.data


@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(TASK_URLS)))
def test_a_task_is_reached_only_through_its_own_lead(client, world, name):
    """The owner's other lead in the URL does not reach this lead's task."""
    method, data, changed = TASK_URLS[name]
    other_lead = LeadFactory(owner=world["owner"])
    client.force_login(world["owner"])
    url = reverse(name, args=[other_lead.pk, world["task"].pk])
    assert _call(client, method, url, data).status_code == 404
    world["task"].refresh_from_db()
    assert not changed(world["task"])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "method", "data", "kwargs"),
    LIST_URLS,
    ids=[f"{name}:{kwargs['key']}" if kwargs else name for name, _, _, kwargs in LIST_URLS],
)
def test_a_list_shows_a_lead_to_its_owner_and_brokers_only(
    client, world, name, method, data, kwargs, role
):
    response = _call(_client_as(client, world, role), method, reverse(name, kwargs=kwargs), data)
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
        return
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    shows_it = str(world["lead"]).encode() in body or b"owned@example.com" in body
    viewers = {"owner"} if kwargs.get("key") in PERSONAL_SECTIONS else {"owner", "broker"}
    assert shows_it is (role in viewers)


def test_every_section_of_today_is_in_the_matrix():
    """A section that lists leads must show the world's lead to its owner (give it data in
    `world`); one that lists none says so in SECTIONS_WITHOUT_LEADS."""
    listed = {kwargs["key"] for name, _, _, kwargs in LIST_URLS if name == "leads:today-section"}
    assert listed | SECTIONS_WITHOUT_LEADS == set(SECTIONS_BY_KEY)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(SAVED_FILTER_URLS)))
def test_a_saved_filter_answers_only_the_agent_who_saved_it(client, world, name, role):
    saved = SavedFilterFactory(owner=world["owner"])
    method, data = SAVED_FILTER_URLS[name]
    response = _call(_client_as(client, world, role), method, reverse(name, args=[saved.pk]), data)
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "owner":
        assert response.status_code == 302
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(SIGNED_IN_WRITES)))
def test_signed_in_writes_need_a_sign_in(client, world, name, role):
    method, data = SIGNED_IN_WRITES[name]
    response = _call(_client_as(client, world, role), method, reverse(name), data)
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
        assert not get_user_model().objects.filter(saved_filters__name="Mine").exists()
    else:
        assert response.status_code == 302
        assert world[role].saved_filters.filter(name="Mine").exists()


def test_an_htmx_request_without_a_session_sends_the_page_to_sign_in(client, world):
    lead = world["lead"]
    response = client.post(
        reverse("leads:lead-log", args=[lead.pk]),
        {"kind": "call"},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver/leads/{lead.pk}/"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('login')}?next=/leads/{lead.pk}/"
    assert not lead.events.filter(kind="personal_contact").exists()


def test_an_agent_cannot_tell_someone_elses_lead_from_a_missing_one(client, world):
    client.force_login(world["other_agent"])
    theirs = client.get(reverse("leads:lead-detail", args=[world["lead"].pk]))
    missing = client.get(reverse("leads:lead-detail", args=[world["lead"].pk + 1000]))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(REPORT_URLS)))
def test_a_report_counts_a_lead_for_its_owner_and_brokers_only(client, world, name, role):
    response = _client_as(client, world, role).get(reverse(name, kwargs=REPORT_URLS[name]))
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
        return
    assert response.status_code == 200
    csv_response = client.get(reverse("reports:segment-report-csv", args=["segments"]))
    rows = list(csv.DictReader(io.StringIO(csv_response.content.decode())))
    (overall,) = [
        row for row in rows if (row["Source"], row["Intent"]) == (ALL_SOURCES, ALL_INTENTS)
    ]
    assert int(overall["Leads"]) == (1 if role in ("owner", "broker") else 0)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(ALERT_URLS)))
def test_an_alert_answers_only_its_recipient(client, world, name, role):
    alert = AlertFactory(lead=world["lead"], agent=world["owner"])
    response = _call(
        _client_as(client, world, role), ALERT_URLS[name], reverse(name, args=[alert.pk]), {}
    )
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "owner":
        assert response.status_code == 302
    else:
        assert response.status_code == 404  # a broker does not answer an agent's alert for them
        alert.refresh_from_db()
        assert alert.closed_at is None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(ALERT_LISTS)))
def test_alert_lists_show_an_alert_to_whom_it_concerns(client, world, name, role):
    AlertFactory(lead=world["lead"], agent=world["owner"])
    response = _client_as(client, world, role).get(reverse(name))
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
        return
    assert response.status_code == 200
    shows_it = (
        b"owned@example.com" in response.content or str(world["lead"]).encode() in response.content
    )
    assert shows_it is (role in ALERT_LISTS[name])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(BROKER_WRITES))
def test_only_a_broker_releases_a_quarantined_submission(client, world, name, role):
    submission = SubmissionFactory(status=Submission.Status.SPAM, spam_reason="honeypot")
    response = _call(
        _client_as(client, world, role),
        BROKER_WRITES[name],
        reverse(name, args=[submission.pk]),
        {},
    )
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "broker":
        assert response.status_code == 302  # back to Today, saying what happened
    else:
        assert response.status_code == 404
        submission.refresh_from_db()
        assert submission.status == Submission.Status.SPAM


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(BROKER_PAGES))
def test_only_a_broker_reads_the_unparsed_portal_emails(client, world, name, role):
    submission = SubmissionFactory(
        channel="email", status=Submission.Status.REJECTED, data={"subject": "Hello"}
    )
    method, takes_pk = BROKER_PAGES[name]
    url = reverse(name, args=[submission.pk]) if takes_pk else reverse(name)
    response = _call(_client_as(client, world, role), method, url, {})
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "broker":
        assert response.status_code == (302 if method == "post" else 200)
    else:
        assert response.status_code == 404
        submission.refresh_from_db()
        assert "dismissed" not in submission.mapped


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(IMPORT_URLS))
def test_only_a_broker_imports_contacts(client, world, name, role):
    batch = ImportBatch.objects.create(file_name="x.csv", file_type="csv", content=b"Email\n")
    url = reverse(name) if name == "leads:import-upload" else reverse(name, args=[batch.pk])
    response = _call(_client_as(client, world, role), IMPORT_URLS[name], url, {})
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "broker":
        assert response.status_code in (200, 302, 400)
    else:
        assert response.status_code == 403
        assert ImportBatch.objects.get().status == ImportBatch.Status.UPLOADED


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(CAMPAIGN_URLS))
def test_only_a_broker_runs_campaigns(client, world, name, role):
    method, takes_pk = CAMPAIGN_URLS[name]
    campaign = ReactivationCampaignFactory()
    url = reverse(name, args=[campaign.pk]) if takes_pk else reverse(name)
    response = _call(_client_as(client, world, role), method, url, {})
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "broker":
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(PUSH_URLS)))
def test_a_push_device_answers_only_its_own_user(client, world, name, role):
    device = PushSubscriptionFactory(user=world["owner"])
    data = {"id": device.pk} if name == "alerts:push-unsubscribe" else {}
    response = _call(_client_as(client, world, role), PUSH_URLS[name], reverse(name), data)
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    else:
        assert response.status_code < 500
    removed = not type(device).objects.filter(pk=device.pk).exists()
    assert removed is (role == "owner" and name == "alerts:push-unsubscribe")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(CALL_URLS)))
def test_a_call_answers_only_the_agent_it_rang(client, world, name, role, settings):
    settings.DEBUG = True  # playing a call is for development only (a 404 in production)
    lead = world["lead"]
    status = "ringing" if name == "leads:call-play" else "ended"
    call = CallFactory(lead=lead, agent=world["owner"], over=True, status=status)
    method, data = CALL_URLS[name]
    url = reverse(name, args=[lead.pk, call.pk])
    response = _call(_client_as(client, world, role), method, url, data)
    call.refresh_from_db()
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "owner":
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 404
    assert (call.outcome == "talked") is (role == "owner" and name == "leads:call-outcome")


@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) & set(CALL_URLS)))
def test_a_call_is_reached_only_through_its_own_lead(client, world, name):
    call = CallFactory(lead=world["lead"], agent=world["owner"], over=True)
    other_lead = LeadFactory(owner=world["owner"])
    client.force_login(world["owner"])
    method, data = CALL_URLS[name]
    url = reverse(name, args=[other_lead.pk, call.pk])
    assert _call(client, method, url, data).status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_the_call_link_answers_only_the_alerts_recipient(client, world, role):
    alert = AlertFactory(lead=world["lead"], agent=world["owner"])
    url = reverse("alerts:call-link", args=[call_link_token(alert)])
    response = _client_as(client, world, role).get(url)
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "owner":
        assert response.status_code == 200
    else:
        assert response.status_code == 404  # a broker does not use an agent's link either


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["stage", "reassign"])
def test_a_bulk_action_reaches_only_the_leads_the_user_sees(client, world, role, action):
    """The world's lead ticked (a forged id for the other agent): its owner and a broker change
    it; the other agent changes nothing and is told so (422); reassigning is a broker's (403)."""
    lead = world["lead"]
    data = {"action": action, "lead": [lead.pk], "stage": "engaged"}
    data["owner"] = world["other_agent"].pk
    response = _client_as(client, world, role).post(reverse("leads:bulk"), data)
    lead.refresh_from_db()
    changed = lead.stage == "engaged" if action == "stage" else lead.owner == world["other_agent"]
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif action == "reassign" and role != "broker":
        assert response.status_code == 403
    elif role == "other_agent":
        assert response.status_code == 422
    else:
        assert response.status_code == 302
    assert changed is (role == "broker" or (role == "owner" and action == "stage"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(BULK_JOB_URLS))
def test_a_bulk_job_answers_only_the_person_who_asked_for_it(client, world, name, role):
    job = BulkJob.objects.create(
        created_by=world["owner"],
        action=BulkJob.Action.STAGE,
        params={"stage": "engaged", "label": "Stage: Engaged"},
        lead_ids=[world["lead"].pk],
        total=1,
        status=BulkJob.Status.FAILED,
    )
    url = reverse(name, args=[job.pk])
    response = _call(_client_as(client, world, role), BULK_JOB_URLS[name], url, {})
    if role == "anonymous":
        _assert_sent_to_sign_in(response)
    elif role == "owner":
        assert response.status_code in (200, 286, 302)
    else:
        assert response.status_code == 404
        job.refresh_from_db()
        assert job.status == BulkJob.Status.FAILED

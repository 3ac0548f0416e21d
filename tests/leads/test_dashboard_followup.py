"""The lead page's follow-up through sequences: messages, one-off sends, tasks, automation."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.dashboard_forms import one_off_token, snooze_until
from leads.models import Lead
from realtycrm.flows.inbound import text_receive
from sequences.models import Enrollment, Message, Suppression, Task
from sequences.services.enrollment import scheduler_tick
from sequences.services.one_off import MessageBlocked, message_send_one_off
from tests.factories import (
    AgentFactory,
    EnrollmentFactory,
    LeadFactory,
    MessageFactory,
    TaskFactory,
    TrackFactory,
)
from tests.helpers import post_intake
from tests.moments import AFTERNOON, NEW_YORK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

HTMX = {"HX-Request": "true", "HX-Target": "lead"}


@pytest.fixture
def clock_start():
    return AFTERNOON


def lead_page(client, lead):
    response = client.get(reverse("leads:lead-detail", args=[lead.pk]))
    assert response.status_code == 200
    return response


def send(client, lead, channel="sms", token=None, **fields):
    data = {"channel": channel, "token": token or one_off_token(), **fields}
    return client.post(reverse("leads:lead-send", args=[lead.pk]), data, headers=HTMX)


# --- The messages panel --------------------------------------------------------------------------


def test_the_messages_panel_shows_each_message_with_its_status_and_why(client, agent):
    lead = LeadFactory(owner=agent, texting=True)
    MessageFactory(
        lead=lead,
        body="Thanks for asking about 12 Elm Street",
        status=Message.Status.SENT,
        sent_at=AFTERNOON - timedelta(hours=2),
        created_at=AFTERNOON - timedelta(hours=2),
    )
    MessageFactory(
        lead=lead,
        email=True,
        subject="Homes sold near you",
        status=Message.Status.SUPPRESSED,
        status_reason="Unsubscribed",
        created_at=AFTERNOON - timedelta(hours=1),
    )
    MessageFactory(
        lead=lead,
        body="Day 1: local data",
        status=Message.Status.QUEUED,
        status_reason="Quiet hours: held until 2026-05-05 08:00 EDT",
        scheduled_for=AFTERNOON + timedelta(hours=18),
        created_at=AFTERNOON,
    )
    MessageFactory(lead=None, to_agent=True, agent=agent, body="New hot lead: call now")
    MessageFactory(lead=lead, to_agent=True, agent=agent, body="Alert about this lead")
    response = lead_page(client, lead)
    rows = [(m.status, m.channel) for m in response.context["messages_page"]]
    assert rows == [("queued", "sms"), ("suppressed", "email"), ("sent", "sms")]
    body = response.content.decode()
    assert 'Scheduled <time datetime="2026-05-05T08:00:00-04:00">May 5, 8:00 a.m.' in body
    assert "Quiet hours: held until 2026-05-05 08:00 EDT" in body
    assert "Unsubscribed" in body and "Homes sold near you" in body
    assert 'Sent <time datetime="2026-05-04T12:00:00-04:00">May 4, 12:00 p.m.' in body
    assert "Alert about this lead" not in body  # to the agent, not to the lead


def test_older_messages_come_a_page_at_a_time(client, agent):
    lead = LeadFactory(owner=agent, texting=True)
    for minutes in range(13):
        MessageFactory(
            lead=lead,
            body=f"message {minutes:02d}",
            created_at=AFTERNOON - timedelta(minutes=minutes),
        )
    first = lead_page(client, lead).content.decode()
    assert "message 00" in first and "message 09" in first and "message 10" not in first
    assert "Show older" in first
    older = client.get(reverse("leads:lead-messages", args=[lead.pk]), {"page": 2})
    text = older.content.decode()
    assert "message 10" in text and "message 12" in text and "message 09" not in text
    assert "Show older" not in text


def test_a_message_body_is_shown_as_text(client, agent):
    lead = LeadFactory(owner=agent, texting=True)
    MessageFactory(lead=lead, body="<img src=x onerror=alert(1)>")
    body = lead_page(client, lead).content.decode()
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


# --- One-off texts and emails --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "channel", "reason"),
    [
        ({"sms_consent_at": None}, "sms", "No SMS consent on record"),
        ({"phone": ""}, "sms", "No mobile number on record"),
        (
            {"first_name": "Sam", "sms_opted_out_at": datetime(2026, 5, 3, 9, tzinfo=NEW_YORK)},
            "sms",
            "Sam opted out of texts on May 3",
        ),
        ({"email": ""}, "email", "No email address"),
        (
            {"first_name": "Sam", "email_opted_out_at": datetime(2026, 4, 2, tzinfo=NEW_YORK)},
            "email",
            "Sam unsubscribed from email on Apr 2",
        ),
    ],
)
def test_why_a_lead_cannot_be_texted_or_emailed_is_said_before_typing(
    client, agent, fields, channel, reason
):
    lead = LeadFactory(owner=agent, texting=True, **fields)
    response = lead_page(client, lead)
    body = response.content.decode()
    assert (
        f'data-testid="{channel}-blocked">No {"texting" if channel == "sms" else "email"}: {reason}.'
        in body
    )
    assert f'id="one-off-{channel}-form"' not in body
    other = "email" if channel == "sms" else "sms"
    assert f'id="one-off-{other}-form"' in body
    # The very words the outbox would refuse it with.
    with pytest.raises(MessageBlocked) as blocked:
        message_send_one_off(lead, channel=channel, body="Hi", actor=agent)
    assert blocked.value.reason == reason


@pytest.mark.parametrize(
    ("channel", "reason", "sentence"),
    [
        ("sms", Suppression.Reason.SMS_STOP, "+16175550100 replied STOP on May 4"),
        ("email", Suppression.Reason.BOUNCE, "Email to ada@example.com bounced on May 4"),
    ],
)
def test_a_suppressed_address_is_said_before_typing_too(client, agent, channel, reason, sentence):
    lead = LeadFactory(owner=agent, texting=True, phone="+16175550100", email="ada@example.com")
    address = lead.phone if channel == "sms" else lead.email
    Suppression.objects.create(channel=channel, address=address, reason=reason)
    body = lead_page(client, lead).content.decode()
    assert sentence in body
    assert f'id="one-off-{channel}-form"' not in body


def test_a_blocked_one_off_answers_422_with_the_reason(client, agent):
    """Sent from a page opened before the lead's consent was withdrawn."""
    lead = LeadFactory(owner=agent, sms_consent_at=None)
    response = send(client, lead, body="Are you free to talk?")
    assert response.status_code == 422
    assert "No texting: No SMS consent on record." in response.content.decode()
    assert not Message.objects.exists()


def test_a_refusal_the_page_could_not_foresee_shows_next_to_the_form(client, agent, monkeypatch):
    def refuse(*args, **kwargs):
        raise MessageBlocked("The carrier refuses this number")

    monkeypatch.setattr("leads.views.followup.message_send_one_off", refuse)
    lead = LeadFactory(owner=agent, texting=True)
    response = send(client, lead, body="Are you free to talk?")
    assert response.status_code == 422
    body = response.content.decode()
    assert 'data-testid="one-off-error">The carrier refuses this number</div>' in body
    assert "Are you free to talk?</textarea>" in body  # what they typed is kept


def test_an_email_refused_at_send_time_reopens_on_the_email_tab(client, agent):
    lead = LeadFactory(owner=agent, email="ada@example.com")
    page = lead_page(client, lead)  # the form was shown; the address bounced since
    Suppression.objects.create(channel="email", address=lead.email, reason="bounce")
    token = page.context["email_form"]["token"].value()
    response = send(client, lead, "email", token=token, body="Here are the comps")
    assert response.status_code == 422
    assert response.context["one_off_channel"] == "email"
    assert "Email to ada@example.com bounced on May 4" in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body": "   "}, "Write a message first."),
        ({"body": "x" * 1601}, "A text can be at most 1,600 characters."),
        ({"body": "Hi", "token": "not-a-token"}, "This form is out of date"),
    ],
)
def test_bad_one_off_input_is_refused_with_a_message(client, agent, fields, message):
    lead = LeadFactory(owner=agent, texting=True)
    response = send(client, lead, **fields)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Message.objects.exists()


def test_a_one_off_text_is_sent_and_counts_as_a_personal_contact(
    client, agent, sms_outbox, django_capture_on_commit_callbacks
):
    lead = LeadFactory(owner=agent, texting=True, hot=True)
    task = TaskFactory(lead=lead, created_at=AFTERNOON - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, lead, body="Hi, it's Alex. Free for a call at 4?")
        # Written in the request; a worker sends it once the request has committed.
        assert response.status_code == 200
        assert "lead-changed" in response["HX-Trigger"]
        assert "Text queued: it goes out in a moment." in response.content.decode()
        (queued,) = response.context["messages_page"]
        assert (queued.status, queued.purpose, queued.created_by) == ("queued", "one_off", agent)
        assert response.context["messages_in_flight"]
    assert [(sms.to, sms.body) for sms in sms_outbox] == [
        (lead.phone, "Hi, it's Alex. Free for a call at 4? Reply STOP to opt out.")
    ]
    lead.refresh_from_db()
    assert lead.last_personal_contact_at == AFTERNOON
    assert lead.stage == Lead.Stage.CONTACTED
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    # The panel, polling while it was on its way, sees it sent and stops asking.
    poll = client.get(reverse("leads:lead-messages", args=[lead.pk]), {"poll": "1"})
    assert poll.status_code == 286
    assert 'data-status="sent"' in poll.content.decode()
    today = client.get(reverse("leads:today-section", args=["hot-queue"]))
    assert list(today.context["leads"]) == []


def test_a_one_off_answers_a_reply_on_today(
    client, agent, sms_outbox, django_capture_on_commit_callbacks
):
    lead = LeadFactory(owner=agent, texting=True)
    text_receive(from_number=lead.phone, body="Call me")
    replies = reverse("leads:today-section", args=["replies"])
    assert len(client.get(replies).context["replies"]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        send(client, lead, body="Calling you in 5 minutes")
    assert client.get(replies).context["replies"] == []


def test_a_one_off_email_lands_in_the_mailbox(
    client, agent, mailoutbox, django_capture_on_commit_callbacks
):
    lead = LeadFactory(owner=agent, email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = send(
            client, lead, "email", subject="The comps", body="Here are three nearby sales."
        )
    assert response.status_code == 200
    (email,) = mailoutbox
    assert (email.to, email.subject) == (["ada@example.com"], "The comps")
    assert email.body.startswith("Here are three nearby sales.")
    lead.refresh_from_db()
    assert lead.last_personal_contact_at == AFTERNOON


def test_a_one_off_text_in_quiet_hours_says_when_it_goes(client, agent, clock):
    clock.move_to(datetime(2026, 5, 4, 22, 15, tzinfo=NEW_YORK))
    lead = LeadFactory(owner=agent, texting=True, phone="+16175550123")
    response = send(client, lead, body="Quick question about Thursday")
    assert "It is quiet hours where they are: it goes May 5, 8:00 a.m." in (
        response.content.decode()
    )
    assert Message.objects.get().scheduled_for == datetime(2026, 5, 5, 8, tzinfo=NEW_YORK)


def test_a_double_submitted_one_off_is_sent_once(client, agent):
    lead = LeadFactory(owner=agent, texting=True)
    token = one_off_token()
    for _ in range(2):
        assert send(client, lead, token=token, body="See you at 4").status_code == 200
    assert Message.objects.filter(lead=lead, purpose="one_off").count() == 1


def test_without_javascript_a_one_off_returns_to_the_lead(client, agent):
    lead = LeadFactory(owner=agent, texting=True)
    response = client.post(
        reverse("leads:lead-send", args=[lead.pk]),
        {"channel": "sms", "token": one_off_token(), "body": "Hello"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])


# --- A text that may have asked to stop ----------------------------------------------------------


def test_after_not_interested_the_page_asks_and_a_text_needs_the_confirmation(client, agent):
    lead = LeadFactory(owner=agent, texting=True, first_name="Dana")
    text_receive(from_number=lead.phone, body="not interested")
    page = lead_page(client, lead).content.decode()
    assert "Dana texted “not interested”: did they ask to stop?" in page
    assert "They asked to stop</button>" in page and "They did not</button>" in page
    assert "They did not ask to stop: send" in page

    response = send(client, lead, body="Sorry to bother you: should I stop?")
    assert response.status_code == 422
    assert "Confirm they did not before you text them." in response.content.decode()
    assert not Message.objects.filter(purpose="one_off").exists()

    response = send(client, lead, body="Understood, thanks", confirmed_not_stop="on")
    assert response.status_code == 200
    assert Message.objects.filter(purpose="one_off").count() == 1
    timeline = lead.events.get(kind="note")
    assert timeline.summary.endswith("did not ask to stop, and texted them")
    assert 'data-testid="opt-out-question"' not in lead_page(client, lead).content.decode()


def test_they_asked_to_stop_from_the_lead_page_opts_the_number_out(client, agent):
    lead = LeadFactory(owner=agent, texting=True)
    text_receive(from_number=lead.phone, body="no thanks")
    url = reverse("leads:lead-opt-out-answer", args=[lead.pk])
    response = client.post(url, {"answer": "stop"}, headers=HTMX)
    assert response.status_code == 200
    assert "Opted out: no more texts go to this number." in response.content.decode()
    lead.refresh_from_db()
    assert lead.sms_opted_out_at is not None
    assert Suppression.objects.get(address=lead.phone).reason == "confirmed_stop"


def test_they_did_not_from_the_lead_page_lets_texts_go(client, agent):
    lead = LeadFactory(owner=agent, texting=True)
    text_receive(from_number=lead.phone, body="Who is this?")
    url = reverse("leads:lead-opt-out-answer", args=[lead.pk])
    assert client.post(url, {"answer": "maybe"}, headers=HTMX).status_code == 422
    response = client.post(url, {"answer": "not_stop"}, headers=HTMX)
    assert response.status_code == 200
    assert "They did not ask to stop: send" not in response.content.decode()
    assert send(client, lead, body="Hi, it's Alex from Harbor & Main").status_code == 200
    assert not Suppression.objects.exists()


def test_only_the_leads_agents_may_answer(client, agent, sam):
    lead = LeadFactory(owner=sam, texting=True)
    text_receive(from_number=lead.phone, body="not interested")
    url = reverse("leads:lead-opt-out-answer", args=[lead.pk])
    assert client.post(url, {"answer": "stop"}, headers=HTMX).status_code == 404
    assert not Suppression.objects.exists()


# --- The lead's tasks ----------------------------------------------------------------------------


def test_the_leads_tasks_show_the_open_ones_first(client, agent):
    lead = LeadFactory(owner=agent)
    done = TaskFactory(lead=lead, title="Called", status="done", done_at=AFTERNOON, done_by=agent)
    later = TaskFactory(lead=lead, title="Check in", due_at=AFTERNOON + timedelta(days=3))
    late = TaskFactory(lead=lead, title="Call back", due_at=AFTERNOON - timedelta(hours=3))
    TaskFactory(lead=LeadFactory(owner=agent), title="Another lead's")
    response = lead_page(client, lead)
    assert [task.pk for task in response.context["tasks_page"]] == [late.pk, later.pk, done.pk]
    body = response.content.decode()
    assert "overdue 3 h" in body and "due May 7, 2:00 p.m." in body
    assert "Another lead's" not in body


def test_a_task_is_done_from_the_lead_page(client, agent):
    task = TaskFactory(lead=LeadFactory(owner=agent), title="Call back")
    response = client.post(reverse("leads:task-done", args=[task.lead_id, task.pk]), headers=HTMX)
    assert response.status_code == 200
    assert "Done: Call back." in response.content.decode()
    task.refresh_from_db()
    assert (task.status, task.done_by) == (Task.Status.DONE, agent)
    assert 'data-status="done"' in response.content.decode()


def test_a_task_is_snoozed_from_the_lead_page(client, agent):
    task = TaskFactory(lead=LeadFactory(owner=agent), due_at=AFTERNOON)
    response = client.post(
        reverse("leads:task-snooze", args=[task.lead_id, task.pk]),
        {"until": "monday"},
        headers=HTMX,
    )
    assert "Snoozed until May 11, 9:00 a.m." in response.content.decode()
    task.refresh_from_db()
    assert task.due_at == datetime(2026, 5, 11, 9, tzinfo=NEW_YORK)


def test_snoozing_a_closed_task_says_why(client, agent):
    task = TaskFactory(lead=LeadFactory(owner=agent), status="done", done_at=AFTERNOON)
    response = client.post(
        reverse("leads:task-snooze", args=[task.lead_id, task.pk]), {"until": "1h"}, headers=HTMX
    )
    assert response.status_code == 422
    assert "This task is already closed." in response.content.decode()


@pytest.mark.parametrize(
    ("choice", "now", "expected"),
    [
        ("1h", datetime(2026, 5, 4, 23, 30, tzinfo=UTC), datetime(2026, 5, 5, 0, 30, tzinfo=UTC)),
        ("tomorrow", AFTERNOON, datetime(2026, 5, 5, 9, tzinfo=NEW_YORK)),
        # 23:30 in New York is already tomorrow in UTC: "tomorrow" is still New York's.
        (
            "tomorrow",
            datetime(2026, 5, 5, 3, 30, tzinfo=UTC),
            datetime(2026, 5, 5, 9, tzinfo=NEW_YORK),
        ),
        # The night the clocks go back: 9:00 is still 9:00 on the wall.
        (
            "tomorrow",
            datetime(2026, 10, 31, 20, tzinfo=NEW_YORK),
            datetime(2026, 11, 1, 14, tzinfo=UTC),
        ),
        ("monday", AFTERNOON, datetime(2026, 5, 11, 9, tzinfo=NEW_YORK)),  # from a Monday
        (
            "monday",
            datetime(2026, 5, 10, 20, tzinfo=NEW_YORK),
            datetime(2026, 5, 11, 9, tzinfo=NEW_YORK),
        ),
    ],
)
def test_snooze_times_are_on_the_users_wall_clock(choice, now, expected):
    assert snooze_until(choice, now=now, zone=NEW_YORK) == expected


# --- Automation ----------------------------------------------------------------------------------


@pytest.fixture
def submitted(client, agent, django_capture_on_commit_callbacks):
    """A warm valuation lead from the real form, enrolled in its track, owned by the agent."""
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        post_intake(client, "valuation", timeline="6_to_18_months")
    client.force_login(agent)
    lead = Lead.objects.get()
    assert lead.owner == agent
    return lead


def test_the_enrolment_is_shown_with_its_track_and_state(client, submitted):
    body = lead_page(client, submitted).content.decode()
    assert f'data-testid="automation-track">{submitted.nurture_track}</span>' in body
    assert 'data-testid="automation-status">Active</span>' in body
    assert "Pause automation" in body


def test_pausing_stops_the_next_nurture_step_and_resuming_restarts_it(
    client, submitted, clock, mailoutbox, django_capture_on_commit_callbacks
):
    assert [email.subject for email in mailoutbox] != []  # the acknowledgment
    sent_before = len(mailoutbox)
    clock.move_to(AFTERNOON + timedelta(hours=12))
    response = client.post(
        reverse("leads:lead-pause", args=[submitted.pk]),
        {"reason": "Talking to them by phone"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert 'data-testid="automation-status">Paused</span>' in response.content.decode()
    assert "Talking to them by phone" in response.content.decode()

    clock.move_to(AFTERNOON + timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick()
    assert len(mailoutbox) == sent_before  # day 1's email did not go

    response = client.post(reverse("leads:lead-resume", args=[submitted.pk]), headers=HTMX)
    assert 'data-testid="automation-status">Active</span>' in response.content.decode()
    # 12 hours were left before day 1 when it paused.
    clock.move_to(AFTERNOON + timedelta(days=3, hours=12))
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick()
    assert len(mailoutbox) == sent_before + 1
    kinds = set(submitted.events.values_list("kind", flat=True))
    assert {"automation_paused", "automation_resumed"} <= kinds


def test_a_stopped_enrolment_says_why_and_offers_a_restart(client, agent):
    lead = LeadFactory(owner=agent, nurture_track=TrackFactory(key="long_term_local"))
    EnrollmentFactory(
        lead=lead,
        track=lead.nurture_track,
        status=Enrollment.Status.STOPPED,
        status_reason="Moved to Hot seller",
    )
    body = lead_page(client, lead).content.decode()
    assert 'data-testid="automation-status">Stopped</span>' in body
    assert 'data-testid="automation-reason">Moved to Hot seller</div>' in body
    response = client.post(reverse("leads:lead-resume", args=[lead.pk]), headers=HTMX)
    assert response.status_code == 200
    assert lead.enrollments.get(status="active").acknowledge is False


def test_automation_cannot_be_restarted_for_a_lost_lead(client, agent):
    lead = LeadFactory(owner=agent, stage=Lead.Stage.LOST, nurture_track=TrackFactory())
    assert "Automation stays off while the lead is at stage Lost." in (
        lead_page(client, lead).content.decode()
    )
    response = client.post(reverse("leads:lead-resume", args=[lead.pk]), headers=HTMX)
    assert response.status_code == 422
    assert "Automation stays off for a lead at stage Lost." in response.content.decode()
    assert not lead.enrollments.exists()


def test_pausing_a_lead_with_no_automation_says_so(client, agent):
    lead = LeadFactory(owner=agent)
    response = client.post(reverse("leads:lead-pause", args=[lead.pk]), headers=HTMX)
    assert response.status_code == 422
    assert "No automation is running for this lead." in response.content.decode()


# --- Bounded queries -----------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [2, 40])
def test_the_lead_page_with_messages_and_tasks_runs_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, rows
):
    broker = AgentFactory(broker=True)
    agents = [AgentFactory().user for _ in range(3)]
    lead = LeadFactory(owner=agents[0], texting=True)
    enrollment = EnrollmentFactory(lead=lead, track=TrackFactory(key="hot_seller"))
    for index in range(rows):
        MessageFactory(lead=lead, enrollment=enrollment, created_by=agents[index % 3])
        TaskFactory(
            lead=lead,
            agent=agents[index % 3],
            status="done" if index % 2 else "open",
            done_by=agents[index % 3] if index % 2 else None,
            done_at=timezone.now() if index % 2 else None,
        )
    client.force_login(broker.user)
    # 12, the lead's open alerts, its appointments, its tags, the call card
    with django_assert_max_num_queries(16):
        assert client.get(reverse("leads:lead-detail", args=[lead.pk])).status_code == 200
    for name in ("leads:lead-messages", "leads:lead-tasks"):
        with django_assert_max_num_queries(5):
            assert client.get(reverse(name, args=[lead.pk]), {"page": 2}).status_code == 200
    # 19, the lead's open alerts, and whether its texts may have asked to stop (asked by the
    # send, and again by the page it answers with), the call card, the lead's appointments and
    # its tags
    with django_assert_max_num_queries(25):
        response = send(client, lead, body="Hello")
    assert response.status_code == 200

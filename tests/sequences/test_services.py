"""What agents do: one-off messages, tasks, logging contact; and who sees which tasks."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from leads.models import Lead, LeadEvent
from realtycrm.flows.contacts import contact_log
from sequences.models import Message, Suppression, Task
from sequences.outbox import message_dispatch
from sequences.selectors import lead_message_list, task_list_for
from sequences.services.agent_tasks import task_complete, task_snooze
from sequences.services.one_off import MessageBlocked, message_send_one_off
from tests.factories import AgentFactory, LeadFactory, MessageFactory, TaskFactory
from tests.moments import NEW_YORK, NOON

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.mark.parametrize(
    ("lead_fields", "channel", "reason"),
    [
        (
            {"first_name": "Sam", "sms_opted_out_at": datetime(2026, 5, 3, 9, tzinfo=NEW_YORK)},
            "sms",
            "Sam opted out of texts on May 3",
        ),
        ({"sms_consent_at": None}, "sms", "No SMS consent on record"),
        ({"phone": ""}, "sms", "No mobile number on record"),
        ({"email": ""}, "email", "No email address"),
        (
            {"first_name": "Sam", "email_opted_out_at": datetime(2026, 4, 2, 9, tzinfo=NEW_YORK)},
            "email",
            "Sam unsubscribed from email on Apr 2",
        ),
    ],
)
def test_a_one_off_that_cannot_go_says_why_in_words(agent, lead_fields, channel, reason):
    lead = LeadFactory(texting=True, owner=agent, **lead_fields)
    with pytest.raises(MessageBlocked) as blocked:
        message_send_one_off(lead, channel=channel, body="Hi!", actor=agent)
    assert blocked.value.reason == reason
    assert not Message.objects.exists()


def test_a_bounced_address_blocks_a_one_off_email(agent):
    lead = LeadFactory(email="ada@example.com", owner=agent)
    Suppression.objects.create(channel="email", address="ada@example.com", reason="bounce")
    with pytest.raises(MessageBlocked) as blocked:
        message_send_one_off(lead, channel="email", body="Hi", actor=agent)
    assert blocked.value.reason == "Email to ada@example.com bounced on May 4"


def test_an_empty_one_off_is_refused(agent):
    lead = LeadFactory(texting=True, owner=agent)
    with pytest.raises(MessageBlocked, match="Write a message first"):
        message_send_one_off(lead, channel="sms", body="   ", actor=agent)


def test_a_one_off_is_personal_contact_and_completes_the_agents_open_task(
    agent, sms_outbox, django_capture_on_commit_callbacks
):
    lead = LeadFactory(texting=True, owner=agent)
    task = TaskFactory(lead=lead, created_at=NOON - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send_one_off(lead, channel="sms", body="Hi, it's Alex!", actor=agent)
    message.refresh_from_db()
    assert (message.status, message.purpose, message.created_by) == ("sent", "one_off", agent)
    lead.refresh_from_db()
    assert lead.first_personal_contact_at == NOON
    assert lead.stage == Lead.Stage.CONTACTED
    assert lead.first_automated_contact_at is None
    contact = lead.events.get(kind=LeadEvent.Kind.PERSONAL_CONTACT)
    assert (contact.actor, contact.channel) == (agent, "sms")
    task.refresh_from_db()
    assert (task.status, task.done_by) == ("done", agent)
    assert sms_outbox[0].body == "Hi, it's Alex! Reply STOP to opt out."


def test_a_one_off_text_in_the_leads_quiet_hours_waits_for_the_morning(agent, clock):
    clock.move_to(datetime(2026, 5, 4, 22, 15, tzinfo=NEW_YORK))
    lead = LeadFactory(texting=True, owner=agent, phone="+16175550123")
    message = message_send_one_off(lead, channel="sms", body="Quick question", actor=agent)
    assert message.scheduled_for == datetime(2026, 5, 5, 8, 0, tzinfo=NEW_YORK)


def test_an_agents_one_off_text_to_a_florida_lead_at_half_past_eight_waits_for_the_morning(
    agent, clock
):
    clock.move_to(datetime(2026, 5, 4, 20, 30, tzinfo=NEW_YORK))
    lead = LeadFactory(texting=True, owner=agent, phone="+13052221234")  # Miami, FL
    message = message_send_one_off(lead, channel="sms", body="Quick question", actor=agent)
    assert (message.status, message.scheduled_for) == (
        "queued",
        datetime(2026, 5, 5, 8, 0, tzinfo=NEW_YORK),
    )


def test_a_one_off_written_before_eight_is_held_when_it_is_sent_after(agent, clock, sms_outbox):
    # The outbox applies the same clock at send time: a text written at 19:59 that reaches the
    # worker at 20:00 waits for the morning too.
    clock.move_to(datetime(2026, 5, 4, 19, 59, tzinfo=NEW_YORK))
    lead = LeadFactory(texting=True, owner=agent, phone="+14103321234")  # Baltimore, MD
    message = message_send_one_off(lead, channel="sms", body="Quick question", actor=agent)
    clock.move_to(datetime(2026, 5, 4, 20, 0, 30, tzinfo=NEW_YORK))
    assert message_dispatch(message.pk) == "deferred"
    message.refresh_from_db()
    assert message.scheduled_for == datetime(2026, 5, 5, 8, 0, tzinfo=NEW_YORK)
    assert sms_outbox == []


def test_a_one_off_email_gets_a_subject_and_the_footer(
    agent, mailoutbox, django_capture_on_commit_callbacks
):
    lead = LeadFactory(owner=agent)
    with django_capture_on_commit_callbacks(execute=True):
        message_send_one_off(lead, channel="email", body="Here are the comps.", actor=agent)
    (email,) = mailoutbox
    assert email.subject == "A note from Alex Rivera"
    assert email.reply_to == [f"Alex Rivera <{agent.email}>"]
    assert "Unsubscribe with one click" in email.body


def test_the_same_idempotency_key_sends_a_double_clicked_one_off_once(agent):
    lead = LeadFactory(texting=True, owner=agent)
    first = message_send_one_off(lead, channel="sms", body="Hi", actor=agent, idempotency_key="f1")
    second = message_send_one_off(lead, channel="sms", body="Hi", actor=agent, idempotency_key="f1")
    assert first.pk == second.pk


def test_logging_contact_completes_the_tasks_it_answers(agent):
    lead = LeadFactory(owner=agent)
    earlier = TaskFactory(lead=lead, created_at=NOON - timedelta(days=1))
    later = TaskFactory(lead=lead, created_at=NOON + timedelta(hours=1), kind=Task.Kind.CHECK_IN)
    contact_log(lead, channel="call", actor=agent, note="Talked about the comps")
    earlier.refresh_from_db()
    later.refresh_from_db()
    assert (earlier.status, earlier.done_at, earlier.done_by) == ("done", NOON, agent)
    assert later.status == "open"  # a task made after the call is still to do
    lead.refresh_from_db()
    assert lead.last_personal_contact_at == NOON


def test_completing_a_task_twice_changes_nothing(agent, clock):
    task = TaskFactory(lead=LeadFactory(owner=agent))
    task_complete(task, actor=agent, outcome="Left a voicemail")
    clock.move_to(NOON + timedelta(hours=1))
    task_complete(task, actor=None)
    task.refresh_from_db()
    assert (task.status, task.done_at, task.done_by, task.outcome) == (
        "done",
        NOON,
        agent,
        "Left a voicemail",
    )


def test_snoozing_moves_the_due_time_and_refuses_the_past(agent):
    task = TaskFactory(lead=LeadFactory(owner=agent))
    task_snooze(task, until=NOON + timedelta(days=1), actor=agent)
    task.refresh_from_db()
    assert (task.due_at, task.snooze_count) == (NOON + timedelta(days=1), 1)
    with pytest.raises(ValidationError, match="future"):
        task_snooze(task, until=NOON - timedelta(minutes=1), actor=agent)
    task_complete(task, actor=agent)
    with pytest.raises(ValidationError, match="closed"):
        task_snooze(task, until=NOON + timedelta(days=2), actor=agent)


def test_agents_see_tasks_on_their_own_leads_and_brokers_see_all(
    agent, django_assert_max_num_queries
):
    other = AgentFactory().user
    broker = AgentFactory(broker=True).user
    mine = [
        TaskFactory(lead=LeadFactory(owner=agent), due_at=NOON + timedelta(hours=h))
        for h in (3, 1, 2)
    ]
    theirs = TaskFactory(lead=LeadFactory(owner=other))
    TaskFactory(lead=mine[0].lead, status=Task.Status.DONE)
    # One query for the tasks, one for leads offered to the agent to claim (none here).
    with django_assert_max_num_queries(2):
        listed = [(task.pk, task.lead.full_name, task.agent_id) for task in task_list_for(agent)]
    assert [pk for pk, _, _ in listed] == [mine[1].pk, mine[2].pk, mine[0].pk]  # due first
    assert theirs.pk in {task.pk for task in task_list_for(broker)}
    assert theirs.pk not in {task.pk for task in task_list_for(agent)}


def test_overdue_tasks_are_the_open_ones_past_their_time(agent):
    lead = LeadFactory(owner=agent)
    late = TaskFactory(lead=lead, due_at=NOON - timedelta(minutes=5))
    TaskFactory(lead=lead, due_at=NOON + timedelta(minutes=5))
    TaskFactory(lead=lead, due_at=NOON - timedelta(hours=5), status=Task.Status.DONE)
    assert list(task_list_for(agent, overdue=True)) == [late]
    assert late.is_overdue


def test_messages_are_listed_through_their_leads_visibility(agent):
    other = AgentFactory().user
    mine = MessageFactory(lead=LeadFactory(owner=agent, texting=True))
    theirs = MessageFactory(lead=LeadFactory(owner=other, texting=True), idempotency_key="theirs")
    MessageFactory(to_agent=True, agent=agent, lead=mine.lead, idempotency_key="alert")
    assert list(lead_message_list(agent, mine.lead)) == [mine]  # not the alert about it
    assert list(lead_message_list(agent, theirs.lead)) == []

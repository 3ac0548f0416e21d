"""Revoking consent by text, by any reasonable means (47 CFR 64.1200(a)(10), FCC 24-24): a
revocation opts out at once on every sender; a text that may mean stop pauses automation and
asks the owner, and a one-off text to that lead needs their confirmation first."""

import pytest

from alerts.models import Alert
from leads.models import Lead, LeadEvent
from realtycrm.flows.inbound import opt_out_confirm, text_receive
from sequences.models import Enrollment, Message, OptOutQuestion, Suppression, Task, Track
from sequences.outbox import message_dispatch
from sequences.services.enrollment import enrollment_start
from sequences.services.one_off import MessageBlocked, message_send_one_off
from tests.factories import LeadFactory, MessageFactory
from tests.moments import NOON

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def lead(alex):
    lead = LeadFactory(
        first_name="Dana",
        last_name="Ruiz",
        phone="+14135550187",
        texting=True,
        owner=alex,
        stage=Lead.Stage.CONTACTED,
    )
    enrollment_start(lead, Track.objects.get(key="homeowner_market_90"), intent="warm")
    return lead


def one_off(lead, actor, **kwargs):
    return message_send_one_off(lead, channel="sms", body="Hi Dana", actor=actor, **kwargs)


# --- Revocations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Please stop texting me",
        "I want to unsubscribe",
        "cancel",
        "can you remove me from your list",
        "OPT OUT please",
        # Each of these only paused automation before: a keyword inside a longer text.
        "I want to cancel my subscription",
        "cancel please",
        "remove me",
        "Stop it already, I sold the house",
        "I revoke my consent",
        "quit texting me",
    ],
)
def test_a_revocation_opts_out_at_once_and_a_one_off_text_is_blocked(lead, alex, body):
    queued = MessageFactory(lead=lead, idempotency_key="queued-before")
    assert text_receive(from_number=lead.phone, body=body) == "revoke"
    lead.refresh_from_db()
    assert lead.sms_opted_out_at == NOON
    suppression = Suppression.objects.get(channel="sms", address=lead.phone)
    assert (suppression.reason, suppression.detail) == ("sms_stop", body)
    queued.refresh_from_db()
    assert queued.status == Message.Status.SUPPRESSED
    assert message_dispatch(queued.pk) is None
    with pytest.raises(MessageBlocked) as blocked:
        one_off(lead, alex)
    assert not blocked.value.needs_confirmation
    assert blocked.value.reason == "Dana opted out of texts on May 4"
    # Even the agent's "they did not ask to stop" cannot send past an opt-out.
    with pytest.raises(MessageBlocked):
        one_off(lead, alex, confirmed_not_stop=True)
    assert not lead.tasks.filter(kind=Task.Kind.REPLY).exists()
    assert not Message.objects.filter(purpose=Message.Purpose.ONE_OFF).exists()


# --- A text that may mean stop -------------------------------------------------------------------


def test_not_interested_pauses_and_asks_the_owner_to_confirm(lead, alex):
    assert text_receive(from_number=lead.phone, body="not interested") == "ambiguous"
    lead.refresh_from_db()
    assert lead.sms_opted_out_at is None
    assert not Suppression.objects.exists()
    assert lead.stage == Lead.Stage.CONTACTED  # "not interested" is no conversation
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.status == Enrollment.Status.PAUSED
    assert enrollment.status_reason == "They replied: did they ask to stop?"
    task = lead.tasks.get(kind=Task.Kind.REPLY)
    assert (task.title, task.agent, task.notes) == (
        "Confirm: did Dana Ruiz ask to stop?",
        alex,
        "not interested",
    )
    alert = Alert.objects.get(lead=lead, agent=alex)
    assert alert.detail == "Confirm: did they ask to stop? “not interested”"
    question = OptOutQuestion.objects.get(lead=lead)
    assert (question.answer, question.task) == ("", task)
    assert lead.events.filter(kind=LeadEvent.Kind.REPLY).count() == 1


def test_a_one_off_text_after_not_interested_needs_the_agents_confirmation(lead, alex):
    text_receive(from_number=lead.phone, body="not interested")
    with pytest.raises(MessageBlocked) as blocked:
        one_off(lead, alex)
    assert blocked.value.needs_confirmation
    assert blocked.value.reason == (
        "Dana texted “not interested”: did they ask to stop? "
        "Confirm they did not before you text them."
    )
    assert not Message.objects.filter(purpose=Message.Purpose.ONE_OFF).exists()

    message = one_off(lead, alex, confirmed_not_stop=True)
    assert (message.purpose, message.to) == (Message.Purpose.ONE_OFF, lead.phone)
    question = OptOutQuestion.objects.get(lead=lead)
    assert (question.answer, question.answered_by, question.answered_at) == (
        "not_stop",
        alex,
        NOON,
    )
    note = lead.events.get(kind=LeadEvent.Kind.NOTE)
    assert note.actor == alex
    assert note.summary == (
        "Alex Rivera confirmed “not interested” did not ask to stop, and texted them"
    )
    # The question is answered: the next text needs nothing more.
    one_off(lead, alex, idempotency_key="second")


def test_an_email_one_off_needs_no_confirmation(lead, alex):
    lead.email = "dana@example.com"
    lead.save()
    text_receive(from_number=lead.phone, body="no thanks")
    message = message_send_one_off(lead, channel="email", body="The comps", actor=alex)
    assert message.channel == "email"
    assert OptOutQuestion.objects.get().answer == ""


def test_they_asked_to_stop_opts_the_number_out(lead, alex):
    text_receive(from_number=lead.phone, body="not interested")
    assert opt_out_confirm(lead, asked_to_stop=True, actor=alex) == 1
    lead.refresh_from_db()
    assert lead.sms_opted_out_at == NOON
    suppression = Suppression.objects.get(channel="sms", address=lead.phone)
    assert suppression.reason == Suppression.Reason.CONFIRMED_STOP
    assert suppression.detail == "Alex Rivera: “not interested”"
    assert OptOutQuestion.objects.get().answer == "stop"
    task = lead.tasks.get(kind=Task.Kind.REPLY)
    assert (task.status, task.outcome) == ("done", "They asked to stop")
    assert not Alert.objects.filter(lead=lead, closed_at=None).exists()
    assert lead.events.filter(kind=LeadEvent.Kind.OPTED_OUT).count() == 1
    with pytest.raises(MessageBlocked) as blocked:
        one_off(lead, alex, confirmed_not_stop=True)
    assert blocked.value.reason == "Dana opted out of texts on May 4"


def test_they_did_not_clears_the_question_and_keeps_automation_paused(lead, alex):
    text_receive(from_number=lead.phone, body="who is this?")
    assert opt_out_confirm(lead, asked_to_stop=False, actor=alex) == 1
    assert OptOutQuestion.objects.get().answer == "not_stop"
    task = lead.tasks.get(kind=Task.Kind.REPLY)
    assert (task.status, task.title) == ("open", "Answer Dana Ruiz's text")
    assert not Alert.objects.filter(lead=lead, closed_at=None).exists()
    assert Enrollment.objects.get(lead=lead).status == Enrollment.Status.PAUSED
    assert lead.events.get(kind=LeadEvent.Kind.NOTE).summary == (
        "Alex Rivera confirmed “who is this?” did not ask to stop"
    )
    assert one_off(lead, alex).status == Message.Status.QUEUED


def test_a_stop_after_an_ambiguous_text_answers_the_question(lead):
    text_receive(from_number=lead.phone, body="not interested")
    text_receive(from_number=lead.phone, body="STOP")
    assert OptOutQuestion.objects.get().answer == "stop"
    assert lead.tasks.get(kind=Task.Kind.REPLY).status == Task.Status.DONE

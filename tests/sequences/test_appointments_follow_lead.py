"""A lead's booked appointments follow the lead: reassigned, claimed or given away at fallback,
its future appointments go to the new owner (the previous agent no longer gets the reminder with
the lead's phone, nor the calendar event), and the lead's reminder names the new agent without
an extra message; a lead marked lost has its future appointments cancelled, silently."""

from datetime import datetime, timedelta

import pytest

from alerts.services import alerts_escalate
from leads.models import BulkJob, Lead, LeadEvent
from realtycrm.flows import bulk as bulk_flow
from realtycrm.flows.appointments import appointment_book
from realtycrm.flows.contacts import lead_claim, lead_reassign, stage_change
from sequences.models import Appointment, Message
from sequences.selectors import calendar_feed_items
from sequences.services.appointments import appointment_messages
from tests.factories import (
    AgentFactory,
    AppointmentFactory,
    AssignmentRuleFactory,
    BulkJobFactory,
    ClaimOfferFactory,
    LeadFactory,
)
from tests.moments import NEW_YORK, NOON

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

WEDNESDAY_10 = datetime(2026, 5, 6, 10, 0, tzinfo=NEW_YORK)  # the clock: Monday noon
ALEX_PHONE, SAM_PHONE = "+14135550102", "+14135550103"


@pytest.fixture
def lead(alex):
    return LeadFactory(
        owner=alex,
        first_name="Dana",
        email="dana@example.com",
        phone="+14135550187",
        stage=Lead.Stage.ENGAGED,
        texting=True,
    )


def book(lead, actor, *, starts_at=WEDNESDAY_10):
    return appointment_book(
        lead,
        kind="showing",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone="America/New_York",
        place="48 Harbor View Drive",
        actor=actor,
    )


def queued(appointment) -> dict[str, Message]:
    """The appointment's messages still to go, by 'what:audience:channel'."""
    return {
        message.idempotency_key.split(":", 3)[3]: message
        for message in appointment_messages(appointment).filter(status=Message.Status.QUEUED)
    }


def told_the_confirmation(appointment):
    appointment_messages(appointment).filter(idempotency_key__contains=":confirmation:").update(
        status=Message.Status.SENT, sent_at=NOON
    )


def feed(user):
    return calendar_feed_items(user, since=NOON, until=NOON + timedelta(days=30))[0]


# --- Reassigned ---------------------------------------------------------------------------------


def test_a_reassigned_leads_appointment_goes_to_the_new_owner(lead, alex, sam, broker):
    appointment = book(lead, alex)
    told_the_confirmation(appointment)

    assert lead_reassign(lead, sam, actor=broker)

    appointment.refresh_from_db()
    assert (appointment.agent, appointment.sequence) == (sam, 1)  # the calendar's SEQUENCE
    left = queued(appointment)
    # Alex is no longer reminded (with the lead's phone); Sam is, on his phone.
    assert not Message.objects.filter(to=ALEX_PHONE, status=Message.Status.QUEUED).exists()
    assert left["reminder:agent:sms"].to == SAM_PHONE
    assert appointment.agent_reminder_at == left["reminder:agent:sms"].scheduled_for
    # The lead was told Alex's name and phone: their reminder, when it goes, names Sam instead,
    # and nothing else is sent to them (no "moved", no second confirmation).
    assert set(left) == {"reminder:agent:sms", "reminder:lead:sms", "reminder:lead:email"}
    for key in ("reminder:lead:sms", "reminder:lead:email"):
        assert "Sam Chen" in left[key].body and "Alex" not in left[key].body
        assert "(413) 555-0103" in left[key].body
    # The calendar event leaves Alex's feed for Sam's.
    assert feed(alex) == [] and feed(sam) == [appointment]
    event = lead.events.filter(kind=LeadEvent.Kind.APPOINTMENT).latest("id")
    assert event.summary == "Showing on Wed, May 6, 10:00 a.m. to 11:00 a.m. is now with Sam Chen"


def test_a_confirmation_still_waiting_goes_naming_the_new_agent(lead, alex, sam, broker):
    """Nothing reached the lead yet (a text held for quiet hours, a worker not yet there): the
    confirmation they get names Sam, once."""
    appointment = book(lead, alex)

    lead_reassign(lead, sam, actor=broker)

    left = queued(appointment)
    assert {"confirmation:lead:sms", "confirmation:lead:email"} <= set(left)
    assert "Sam Chen" in left["confirmation:lead:sms"].body
    assert appointment_messages(appointment).filter(audience="lead").count() == 4 + 4
    assert (
        appointment_messages(appointment)
        .filter(audience="lead", status=Message.Status.QUEUED)
        .count()
        == 4
    )


def test_past_appointments_keep_their_agent(lead, alex, sam, broker):
    past = AppointmentFactory(
        lead=lead, agent=alex, starts_at=NOON - timedelta(days=3), status="done"
    )
    missed = AppointmentFactory(lead=lead, agent=alex, starts_at=NOON - timedelta(hours=2))
    cancelled = AppointmentFactory(
        lead=lead, agent=alex, starts_at=NOON + timedelta(days=3), status="cancelled"
    )

    lead_reassign(lead, sam, actor=broker)

    for appointment in (past, missed, cancelled):
        appointment.refresh_from_db()
        assert (appointment.agent, appointment.sequence) == (alex, 0)


def test_a_bulk_reassign_moves_the_appointments_of_every_lead(alex, sam, settings):
    settings.BULK_CHUNK_SIZE = 100
    leads = [LeadFactory(owner=alex, phone="", email=f"p{n}@example.com") for n in range(3)]
    appointments = [
        book(lead, alex, starts_at=WEDNESDAY_10 + timedelta(hours=n))
        for n, lead in enumerate(leads)
    ]
    job = BulkJobFactory(
        created_by=AgentFactory(broker=True).user,
        action=BulkJob.Action.REASSIGN,
        params={"owner": sam.pk, "label": "Reassign to Sam Chen"},
        lead_ids=[lead.pk for lead in leads],
        total=3,
    )

    bulk_flow.bulk_job_work(job.pk)

    for appointment in appointments:
        appointment.refresh_from_db()
        assert (appointment.agent, appointment.sequence) == (sam, 1)
        assert queued(appointment)["reminder:agent:sms"].to == SAM_PHONE
    assert feed(alex) == [] and len(feed(sam)) == 3
    assert not Message.objects.filter(to=ALEX_PHONE, status=Message.Status.QUEUED).exists()


def test_a_claimed_leads_appointment_goes_to_whoever_claims_it(alex, sam, broker):
    lead = LeadFactory(owner=None, phone="", email="dana@example.com")
    appointment = book(lead, broker)  # booked by the broker while nobody owned it
    ClaimOfferFactory(lead=lead, agent=sam)

    assert lead_claim(lead, agent=sam)

    appointment.refresh_from_db()
    assert appointment.agent == sam
    assert queued(appointment)["reminder:agent:sms"].to == SAM_PHONE


def test_an_unclaimed_leads_appointment_goes_to_the_fallback(alex, sam, broker):
    rule = AssignmentRuleFactory(policy="first_to_claim", fallback=sam, claim_minutes=5)
    lead = LeadFactory(owner=None, phone="", email="dana@example.com")
    appointment = book(lead, broker)
    ClaimOfferFactory(lead=lead, agent=alex, rule=rule, created_at=NOON - timedelta(minutes=6))

    assert alerts_escalate()["claim_fallback"] == 1

    appointment.refresh_from_db()
    assert appointment.agent == sam
    assert queued(appointment)["reminder:agent:sms"].to == SAM_PHONE


# --- Lost, closed --------------------------------------------------------------------------------


def test_a_lead_marked_lost_has_its_future_appointments_cancelled_silently(lead, alex):
    appointment = book(lead, alex)
    told_the_confirmation(appointment)
    past = AppointmentFactory(lead=lead, agent=alex, starts_at=NOON - timedelta(hours=3))

    assert stage_change(lead, Lead.Stage.LOST, actor=alex)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert queued(appointment) == {}  # no reminder, to the lead or to Alex
    # The lead is not told: nothing about a cancellation was written for them.
    assert not appointment_messages(appointment).filter(idempotency_key__contains="cancelled")
    event = lead.events.filter(kind=LeadEvent.Kind.APPOINTMENT).latest("id")
    assert event.summary == (
        "Showing cancelled (was Wed, May 6, 10:00 a.m. to 11:00 a.m.): the lead was marked lost"
    )
    past.refresh_from_db()
    assert past.status == Appointment.Status.BOOKED  # history: its agent closes it


def test_a_bulk_move_to_lost_cancels_the_appointments(alex, settings):
    settings.BULK_CHUNK_SIZE = 100
    leads = [LeadFactory(owner=alex, phone="", email=f"p{n}@example.com") for n in range(3)]
    appointments = [book(lead, alex) for lead in leads]
    job = BulkJobFactory(
        created_by=alex,
        action=BulkJob.Action.STAGE,
        params={"stage": "lost", "label": "Move to Lost"},
        lead_ids=[lead.pk for lead in leads],
        total=3,
    )

    bulk_flow.bulk_job_work(job.pk)

    for appointment in appointments:
        appointment.refresh_from_db()
        assert appointment.status == Appointment.Status.CANCELLED
        assert queued(appointment) == {}


@pytest.mark.parametrize("stage", [Lead.Stage.CLOSED, Lead.Stage.CLIENT, Lead.Stage.CONTACTED])
def test_a_closed_deal_keeps_its_appointments(lead, alex, stage):
    """A won deal's closing, a client's next showing: they stay booked, with their reminders."""
    appointment = book(lead, alex)
    stage_change(lead, stage, actor=alex)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert "reminder:lead:sms" in queued(appointment)

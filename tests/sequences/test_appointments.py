"""Booking an appointment: the stage and its date, the lead's confirmation and reminders (with
consent, out of quiet hours), the agent's reminder; a move or a cancellation replaces what was
queued, and nothing is sent twice. And an agent's own follow-up tasks."""

from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from leads.models import Lead, LeadEvent
from realtycrm.flows.appointments import appointment_book, appointment_done
from realtycrm.flows.contacts import contact_log
from sequences.models import Appointment, Enrollment, Message, Task
from sequences.outbox import messages_dispatch_due
from sequences.services.agent_tasks import task_follow_up_create
from sequences.services.appointments import (
    AppointmentClosed,
    appointment_cancel,
    appointment_close,
    appointment_create,
    appointment_messages,
    appointment_reschedule,
)
from sequences.services.suppressions import address_suppress
from tests.factories import EnrollmentFactory, LeadFactory, TrackFactory
from tests.moments import NEW_YORK, NOON

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

# Monday 4 May 2026 at noon (the clock); the showing is on Wednesday morning.
WEDNESDAY_10 = datetime(2026, 5, 6, 10, 0, tzinfo=NEW_YORK)


@pytest.fixture
def lead(alex):
    return LeadFactory(
        owner=alex,
        first_name="Dana",
        last_name="Whitfield",
        email="dana@example.com",
        phone="+14135550187",  # Massachusetts: quiet hours 21:00-08:00 Eastern
        stage=Lead.Stage.ENGAGED,
        texting=True,
        property_address="48 Harbor View Drive",
    )


def book(lead, actor, *, starts_at=WEDNESDAY_10, minutes=60, kind="showing", **kwargs):
    return appointment_book(
        lead,
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        time_zone="America/New_York",
        place=kwargs.pop("place", "48 Harbor View Drive"),
        actor=actor,
        **kwargs,
    )


def queued(appointment, **filters):
    return {
        message.idempotency_key.split(":", 3)[3]: message
        for message in appointment_messages(appointment).filter(**filters)
    }


# --- Booking: the stage, the date, the timeline ------------------------------------------------


def test_booking_moves_the_lead_to_appointment_and_records_the_date(lead, alex):
    EnrollmentFactory(lead=lead, track=TrackFactory(key="warm_seller"))
    appointment = book(lead, alex)

    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.APPOINTMENT
    assert lead.appointment_at == NOON  # the funnel milestone: when it was reached
    assert (appointment.starts_at, appointment.status) == (WEDNESDAY_10, "booked")
    assert appointment.agent == alex and appointment.created_by == alex
    kinds = list(lead.events.order_by("occurred_at", "id").values_list("kind", "summary"))
    assert (
        "appointment",
        "Showing booked: Wed, May 6, 10:00 a.m. to 11:00 a.m., at 48 Harbor View Drive",
    ) in kinds
    assert ("stage_changed", "Engaged → Appointment: Showing booked") in kinds
    event = lead.events.get(kind=LeadEvent.Kind.APPOINTMENT)
    assert event.data["appointment"] == appointment.pk and event.actor == alex
    # A person has the lead now: its automation stops, as for a stage set by hand.
    assert not Enrollment.objects.filter(lead=lead, status__in=Enrollment.OPEN).exists()


def test_the_timeline_says_the_time_as_the_brokerage_writes_it(lead, alex):
    book(lead, alex, starts_at=WEDNESDAY_10.replace(hour=14, minute=30), minutes=45)
    event = lead.events.get(kind=LeadEvent.Kind.APPOINTMENT)
    assert event.summary == (
        "Showing booked: Wed, May 6, 2:30 p.m. to 3:15 p.m., at 48 Harbor View Drive"
    )


def test_an_agent_elsewhere_is_told_in_their_own_zone_with_its_name(lead, alex):
    appointment_book(
        lead,
        kind="listing_presentation",
        starts_at=WEDNESDAY_10,
        ends_at=WEDNESDAY_10 + timedelta(hours=1),
        time_zone="America/Los_Angeles",
        actor=alex,
    )
    event = lead.events.get(kind=LeadEvent.Kind.APPOINTMENT)
    assert event.summary == "Listing presentation booked: Wed, May 6, 7:00 a.m. PDT to 8:00 a.m."


def test_a_client_booking_another_showing_stays_a_client(lead, alex):
    lead.stage = Lead.Stage.CLIENT
    lead.save()
    book(lead, alex)
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.CLIENT
    assert not lead.events.filter(kind=LeadEvent.Kind.STAGE_CHANGED).exists()


def test_booking_the_same_form_twice_books_once(lead, alex):
    first = book(lead, alex, booking_key="book:1:abc")
    second = book(lead, alex, booking_key="book:1:abc")
    assert first.pk == second.pk
    assert Appointment.objects.count() == 1
    assert lead.events.filter(kind=LeadEvent.Kind.APPOINTMENT).count() == 1
    assert appointment_messages(first).count() == 5  # each message once


# --- What is sent, and when --------------------------------------------------------------------


def test_the_lead_is_confirmed_at_once_and_reminded_the_day_before(lead, alex):
    appointment = book(lead, alex)
    messages = queued(appointment)
    assert set(messages) == {
        "confirmation:lead:email",
        "confirmation:lead:sms",
        "reminder:lead:email",
        "reminder:lead:sms",
        "reminder:agent:sms",
    }
    assert {m.scheduled_for for k, m in messages.items() if k.startswith("confirmation")} == {NOON}
    day_before = WEDNESDAY_10 - timedelta(days=1)
    assert messages["reminder:lead:email"].scheduled_for == day_before
    assert messages["reminder:lead:sms"].scheduled_for == day_before
    assert all(m.purpose == Message.Purpose.APPOINTMENT for m in messages.values())
    email = messages["confirmation:lead:email"]
    assert email.subject == "Your showing with Alex Rivera: Wed, May 6, 10:00 a.m."
    assert "on Wed, May 6, 10:00 a.m. at 48 Harbor View Drive" in email.body
    assert "unsubscribe" in email.body.lower()  # every email to a lead has its footer
    text = messages["reminder:lead:sms"].body
    assert text.startswith("Hi Dana, a reminder from Alex Rivera at Harbor & Main Realty")
    assert "Wed, May 6, 10:00 a.m. at 48 Harbor View Drive" in text
    appointment.refresh_from_db()
    assert appointment.lead_reminder_at == day_before


def test_the_agent_is_reminded_an_hour_before_by_text(lead, alex, settings):
    appointment = book(lead, alex)
    reminder = queued(appointment)["reminder:agent:sms"]
    assert (reminder.audience, reminder.agent, reminder.to) == ("agent", alex, "+14135550102")
    assert reminder.scheduled_for == WEDNESDAY_10 - timedelta(minutes=60)
    assert reminder.body.startswith(
        "In 60 min: Showing with Dana Whitfield, 10:00 a.m. at 48 Harbor View Drive."
    )
    assert f"{settings.SITE_URL}/leads/{lead.pk}/" in reminder.body
    appointment.refresh_from_db()
    assert appointment.agent_reminder_at == WEDNESDAY_10 - timedelta(hours=1)


def test_the_reminder_minutes_are_a_setting_and_an_agent_without_a_phone_gets_an_email(
    lead, alex, settings
):
    settings.APPOINTMENT_AGENT_REMINDER_MINUTES = 30
    alex.agent.phone = ""
    alex.agent.save()
    messages = queued(book(lead, alex))
    assert "reminder:agent:sms" not in messages
    email = messages["reminder:agent:email"]
    assert email.to == alex.email
    assert email.scheduled_for == WEDNESDAY_10 - timedelta(minutes=30)
    assert (
        email.subject
        == "Reminder: Showing with Dana Whitfield, Wed, May 6, 10:00 a.m. to 11:00 a.m."
    )


def test_no_text_goes_to_a_lead_without_sms_consent(lead, alex):
    lead.sms_consent_at = None
    lead.save()
    messages = queued(book(lead, alex))
    assert sorted(messages) == [
        "confirmation:lead:email",
        "reminder:agent:sms",
        "reminder:lead:email",
    ]


def test_a_lead_who_unsubscribed_gets_no_email_and_one_without_address_nothing(lead, alex):
    lead.email_opted_out_at = NOON
    lead.save()
    assert sorted(queued(book(lead, alex))) == [
        "confirmation:lead:sms",
        "reminder:agent:sms",
        "reminder:lead:sms",
    ]
    other = LeadFactory(owner=alex, email="", phone="")
    assert sorted(queued(book(other, alex))) == ["reminder:agent:sms"]


def test_texts_to_the_lead_wait_out_quiet_hours(lead, alex, clock):
    # Booked at 22:00 for Wednesday 7:30: the confirmation text waits for 8:00 tomorrow, and
    # the day-before reminder (7:30 on Tuesday) for 8:00 on Tuesday; emails go when due.
    clock.move_to(datetime(2026, 5, 4, 22, 0, tzinfo=NEW_YORK))
    early = WEDNESDAY_10.replace(hour=7, minute=30)
    messages = queued(book(lead, alex, starts_at=early))
    assert messages["confirmation:lead:sms"].scheduled_for == datetime(
        2026, 5, 5, 8, 0, tzinfo=NEW_YORK
    )
    assert messages["confirmation:lead:email"].scheduled_for == datetime(
        2026, 5, 4, 22, 0, tzinfo=NEW_YORK
    )
    assert messages["reminder:lead:sms"].scheduled_for == datetime(
        2026, 5, 5, 8, 0, tzinfo=NEW_YORK
    )
    assert messages["reminder:lead:email"].scheduled_for == datetime(
        2026, 5, 5, 7, 30, tzinfo=NEW_YORK
    )
    # The agent's own reminder is internal: no quiet hours (6:30 on Wednesday).
    assert messages["reminder:agent:sms"].scheduled_for == early - timedelta(hours=1)


def test_a_text_quiet_hours_would_hold_past_the_start_is_not_written(lead, alex, clock):
    clock.move_to(datetime(2026, 5, 4, 23, 0, tzinfo=NEW_YORK))
    messages = queued(book(lead, alex, starts_at=datetime(2026, 5, 5, 7, 0, tzinfo=NEW_YORK)))
    # Tomorrow at 7:00: no day-before reminder (it would be now), no text before 8:00.
    assert sorted(messages) == ["confirmation:lead:email", "reminder:agent:sms"]


def test_booked_for_this_afternoon_no_reminder_for_the_lead_and_none_too_late(lead, alex):
    messages = queued(book(lead, alex, starts_at=NOON + timedelta(minutes=45)))
    assert sorted(messages) == ["confirmation:lead:email", "confirmation:lead:sms"]
    appointment = Appointment.objects.get()
    assert (appointment.agent_reminder_at, appointment.lead_reminder_at) == (None, None)


def test_reminders_are_sent_when_due_and_once(
    lead, alex, clock, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book(lead, alex)
    assert [m.to for m in mailoutbox] == [["dana@example.com"]]
    assert [t.to for t in sms_outbox] == [lead.phone]
    assert "Reply STOP to opt out." in sms_outbox[0].body  # the first text to the number

    clock.move_to(WEDNESDAY_10 - timedelta(days=1))
    assert messages_dispatch_due(requeue=False) == 2
    assert [m.to for m in mailoutbox] == [["dana@example.com"]] * 2
    assert mailoutbox[1].subject == "Reminder: your showing on Wed, May 6, 10:00 a.m."

    clock.move_to(WEDNESDAY_10 - timedelta(minutes=60))
    assert messages_dispatch_due(requeue=False) == 1
    assert sms_outbox[-1].to == "+14135550102"
    assert sms_outbox[-1].body.startswith("In 60 min: Showing with Dana Whitfield")
    assert messages_dispatch_due(requeue=False) == 0
    assert len(sms_outbox) == 3 and len(mailoutbox) == 2
    # Sent to the lead: on the lead's timeline, as every message is.
    assert lead.events.filter(kind=LeadEvent.Kind.MESSAGE_SENT).count() == 4


def test_a_stop_after_booking_stops_the_texts_but_not_the_emails(lead, alex, clock, mailoutbox):
    appointment = book(lead, alex)
    address_suppress("sms", lead.phone, reason="sms_stop")  # they texted STOP
    clock.move_to(WEDNESDAY_10 - timedelta(days=1))
    messages_dispatch_due(requeue=False)
    statuses = {k: m.status for k, m in queued(appointment).items()}
    assert statuses["reminder:lead:sms"] == "suppressed"
    assert statuses["reminder:lead:email"] == "sent"
    assert mailoutbox[-1].subject == "Reminder: your showing on Wed, May 6, 10:00 a.m."


# --- Moving and cancelling ---------------------------------------------------------------------


def test_moving_it_withdraws_the_old_reminders_and_queues_the_new(
    lead, alex, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(lead, alex)  # the confirmations go at once
    thursday = WEDNESDAY_10 + timedelta(days=1, hours=4)
    moved = appointment_reschedule(
        appointment, starts_at=thursday, ends_at=thursday + timedelta(hours=1), place="", actor=alex
    )
    assert moved is True
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.sequence, appointment.place) == (thursday, 1, "")
    old = queued(appointment, idempotency_key__startswith=f"appointment:{appointment.pk}:0:")
    assert {k: m.status for k, m in old.items()} == {
        "confirmation:lead:email": "sent",
        "confirmation:lead:sms": "sent",
        "reminder:lead:email": "suppressed",
        "reminder:lead:sms": "suppressed",
        "reminder:agent:sms": "suppressed",
    }
    assert old["reminder:lead:sms"].status_reason == "Appointment moved: replaced by the new time"
    new = queued(appointment, idempotency_key__startswith=f"appointment:{appointment.pk}:1:")
    assert set(new) == {
        "moved:lead:email",
        "moved:lead:sms",
        "reminder:lead:email",
        "reminder:lead:sms",
        "reminder:agent:sms",
    }
    assert new["reminder:lead:email"].scheduled_for == thursday - timedelta(days=1)
    assert new["reminder:agent:sms"].scheduled_for == thursday - timedelta(hours=1)
    assert "has changed. It is now Thu, May 7, 2:00 p.m. at the place we agreed" in (
        new["moved:lead:sms"].body
    )
    event = lead.events.filter(kind=LeadEvent.Kind.APPOINTMENT).first()
    assert event.summary == (
        "Showing moved to Thu, May 7, 2:00 p.m. to 3:00 p.m. "
        "(was Wed, May 6, 10:00 a.m. to 11:00 a.m.)"
    )


def test_moving_it_before_the_confirmation_reached_them_confirms_the_new_time(lead, alex, clock):
    clock.move_to(datetime(2026, 5, 4, 22, 0, tzinfo=NEW_YORK))  # the text waits for the morning
    appointment = book(lead, alex)
    later = WEDNESDAY_10 + timedelta(hours=2)
    appointment_reschedule(
        appointment, starts_at=later, ends_at=later + timedelta(hours=1), place="x", actor=alex
    )
    new = queued(appointment, idempotency_key__startswith=f"appointment:{appointment.pk}:1:")
    assert "confirmation:lead:sms" in new and "moved:lead:sms" not in new
    old = queued(appointment, idempotency_key__startswith=f"appointment:{appointment.pk}:0:")
    assert old["confirmation:lead:sms"].status == "suppressed"  # never sent, never will be


def test_moving_it_to_the_same_time_and_place_changes_nothing(lead, alex):
    appointment = book(lead, alex)
    same = appointment_reschedule(
        appointment,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        place=appointment.place,
        actor=alex,
    )
    assert same is False
    appointment.refresh_from_db()
    assert appointment.sequence == 0
    assert appointment_messages(appointment).filter(status="suppressed").count() == 0


def test_cancelling_withdraws_the_reminders_and_tells_the_lead_where_they_were_told(
    lead, alex, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    lead.sms_consent_at = None
    lead.save()
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(lead, alex)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment, actor=alex, reason="They sold privately")
    appointment.refresh_from_db()
    assert (appointment.status, appointment.sequence) == ("cancelled", 1)
    assert (appointment.agent_reminder_at, appointment.lead_reminder_at) == (None, None)
    statuses = {k: m.status for k, m in queued(appointment).items()}
    assert statuses == {
        "confirmation:lead:email": "sent",
        "reminder:lead:email": "suppressed",
        "reminder:agent:sms": "suppressed",
        "cancelled:lead:email": "sent",
    }
    assert mailoutbox[-1].subject == "Your showing on Wed, May 6, 10:00 a.m. is cancelled"
    assert sms_outbox == []
    event = lead.events.filter(kind=LeadEvent.Kind.APPOINTMENT).first()
    assert event.summary == (
        "Showing cancelled (was Wed, May 6, 10:00 a.m. to 11:00 a.m.): They sold privately"
    )


def test_cancelling_without_telling_the_lead_sends_nothing(lead, alex):
    appointment = book(lead, alex)
    appointment_cancel(appointment, actor=alex, notify_lead=False)
    assert not appointment_messages(appointment).filter(status="queued").exists()
    assert not appointment_messages(appointment).filter(idempotency_key__contains="cancelled")


def test_a_closed_appointment_cannot_be_moved_or_cancelled_again(lead, alex):
    appointment = book(lead, alex)
    appointment_cancel(appointment, actor=alex)
    with pytest.raises(AppointmentClosed, match=r"This showing is already cancelled\."):
        appointment_cancel(appointment, actor=alex)
    with pytest.raises(AppointmentClosed):
        appointment_reschedule(
            appointment, starts_at=NOON, ends_at=NOON + timedelta(hours=1), place="", actor=alex
        )


# --- How it went -------------------------------------------------------------------------------


def test_a_done_appointment_is_a_personal_meeting(lead, alex, clock):
    appointment = book(lead, alex)
    clock.move_to(WEDNESDAY_10 + timedelta(minutes=70))
    appointment_done(appointment, actor=alex)
    appointment.refresh_from_db()
    lead.refresh_from_db()
    assert appointment.status == "done"
    assert lead.last_personal_contact_at == WEDNESDAY_10
    contact = lead.events.get(kind=LeadEvent.Kind.PERSONAL_CONTACT)
    assert (contact.channel, contact.summary) == ("in_person", "In person: Showing")


def test_a_no_show_is_on_the_timeline_and_is_no_contact(lead, alex, clock):
    appointment = book(lead, alex)
    clock.move_to(WEDNESDAY_10 + timedelta(minutes=30))
    appointment_close(appointment, status="no_show", actor=alex)
    lead.refresh_from_db()
    assert lead.last_personal_contact_at is None
    event = lead.events.filter(kind=LeadEvent.Kind.APPOINTMENT).first()
    assert event.summary == (
        "No-show: Dana did not come to the showing (Wed, May 6, 10:00 a.m. to 11:00 a.m.)"
    )
    assert not appointment_messages(appointment).filter(status="queued").exists()


# --- Follow-ups --------------------------------------------------------------------------------


def test_an_agents_follow_up_is_their_task_once(lead, alex):
    tuesday = datetime(2026, 5, 5, 10, 0, tzinfo=NEW_YORK)
    first = task_follow_up_create(
        lead, actor=alex, kind="call", title="Call back Dana", due_at=tuesday, key="f:1"
    )
    again = task_follow_up_create(
        lead, actor=alex, kind="call", title="Call back Dana", due_at=tuesday, key="f:1"
    )
    assert first.pk == again.pk
    assert (first.agent, first.created_by, first.due_at, first.status) == (
        alex,
        alex,
        tuesday,
        "open",
    )


def test_a_contact_before_a_follow_up_is_due_leaves_it_open(lead, alex, clock):
    tuesday = datetime(2026, 5, 5, 10, 0, tzinfo=NEW_YORK)
    follow_up = task_follow_up_create(
        lead, actor=alex, kind="call", title="Call back Dana", due_at=tuesday
    )
    automated = Task.objects.create(
        lead=lead, agent=alex, kind="call", title="Call Dana", due_at=NOON
    )
    clock.move_to(NOON + timedelta(minutes=5))
    contact_log(lead, channel="sms", actor=alex, note="Sent the comps")
    follow_up.refresh_from_db()
    automated.refresh_from_db()
    assert (automated.status, follow_up.status) == ("done", "open")
    # Within the hour before it is due, a call does it.
    clock.move_to(tuesday - timedelta(minutes=20))
    contact_log(lead, channel="call", actor=alex)
    follow_up.refresh_from_db()
    assert follow_up.status == "done"


def test_a_booking_the_database_refuses_is_that_error_not_a_double_submit(lead, alex):
    """Only the booking key's own collision is a double submit; any other refusal (here the
    end-after-start check) is raised as it is, not as a missing appointment."""
    with pytest.raises(IntegrityError), transaction.atomic():
        appointment_create(
            lead,
            agent=alex,
            kind="showing",
            starts_at=WEDNESDAY_10,
            ends_at=WEDNESDAY_10,
            time_zone="America/New_York",
            booking_key="book:1:zero-length",
        )
    assert not Appointment.objects.exists()

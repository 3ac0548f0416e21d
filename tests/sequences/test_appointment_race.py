"""Two submits of one booking form at the same instant, and two changes of one appointment at
once: one appointment, one of each message, one change at a time (PostgreSQL)."""

from datetime import datetime, timedelta

import pytest

from leads.models import Lead, LeadEvent
from realtycrm.flows.appointments import appointment_book
from sequences.models import Appointment
from sequences.services.appointments import (
    AppointmentClosed,
    appointment_cancel,
    appointment_messages,
)
from tests.factories import LeadFactory
from tests.moments import NEW_YORK

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SOON = datetime(2030, 5, 6, 10, 0, tzinfo=NEW_YORK)  # in the future whenever this runs


def test_a_double_submit_at_the_same_instant_books_once(alex, run_together):
    lead = LeadFactory(owner=alex, texting=True, stage=Lead.Stage.CONTACTED)

    def book():
        return appointment_book(
            Lead.objects.get(pk=lead.pk),
            kind="showing",
            starts_at=SOON,
            ends_at=SOON + timedelta(hours=1),
            time_zone="America/New_York",
            actor=alex,
            booking_key="book:race",
        ).pk

    first, second = run_together(book, book)
    assert first == second
    appointment = Appointment.objects.get()
    assert appointment_messages(appointment).count() == 5
    assert lead.events.filter(kind=LeadEvent.Kind.APPOINTMENT).count() == 1
    assert lead.events.filter(kind=LeadEvent.Kind.STAGE_CHANGED).count() == 1


def test_two_cancels_at_once_cancel_once(alex, run_together):
    lead = LeadFactory(owner=alex, texting=True)
    appointment = appointment_book(
        lead,
        kind="showing",
        starts_at=SOON,
        ends_at=SOON + timedelta(hours=1),
        time_zone="America/New_York",
        actor=alex,
    )
    # The confirmations reached the lead, so a cancellation tells them.
    appointment_messages(appointment).filter(idempotency_key__contains="confirmation").update(
        status="sent"
    )

    def cancel():
        try:
            appointment_cancel(Appointment.objects.get(pk=appointment.pk), actor=alex)
        except AppointmentClosed:
            return "already"
        return "cancelled"

    assert sorted(run_together(cancel, cancel)) == ["already", "cancelled"]
    appointment.refresh_from_db()
    assert (appointment.status, appointment.sequence) == ("cancelled", 1)
    cancellations = appointment_messages(appointment).filter(
        idempotency_key__contains=":cancelled:"
    )
    assert sorted(cancellations.values_list("channel", flat=True)) == ["email", "sms"]
    assert lead.events.filter(kind=LeadEvent.Kind.APPOINTMENT).count() == 2  # booked, cancelled

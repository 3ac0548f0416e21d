"""An agent books an appointment with a lead, or records how it went.

    appointment_book   one transaction: the appointment, its timeline entry, the lead's
                       confirmation and reminders, the agent's reminder (sequences), then the
                       stage: a lead not yet at the appointment stage moves there through
                       stage_change, so the appointment_at milestone, the stage's timeline entry
                       and the end of its automation are the same as for a stage set by hand
    appointment_done   it happened: closed as done, and the meeting is a personal contact
                       (in person) through contact_log: the contact dates, the tasks it does,
                       the agent's alerts about the lead

Moving or cancelling one touches only the appointment and its messages:
sequences.services.appointments.appointment_reschedule / appointment_cancel.
"""

from django.db import transaction

from leads.models import Lead, LeadEvent
from sequences.models import Appointment
from sequences.services import appointments

from .contacts import contact_log, stage_change

# Booking moves a lead forward to the appointment stage from these (a lost lead that books is
# back in the funnel); a client or a closed lead booking another showing stays where it is.
BEFORE_APPOINTMENT = (Lead.Stage.NEW, Lead.Stage.CONTACTED, Lead.Stage.ENGAGED, Lead.Stage.LOST)


@transaction.atomic(savepoint=False)
def appointment_book(
    lead: Lead,
    *,
    kind: str,
    starts_at,
    ends_at,
    time_zone: str,
    place: str = "",
    notes: str = "",
    actor=None,
    agent=None,
    booking_key: str | None = None,
) -> Appointment:
    """Book it with `agent` (by default the lead's owner, else whoever books it) and move the
    lead to the appointment stage. Idempotent on `booking_key`: the same form booked twice
    (even at the same instant) is one appointment and one stage change."""
    appointment, created = appointments.appointment_create(
        lead,
        agent=agent or lead.owner or actor,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=time_zone,
        place=place,
        notes=notes,
        actor=actor,
        booking_key=booking_key,
    )
    if created and lead.stage in BEFORE_APPOINTMENT:
        stage_change(
            lead,
            Lead.Stage.APPOINTMENT,
            actor=actor,
            note=f"{appointment.get_kind_display()} booked",
        )
    return appointment


@transaction.atomic(savepoint=False)
def appointment_done(appointment: Appointment, *, actor) -> LeadEvent:
    """The agent met the lead: the appointment is done and the meeting is a personal contact
    (in person), at the time it began. Raises AppointmentClosed when it is not booked."""
    appointment = appointments.appointment_close(
        appointment, status=Appointment.Status.DONE, actor=actor
    )
    return contact_log(
        appointment.lead,
        channel=LeadEvent.Channel.IN_PERSON,
        actor=actor,
        note=appointment.get_kind_display(),
        occurred_at=min(appointment.starts_at, appointment.updated_at),
    )

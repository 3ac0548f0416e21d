import pytest
from django.utils import timezone

from leads.models import Lead, LeadEvent
from realtycrm.flows.contacts import contact_log, stage_change
from tests.factories import AgentFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_logging_a_call_sets_contact_dates_and_moves_a_new_lead_to_contacted():
    agent = AgentFactory()
    lead = LeadFactory(owner=agent.user)
    contact_log(lead, channel="call", actor=agent.user, note="Left a voicemail")
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.CONTACTED
    assert lead.first_personal_contact_at == lead.last_personal_contact_at is not None
    event = lead.events.get(kind=LeadEvent.Kind.PERSONAL_CONTACT)
    assert (event.summary, event.actor) == ("Call: Left a voicemail", agent.user)


def test_first_and_last_contact_come_from_the_timeline_in_any_order():
    lead = LeadFactory()
    later = timezone.now()
    earlier = later - timezone.timedelta(days=2)
    contact_log(lead, channel="sms", actor=None, occurred_at=later)
    contact_log(lead, channel="call", actor=None, occurred_at=earlier)
    lead.refresh_from_db()
    assert (lead.first_personal_contact_at, lead.last_personal_contact_at) == (earlier, later)


def test_jumping_to_appointment_counts_as_engaged_too_and_losing_keeps_the_milestones():
    lead = LeadFactory()
    assert stage_change(lead, Lead.Stage.APPOINTMENT) is True
    assert lead.engaged_at == lead.appointment_at is not None
    assert lead.client_at is None
    stage_change(lead, Lead.Stage.LOST, note="Chose another agent")
    lead.refresh_from_db()
    assert lead.stage == "lost"
    assert lead.appointment_at is not None
    assert stage_change(lead, Lead.Stage.LOST) is False
    summaries = list(lead.events.filter(kind="stage_changed").values_list("summary", flat=True))
    assert summaries == ["Appointment → Lost: Chose another agent", "New → Appointment"]

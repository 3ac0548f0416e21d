import pytest

from leads.models import LeadEvent
from leads.services import DuplicateContact, lead_add_note, lead_update_contact
from realtycrm.flows.contacts import lead_reassign
from tests.factories import AgentFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_reassigning_records_who_gave_it_to_whom_once():
    broker, alex, sam = AgentFactory(broker=True), AgentFactory(), AgentFactory()
    lead = LeadFactory(owner=alex.user)
    assert lead_reassign(lead, sam.user, actor=broker.user) is True
    assert lead_reassign(lead, sam.user, actor=broker.user) is False
    event = lead.events.get()
    assert event.summary == (
        f"Reassigned to {sam.user.get_full_name()} from {alex.user.get_full_name()}: "
        f"by {broker.user.get_full_name()}"
    )
    assert event.data == {
        "from": alex.user.pk,
        "to": sam.user.pk,
        "rule": None,
        "how": "reassigned",
    }


def test_a_new_phone_withdraws_the_sms_consent_given_for_the_old_one():
    lead = LeadFactory(texting=True, phone="+14135550100")
    changed = lead_update_contact(lead, actor=None, phone="+14135550999")
    assert changed == ["phone"]
    lead.refresh_from_db()
    assert (lead.phone, lead.sms_consent_at, lead.can_text) == ("+14135550999", None, False)
    event = lead.events.get(kind=LeadEvent.Kind.CONTACT_UPDATED)
    assert "SMS consent withdrawn" in event.summary
    assert event.data["changed"]["phone"] == ["+14135550100", "+14135550999"]


def test_an_unchanged_form_changes_nothing_and_records_nothing():
    lead = LeadFactory(texting=True)
    assert lead_update_contact(lead, actor=None, phone=lead.phone, email=lead.email) == []
    assert not lead.events.exists()
    lead.refresh_from_db()
    assert lead.can_text


def test_an_email_or_phone_another_lead_has_is_refused():
    other = LeadFactory()
    lead = LeadFactory()
    with pytest.raises(DuplicateContact) as raised:
        lead_update_contact(lead, actor=None, email=other.email.upper())
    assert raised.value.field == "email"
    with pytest.raises(DuplicateContact) as raised:
        lead_update_contact(lead, actor=None, phone=other.phone)
    assert raised.value.field == "phone"
    assert not lead.events.exists()


def test_only_contact_fields_can_be_updated():
    with pytest.raises(TypeError):
        lead_update_contact(LeadFactory(), actor=None, intent="hot")


def test_a_note_is_not_a_contact():
    agent = AgentFactory()
    lead = LeadFactory(owner=agent.user)
    lead_add_note(lead, actor=agent.user, text="Call after 6pm")
    lead.refresh_from_db()
    assert lead.last_personal_contact_at is None
    assert lead.events.get().summary == "Call after 6pm"

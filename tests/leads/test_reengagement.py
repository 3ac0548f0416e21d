"""Re-engagement is the arrival: a dormant contact who answers (a form, its campaign's link, a
reply to the text) becomes a reactivation lead, routed and alerted like any other, with its
history kept."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert
from leads import intake
from leads.models import Lead, LeadEvent
from leads.services import lead_record_contact
from realtycrm.flows.contacts import contact_log, stage_change
from realtycrm.flows.inbound import text_receive
from reports.selectors import Scope, report_leads
from sequences.campaigns import Criteria, audience, reactivation_link
from sequences.models import Enrollment, Message, Task
from tests.factories import AgentFactory, CampaignRecipientFactory, LeadEventFactory
from tests.helpers import post_intake
from tests.moments import NOON
from tests.reactivation import dormant_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
TODAY = Scope(date(2026, 5, 4), date(2026, 5, 4))


@pytest.fixture
def contact(alex):
    """Dana, a past client of Alex's from the old database, who can be texted."""
    return dormant_contact(
        owner=alex,
        first_name="Dana",
        last_name="Whitfield",
        email="dana@example.com",
        phone="+14135550142",
        texting=True,
        neighbourhood="Forest Park",
        last_personal_contact_at=timezone.now() - timedelta(days=900),
    )


@pytest.fixture
def recipient(contact):
    return CampaignRecipientFactory(lead=contact, campaign__name="Spring check-in")


@pytest.fixture
def answered(client, contact, recipient, django_capture_on_commit_callbacks):
    """Dana follows her link and says she is moving within 3 months."""

    def answered(**overrides):
        link = reactivation_link(contact.pk, recipient.campaign_id).removeprefix(
            "http://testserver"
        )
        _path, query = link.split("?")
        fields = {
            "first_name": "Dana",
            "last_name": "Whitfield",
            "email": "dana@example.com",
            "phone": "(413) 555-0142",
            "timeline": "within_3_months",
            "message": "Kids moved out; thinking of downsizing.",
            **overrides,
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = post_intake(client, "reactivation", query=query, **fields)
        assert response.status_code == 302
        contact.refresh_from_db()
        recipient.refresh_from_db()
        return contact

    return answered


def test_a_dormant_contact_who_answers_arrives_now_with_its_history(
    answered, contact, recipient, alex
):
    note = LeadEventFactory(lead=contact, kind="note", summary="Sold 12 Elm St in 2019")
    imported_at, last_contact = contact.imported_at, contact.last_personal_contact_at

    lead = answered()

    assert lead.dormant is False
    assert lead.created_at == NOON  # its arrival: speed to lead and the reports count from now
    assert (lead.imported_at, lead.last_personal_contact_at) == (imported_at, last_contact)
    assert (lead.relationship, lead.neighbourhood, lead.source) == (
        "past_client",
        "Forest Park",
        "reactivation",
    )
    assert lead.first_personal_contact_at is None
    assert lead.events.filter(pk=note.pk).exists()
    event = lead.events.get(kind=LeadEvent.Kind.REENGAGED)
    assert event.occurred_at == NOON
    assert "campaign “Spring check-in”" in event.summary
    assert event.data["campaign"] == recipient.campaign_id
    assert lead.message == "Kids moved out; thinking of downsizing."  # a blank, filled
    assert (recipient.reengaged_at, recipient.reengaged_intent) == (NOON, "hot")


def test_it_takes_the_timeline_it_gave_and_a_hot_one_interrupts_its_owner(
    answered, alex, mailoutbox, sms_outbox
):
    lead = answered(timeline="within_3_months")

    assert (lead.timeline, lead.intent) == ("within_3_months", "hot")  # taken, not proposed
    assert lead.owner == alex  # kept from the import
    assert not lead.events.filter(kind=LeadEvent.Kind.ASSIGNED).exists()
    alert = Alert.objects.get(lead=lead)
    assert (alert.agent, alert.reason) == (alex, Alert.Reason.HOT_LEAD)
    assert any(sms.to == "+14135550102" for sms in sms_outbox)  # Alex's phone


def test_it_enters_the_reactivation_track_with_the_reactivation_acknowledgment(
    answered, mailoutbox, sms_outbox
):
    lead = answered(timeline="within_3_months")
    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.track.key, enrollment.status) == ("reactivation", "active")
    assert lead.nurture_track.key == "reactivation"
    acks = Message.objects.filter(lead=lead, purpose=Message.Purpose.ACKNOWLEDGMENT)
    assert set(acks.values_list("channel", "status")) == {("sms", "sent"), ("email", "sent")}
    text = acks.get(channel="sms")
    assert text.body.startswith("Hi Dana, it's Alex Rivera at Harbor & Main Realty - good to hear")
    assert "Good to hear from you again, Dana" in [mail.subject for mail in mailoutbox]


def test_a_warm_answer_goes_to_the_owners_day(answered, alex):
    lead = answered(timeline="6_to_18_months")
    assert lead.intent == "warm"
    assert lead.nurture_track.key == "reactivation"
    alert = Alert.objects.get(lead=lead)
    assert alert.reason == Alert.Reason.WARM_OUTREACH


def test_an_owner_who_cannot_take_leads_now_is_replaced_by_the_rules(answered, alex, sam):
    alex.agent.paused = True
    alex.agent.save()
    lead = answered(timeline="within_3_months")
    assert lead.owner == sam
    event = lead.events.get(kind=LeadEvent.Kind.REASSIGNED)
    assert event.summary.startswith("Reassigned to Sam Chen from Alex Rivera")
    assert Alert.objects.get(lead=lead).agent == sam


def test_a_past_clients_closed_stage_starts_again_at_new(answered, contact):
    contact.stage = "closed"
    contact.save()
    lead = answered()
    assert lead.stage == "new"
    assert lead.nurture_track.key == "reactivation"  # not stopped by the old stage


def test_it_counts_in_the_segment_report_only_from_its_re_engagement(answered, contact, broker):
    contact.created_at = NOON  # imported today, even: a dormant contact is not in the report
    contact.save()
    assert contact not in report_leads(broker, TODAY)
    lead = answered()
    assert lead in report_leads(broker, TODAY)


def test_any_form_from_a_dormant_contact_re_engages_it(
    client, contact, recipient, django_capture_on_commit_callbacks
):
    """Dana found the valuation form by herself: matched by email, she re-engages, and the
    campaign that reached her last counts it."""
    with django_capture_on_commit_callbacks(execute=True):
        post_intake(
            client,
            "valuation",
            email="dana@example.com",
            phone="",
            first_name="Dana",
            last_name="Whitfield",
            timeline="3_to_6_months",
        )
    contact.refresh_from_db()
    recipient.refresh_from_db()
    assert Lead.objects.count() == 1
    assert (contact.dormant, contact.intent, contact.source) == (False, "hot", "reactivation")
    assert contact.property_address == "12 Elm Street, Springfield"
    assert recipient.reengaged_at is not None
    event = contact.events.get(kind="reengaged")
    assert "via the home valuation funnel form" in event.summary


def test_answering_again_later_is_a_re_inquiry(answered, client):
    lead = answered()
    answered(message="Also: we'd like to see a few condos.")
    lead.refresh_from_db()
    assert lead.events.filter(kind="reengaged").count() == 1
    assert lead.events.filter(kind="reinquiry").count() == 1


# --- A reply to the campaign's text ------------------------------------------------------------


@pytest.fixture
def reply(contact, recipient, django_capture_on_commit_callbacks):
    def reply(body):
        with django_capture_on_commit_callbacks(execute=True):
            kind = text_receive(from_number=contact.phone, body=body, provider_id="SMreply1")
        contact.refresh_from_db()
        recipient.refresh_from_db()
        return kind

    return reply


def test_a_reply_to_the_text_re_engages_with_the_timeline_it_states(
    reply, contact, recipient, alex
):
    assert reply("Yes! We're thinking of selling in the next 3 months") == "reply"
    assert (contact.dormant, contact.timeline, contact.intent) == (
        False,
        "within_3_months",
        "hot",
    )
    assert contact.created_at == NOON
    assert contact.owner == alex
    assert contact.stage == "engaged"
    assert contact.nurture_track.key == "reactivation"
    assert Alert.objects.get(lead=contact).reason == Alert.Reason.HOT_LEAD
    assert Task.objects.get(lead=contact, kind="reply").agent == alex
    assert contact.events.filter(kind="reply").count() == 1
    assert "by text (campaign “Spring check-in”)" in contact.events.get(kind="reengaged").summary
    assert recipient.reengaged_intent == "hot"


def test_a_reply_that_states_no_timeline_takes_the_sources_default(reply, contact, alex):
    reply("Hi Alex, good to hear from you. What are homes going for?")
    assert (contact.dormant, contact.timeline, contact.intent) == (False, "unknown", "warm")
    assert contact.nurture_track.key == "reactivation"
    enrollment = Enrollment.objects.get(lead=contact)
    assert enrollment.status == "active"  # not paused: its acknowledgment goes
    acks = Message.objects.filter(lead=contact, purpose="acknowledgment")
    assert set(acks.values_list("status", flat=True)) == {"sent"}
    reasons = set(Alert.objects.filter(lead=contact).values_list("reason", flat=True))
    assert reasons == {Alert.Reason.WARM_OUTREACH, Alert.Reason.REPLY}


def test_stop_from_a_dormant_contact_opts_out_and_does_not_re_engage(reply, contact):
    assert reply("STOP") == "revoke"
    assert contact.dormant is True
    assert contact.sms_opted_out_at is not None


def test_not_interested_does_not_re_engage(reply, contact):
    assert reply("Not interested, thanks") == "ambiguous"
    assert contact.dormant is True


def test_a_new_agent_in_the_brokerage_changes_nothing_for_a_kept_owner(answered, alex):
    AgentFactory()  # someone else the rules could pick
    assert answered().owner == alex


def test_an_agents_call_and_appointment_wake_a_dormant_contact(contact, alex):
    contact_log(contact, channel="call", actor=alex, note="Called: wants to list in spring")
    stage_change(contact, Lead.Stage.APPOINTMENT, actor=alex)
    contact.refresh_from_db()
    assert not contact.dormant
    assert contact.created_at == NOON - timedelta(days=365)  # its arrival stays the import's
    assert contact not in audience(Criteria())  # no campaign says "it's been a while" now
    woken = contact.events.filter(kind="note", data__woken__isnull=False)
    assert "No longer dormant: Alex" in woken.first().summary


def test_a_form_after_an_agents_work_keeps_the_stage_and_the_contact_dates(
    client, contact, alex, django_capture_on_commit_callbacks
):
    contact_log(contact, channel="call", actor=alex, note="Called: wants to list in spring")
    stage_change(contact, Lead.Stage.APPOINTMENT, actor=alex)
    contact.refresh_from_db()
    first_contact = contact.first_personal_contact_at
    with django_capture_on_commit_callbacks(execute=True):
        response = post_intake(
            client, "valuation", email="dana@example.com", phone="(413) 555-0142"
        )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.stage == "appointment"
    assert contact.first_personal_contact_at == first_contact


def test_re_engaging_a_worked_contact_never_resets_what_the_agent_did(contact, alex):
    """Even a contact still marked dormant keeps an agent's work (lead_reengage itself)."""
    lead_record_contact(contact, channel="call", actor=alex)  # below the flow: still dormant
    contact.refresh_from_db()
    contact.stage = "appointment"
    contact.save()
    first_contact = contact.first_personal_contact_at
    intake.lead_reengage(contact, {"timeline": "within_3_months"}, how="by form")
    contact.refresh_from_db()
    assert not contact.dormant
    assert (contact.stage, contact.first_personal_contact_at) == ("appointment", first_contact)


def test_what_a_contact_says_on_re_engaging_decides_over_a_recorded_timeline(
    client, alex, django_capture_on_commit_callbacks
):
    lead = dormant_contact(
        owner=alex, email="dana@example.com", phone="+14135550142", timeline="6_to_18_months"
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_intake(
            client,
            "valuation",
            email="dana@example.com",
            phone="(413) 555-0142",
            timeline="within_3_months",
        )
    lead.refresh_from_db()
    assert lead.intent == "hot"
    assert lead.timeline == "6_to_18_months"  # the recorded answer stays; the new one proposed
    assert Alert.objects.get(lead=lead).reason == Alert.Reason.HOT_LEAD


def test_re_engaging_through_another_form_is_acknowledged_for_that_form(
    client, alex, django_capture_on_commit_callbacks
):
    """The thank-you page of the valuation form promised comps: the email says the same."""
    dormant_contact(owner=alex, email="dana@example.com", phone="")
    with django_capture_on_commit_callbacks(execute=True):
        post_intake(
            client, "valuation", email="dana@example.com", phone="", timeline="3_to_6_months"
        )
    ack = Message.objects.get(lead__email="dana@example.com", purpose="acknowledgment")
    assert ack.subject.startswith("Your home's value")

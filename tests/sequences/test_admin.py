"""Brokers edit copy, preview it for a real lead, and see every message with its status."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from realtycrm.flows.appointments import appointment_book
from sequences.models import Appointment, Message, Template, Track
from tests.factories import LeadFactory, MessageFactory
from tests.moments import NOON

pytestmark = pytest.mark.django_db


def test_a_template_with_an_unknown_placeholder_is_refused_with_the_reason(broker_client):
    template = Template.objects.get(key="ack_sms", variant="valuation")
    url = reverse("admin:sequences_template_change", args=[template.pk])
    response = broker_client.post(
        url,
        {
            "key": "ack_sms",
            "variant": "valuation",
            "channel": "sms",
            "description": "",
            "subject": "",
            "body": "Hi {{ first_name }}, your home at {address} is worth a lot!",
        },
    )
    assert response.status_code == 200
    assert "Use single braces for placeholders" in response.content.decode()
    template.refresh_from_db()
    assert "{{" not in template.body


def test_the_preview_fills_a_template_for_the_chosen_lead(broker_client):
    lead = LeadFactory(first_name="Ada", property_address="12 Elm Street", source="valuation")
    template = Template.objects.get(key="ack_sms", variant="valuation")
    url = reverse("admin:sequences_template_preview", args=[template.pk])
    response = broker_client.get(url, {"q": "Ada", "lead": lead.pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Hi Ada, it&#x27;s our team at Harbor &amp; Main Realty." in page
    assert "12 Elm Street" in page
    assert "segment" in page


def test_the_preview_escapes_what_a_prospect_typed(broker_client):
    lead = LeadFactory(first_name="<script>alert(1)</script>")
    template = Template.objects.get(key="ack_sms", variant="")
    url = reverse("admin:sequences_template_preview", args=[template.pk])
    page = broker_client.get(url, {"lead": lead.pk}).content.decode()
    assert "<script>alert(1)</script>" not in page


def test_the_message_list_filters_by_status_channel_and_lead(
    broker_client, django_assert_max_num_queries
):
    lead = LeadFactory(texting=True, first_name="Filterme")
    MessageFactory(lead=lead, status="failed", status_reason="Gave up after 5 attempts")
    for n in range(10):
        MessageFactory(idempotency_key=f"other-{n}", status="sent")
    url = reverse("admin:sequences_message_changelist")
    with django_assert_max_num_queries(12):
        response = broker_client.get(url, {"status__exact": "failed", "channel__exact": "sms"})
    assert response.status_code == 200
    assert "Gave up after 5 attempts" in response.content.decode()
    by_lead = broker_client.get(url, {"lead__id__exact": lead.pk})
    assert by_lead.status_code == 200
    assert by_lead.context["cl"].result_count == 1


def test_the_track_page_lists_its_steps(broker_client, django_assert_max_num_queries):
    from sequences.models import Track

    track = Track.objects.get(key="buyer_search")  # 20 steps
    with django_assert_max_num_queries(12):
        response = broker_client.get(reverse("admin:sequences_track_change", args=[track.pk]))
    assert response.status_code == 200
    assert "task_call_hot" in response.content.decode()


def test_expired_and_failed_messages_are_on_one_screen_and_go_again_once(
    broker_client, clock, sms_outbox, django_capture_on_commit_callbacks
):
    lead = LeadFactory(texting=True, first_name="Outage")
    expired = MessageFactory(
        lead=lead,
        status="expired",
        attempts=50,
        status_reason="Could not be sent in 24 h of trying (50 attempts)",
        last_error="Twilio 503 error 20500: Service unavailable",
        retry_until=NOON,
    )
    MessageFactory(status="sent", idempotency_key="delivered", body="Already there")
    url = reverse("admin:sequences_undeliveredmessage_changelist")
    response = broker_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    page = response.content.decode()
    assert "Could not be sent in 24 h of trying" in page and "Service unavailable" in page
    with django_capture_on_commit_callbacks(execute=True):
        broker_client.post(url, {"action": "send_again", "_selected_action": [expired.pk]})
    with django_capture_on_commit_callbacks(execute=True):
        broker_client.post(url, {"action": "send_again", "_selected_action": [expired.pk]})
    expired.refresh_from_db()
    assert (expired.status, expired.attempts) == ("sent", 1)
    assert expired.retry_until > NOON  # a fresh horizon for the resend
    assert [sms.to for sms in sms_outbox] == [lead.phone]
    assert broker_client.get(url).context["cl"].result_count == 0


def test_an_agent_sees_and_resends_only_their_own_leads_undelivered_messages(client, alex, sam):
    alex.is_staff = True
    alex.save()
    alex.user_permissions.add(Permission.objects.get(codename="view_undeliveredmessage"))
    mine = MessageFactory(lead__owner=alex, status="expired")
    theirs = MessageFactory(lead__owner=sam, status="failed")
    client.force_login(alex)
    url = reverse("admin:sequences_undeliveredmessage_changelist")
    assert [m.pk for m in client.get(url).context["cl"].result_list] == [mine.pk]
    client.post(url, {"action": "send_again", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.status == "failed"


def test_deleting_a_track_that_routing_rules_use_is_refused_with_a_message(broker_client):
    track = Track.objects.get(key="long_term_local")
    response = broker_client.post(
        reverse("admin:sequences_track_delete", args=[track.pk]), {"post": "yes"}, follow=True
    )
    assert Track.objects.filter(pk=track.pk).exists()
    page = response.content.decode()
    assert "is not deleted: it is used by 2 routing rules" in page
    assert "Point those rules at another track" in page
    assert response.redirect_chain[-1][0] == reverse(
        "admin:sequences_track_change", args=[track.pk]
    )


def test_the_track_list_says_which_tracks_rules_use(broker_client):
    page = broker_client.get(reverse("admin:sequences_track_changelist")).content.decode()
    assert "Used by 2 routing rules" in page  # long_term_local: long-term and the catch-all
    assert "Used by 0 routing rules" in page  # the nurture cycle: only moves lead there
    track = Track.objects.get(key="nurture_cycle")
    page = broker_client.get(
        reverse("admin:sequences_track_change", args=[track.pk])
    ).content.decode()
    assert "No routing rule: no new lead enters this track except by a move." in page


def test_a_track_no_rule_uses_can_still_be_deleted(broker_client):
    track = Track.objects.create(key="spare", name="Spare")
    broker_client.post(reverse("admin:sequences_track_delete", args=[track.pk]), {"post": "yes"})
    assert not Track.objects.filter(pk=track.pk).exists()


def test_an_appointment_cannot_be_deleted_in_the_admin_so_its_reminders_never_go_orphaned(
    broker_client, broker
):
    """Deleting the row would leave its queued confirmation and reminders going out for an
    appointment nobody has: it is cancelled on the lead page instead, which withdraws them."""
    lead = LeadFactory(owner=broker, email="dana@example.com")
    starts = timezone.now() + timedelta(days=3)
    appointment = appointment_book(
        lead,
        kind="showing",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        time_zone="America/New_York",
        actor=broker,
    )
    delete_url = reverse("admin:sequences_appointment_delete", args=[appointment.pk])
    assert broker_client.get(delete_url).status_code == 403
    assert broker_client.post(delete_url, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:sequences_appointment_changelist")
    broker_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [appointment.pk], "post": "yes"},
    )
    assert Appointment.objects.filter(pk=appointment.pk).exists()
    assert Message.objects.filter(lead=lead, status=Message.Status.QUEUED).exists()


@pytest.mark.parametrize("typed", ["²", "١٢", "12"])
def test_a_lead_id_in_unicode_digits_shows_the_plain_preview(broker_client, typed):
    """str.isdigit() accepts "²" and Arabic-Indic digits, which int() refuses: not a 500."""
    template = Template.objects.get(key="ack_sms", variant="valuation")
    url = reverse("admin:sequences_template_preview", args=[template.pk])
    assert broker_client.get(url, {"lead": typed}).status_code == 200


def test_deleting_a_track_by_a_unicode_digit_id_is_not_a_500(broker_client):
    response = broker_client.get("/admin/sequences/track/%C2%B2/delete/")
    assert response.status_code == 302  # the admin's "does not exist" redirect

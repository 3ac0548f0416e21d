"""A reactivation campaign sends once per contact, through the outbox, as marketing: opt-outs
honoured, quiet hours and the per-number cap applied, every email with the postal address and
the unsubscribe link."""

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from leads.models import LeadEvent
from sequences.backends.events import DeliveryEvent, DeliveryKind
from sequences.campaigns import Criteria, audience, campaign_render, reactivation_link
from sequences.deliveries import delivery_apply
from sequences.models import CampaignRecipient, Message, ReactivationCampaign
from sequences.outbox import message_dispatch, messages_dispatch_due
from sequences.services.campaigns import campaign_send, campaign_send_batch
from sequences.services.suppressions import address_suppress
from tests.factories import MessageFactory, ReactivationCampaignFactory
from tests.helpers import post_intake
from tests.moments import NEW_YORK
from tests.reactivation import dormant_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def send(broker, django_capture_on_commit_callbacks):
    """Send a campaign the way the page does: the batches and the outbox's drain run after
    commit (django-q2 runs tasks synchronously in tests)."""

    def send(campaign):
        with django_capture_on_commit_callbacks(execute=True):
            count = campaign_send(campaign, actor=broker)
        campaign.refresh_from_db()
        return count

    return send


def test_the_smart_list_is_dormant_contacts_by_tag_owner_last_contact_and_relationship(alex, sam):
    long_ago = timezone.now() - timedelta(days=800)
    pool = dormant_contact(tags=["pool"], owner=alex, last_personal_contact_at=long_ago)
    dormant_contact(tags=["pool"], owner=sam, last_personal_contact_at=long_ago)  # other owner
    dormant_contact(tags=["vip"], owner=alex, last_personal_contact_at=long_ago)  # other tag
    recent = dormant_contact(tags=["pool"], owner=alex, last_personal_contact_at=timezone.now())
    never = dormant_contact(tags=["pool"], owner=alex, relationship="past_lead")
    awake = dormant_contact(tags=["pool"], owner=alex, dormant=False)  # re-engaged already

    two_years = (timezone.now() - timedelta(days=730)).date()
    by = Criteria(tag_ids=(pool.tags.get().pk,), owner_id=alex.pk)
    assert set(audience(by)) == {pool, recent, never}
    dated = Criteria(tag_ids=by.tag_ids, owner_id=alex.pk, last_contact_before=two_years)
    assert set(audience(dated)) == {pool, never}  # never contacted counts as "not since"
    past_clients = Criteria(
        tag_ids=by.tag_ids, owner_id=alex.pk, last_contact_before=two_years,
        relationship="past_client",
    )  # fmt: skip
    assert list(audience(past_clients)) == [pool]
    assert awake not in audience(Criteria())


def test_a_campaign_emails_every_contact_and_texts_those_with_consent(
    send, alex, mailoutbox, sms_outbox
):
    emailed = dormant_contact(owner=alex, first_name="Dana")
    texted = dormant_contact(owner=alex, first_name="Eli", texting=True)
    campaign = ReactivationCampaignFactory()

    assert send(campaign) == 2

    assert campaign.status == ReactivationCampaign.Status.SENT
    assert (campaign.emails_queued, campaign.texts_queued, campaign.skipped_count) == (2, 1, 0)
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([emailed.email, texted.email])
    assert [sms.to for sms in sms_outbox] == [texted.phone]
    messages = Message.objects.filter(purpose=Message.Purpose.CAMPAIGN)
    assert set(messages.values_list("status", flat=True)) == {"sent"}
    dana = next(mail for mail in mailoutbox if mail.to == [emailed.email])
    assert dana.subject == "It's been a while, Dana"
    assert "Hi Dana, it's Alex Rivera." in dana.body
    # On the contact's timeline, as history; no speed-to-lead clock starts for a dormant contact.
    emailed.refresh_from_db()
    assert emailed.first_automated_contact_at is None
    assert emailed.events.filter(kind=LeadEvent.Kind.MESSAGE_SENT).count() == 1
    assert emailed.dormant is True


def test_every_email_carries_the_postal_address_the_unsubscribe_link_and_a_personal_link(
    send, alex, mailoutbox
):
    contacts = [dormant_contact(owner=alex) for _ in range(3)]
    campaign = ReactivationCampaignFactory(sms_body="")
    send(campaign)
    assert len(mailoutbox) == 3
    links = set()
    for mail in mailoutbox:
        assert settings.BROKERAGE_ADDRESS in mail.body
        assert f"{settings.SITE_URL}/email/unsubscribe/" in mail.body
        assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        personal = [word for word in mail.body.split() if "/intake/reactivation/?r=" in word]
        assert len(personal) == 1
        links.add(personal[0])
    assert len(links) == len(contacts)  # one link per contact


def test_copy_that_forgets_the_link_still_carries_it(send, alex, mailoutbox):
    dormant_contact(owner=alex)
    send(ReactivationCampaignFactory(email_body="Hi {first_name}, it's been a while!"))
    assert "Tell us what has changed: http://testserver/intake/reactivation/?r=" in (
        mailoutbox[0].body
    )


def test_sending_twice_sends_nothing_new(send, alex, mailoutbox, sms_outbox):
    dormant_contact(owner=alex, texting=True)
    dormant_contact(owner=alex)
    campaign = ReactivationCampaignFactory()
    assert send(campaign) == 2
    sent = (len(mailoutbox), len(sms_outbox), Message.objects.count())

    assert send(campaign) == 0  # the page's second click, another broker, a retried request
    assert campaign_send_batch(campaign.pk) == 0  # a batch task delivered twice
    dormant_contact(owner=alex)  # a contact imported since: the list was fixed when sent
    assert send(campaign) == 0

    assert (len(mailoutbox), len(sms_outbox), Message.objects.count()) == sent
    assert campaign.recipients.count() == 2


def test_a_recipient_whose_batch_runs_again_is_not_queued_twice(alex, mailoutbox):
    """Even with the recipient rows reset by hand, the messages' keys name campaign, lead and
    channel: the outbox keeps one message each."""
    dormant_contact(owner=alex)
    campaign = ReactivationCampaignFactory()
    campaign_send(campaign, actor=None)
    campaign_send_batch(campaign.pk)
    CampaignRecipient.objects.update(status=CampaignRecipient.Status.PENDING)
    ReactivationCampaign.objects.update(status=ReactivationCampaign.Status.SENDING)
    campaign_send_batch(campaign.pk)
    assert Message.objects.filter(purpose=Message.Purpose.CAMPAIGN).count() == 1


def test_batches_take_a_few_contacts_at_a_time_and_show_progress(alex, settings):
    settings.REACTIVATION_BATCH_SIZE = 2
    for _ in range(5):
        dormant_contact(owner=alex)
    campaign = ReactivationCampaignFactory(sms_body="")
    campaign_send(campaign, actor=None)  # no commit in this test: each batch is run by hand

    assert campaign_send_batch(campaign.pk) == 2
    campaign.refresh_from_db()
    assert (campaign.status, campaign.processed_count, campaign.recipient_count) == (
        "sending",
        2,
        5,
    )
    assert campaign_send_batch(campaign.pk) == 2
    assert campaign_send_batch(campaign.pk) == 1
    campaign.refresh_from_db()
    assert (campaign.status, campaign.processed_count, campaign.emails_queued) == ("sent", 5, 5)
    assert campaign_send_batch(campaign.pk) == 0


def test_opted_out_and_unsubscribed_contacts_get_nothing_and_say_why(
    send, alex, mailoutbox, sms_outbox
):
    unsubscribed = dormant_contact(owner=alex, first_name="Una")
    address_suppress("email", unsubscribed.email, reason="unsubscribe")
    bounced = dormant_contact(owner=alex, first_name="Bo")
    address_suppress("email", bounced.email, reason="bounce")
    stopped = dormant_contact(owner=alex, first_name="Sid", texting=True, email="")
    address_suppress("sms", stopped.phone, reason="sms_stop")
    no_email_no_consent = dormant_contact(owner=alex, email="")
    # Unsubscribed from email, still happy to get texts: the text goes.
    texts_only = dormant_contact(owner=alex, texting=True)
    address_suppress("email", texts_only.email, reason="unsubscribe")
    campaign = ReactivationCampaignFactory()

    send(campaign)

    skipped = {
        r.lead_id: r.skip_reason
        for r in campaign.recipients.filter(status=CampaignRecipient.Status.SKIPPED)
    }
    assert set(skipped) == {unsubscribed.pk, bounced.pk, stopped.pk, no_email_no_consent.pk}
    assert skipped[unsubscribed.pk].startswith("Una unsubscribed from email on")
    assert skipped[bounced.pk].startswith(f"Email to {bounced.email} bounced on")
    assert "Sid opted out of texts on" in skipped[stopped.pk]
    assert skipped[no_email_no_consent.pk] == "No email address; No SMS consent on record"
    assert mailoutbox == []
    assert [sms.to for sms in sms_outbox] == [texts_only.phone]
    assert campaign.skipped_count == 4


def test_an_opt_out_after_queueing_is_still_honoured_by_the_outbox(alex, sms_outbox):
    """The campaign writes the text; a STOP arrives before the worker sends it."""
    lead = dormant_contact(owner=alex, texting=True, email="")
    campaign = ReactivationCampaignFactory()
    campaign_send(campaign, actor=None)
    campaign_send_batch(campaign.pk)  # queued, not dispatched (no commit)
    address_suppress("sms", lead.phone, reason="sms_stop")
    messages_dispatch_due(requeue=False)
    text = Message.objects.get(purpose=Message.Purpose.CAMPAIGN)
    assert text.status == Message.Status.SUPPRESSED
    assert sms_outbox == []


def test_texts_wait_for_the_end_of_quiet_hours_emails_do_not(
    send, alex, clock, mailoutbox, sms_outbox
):
    clock.move_to(datetime(2026, 5, 4, 22, 30, tzinfo=NEW_YORK))  # 22:30 in Springfield, MA
    lead = dormant_contact(owner=alex, texting=True, phone="+14135550177")
    send(ReactivationCampaignFactory())

    email = Message.objects.get(purpose=Message.Purpose.CAMPAIGN, channel="email")
    text = Message.objects.get(purpose=Message.Purpose.CAMPAIGN, channel="sms")
    assert email.status == Message.Status.SENT
    assert [mail.to for mail in mailoutbox] == [[lead.email]]
    assert (text.status, sms_outbox) == (Message.Status.QUEUED, [])
    assert text.scheduled_for == datetime(2026, 5, 5, 8, 0, tzinfo=NEW_YORK)
    assert text.status_reason.startswith("Quiet hours where the recipient is")


def test_texts_over_the_per_number_cap_wait_for_room(send, alex, sms_outbox, settings):
    lead = dormant_contact(owner=alex, texting=True)
    earlier = timezone.now() - timedelta(hours=2)
    for n in range(settings.SMS_CAP_PER_NUMBER):
        MessageFactory(
            lead=lead,
            to=lead.phone,
            status=Message.Status.SENT,
            sent_at=earlier,
            claimed_at=earlier + timedelta(minutes=n),
            idempotency_key=f"earlier-{n}",
        )
    send(ReactivationCampaignFactory())

    text = Message.objects.get(purpose=Message.Purpose.CAMPAIGN, channel="sms")
    assert text.status == Message.Status.QUEUED
    assert text.scheduled_for == earlier + timedelta(hours=24)
    assert "24-hour cap" in text.status_reason
    assert sms_outbox == []


def test_a_campaign_text_counts_toward_the_cap_of_later_automated_texts(send, alex, settings):
    settings.SMS_CAP_PER_NUMBER = 1
    lead = dormant_contact(owner=alex, texting=True)
    send(ReactivationCampaignFactory())
    assert Message.objects.get(purpose="campaign", channel="sms").status == "sent"
    nurture = MessageFactory(lead=lead, to=lead.phone, purpose="nurture")
    assert message_dispatch(nurture.pk) == "deferred"


def test_the_first_campaign_text_to_a_number_says_how_to_opt_out(send, alex, sms_outbox):
    dormant_contact(owner=alex, texting=True)
    send(ReactivationCampaignFactory())
    assert sms_outbox[0].body.endswith("Reply STOP to opt out.")
    assert "/intake/reactivation/?r=" in sms_outbox[0].body


def test_a_delivered_receipt_is_recorded_in_no_providers_words(alex):
    """The report counts delivered messages by Message.delivered_at, which a DELIVERED event
    sets whichever provider reported it; a later status does not move it."""
    lead = dormant_contact(owner=alex, texting=True)
    text = MessageFactory(
        lead=lead, purpose="campaign", status="sent", sent_at=timezone.now(), provider_id="SMd1"
    )
    delivery_apply(
        DeliveryEvent(kind=DeliveryKind.DELIVERED, provider_id="SMd1", status="delivered"),
        text,
        channel="sms",
    )
    text.refresh_from_db()
    assert (text.delivery_status, text.delivered_at) == ("delivered", timezone.now())
    delivery_apply(DeliveryEvent(kind=DeliveryKind.OPENED, status="read"), text, channel="sms")
    text.refresh_from_db()
    assert text.delivered_at == timezone.now()


def test_a_link_opening_a_line_is_written_as_it_is(alex):
    """Placeholders opening a sentence are capitalised ("our team" → "Our team"); a link or an
    address is not ("Http://…" is no link in some mail clients)."""
    lead = dormant_contact(owner=alex, first_name="dana")
    campaign = ReactivationCampaignFactory(
        email_body="{first_name}, hello.\n\n{reactivation_link}\n\n{agent_email}"
    )
    body = campaign_render(campaign, lead).email.body
    assert body.startswith("Dana, hello.\n\nhttp://testserver/intake/reactivation/?r=")
    assert body.endswith("\n\nalex@agents.example")


def test_a_text_held_by_quiet_hours_is_dropped_when_the_contact_re_engages_meanwhile(
    client, send, alex, clock, sms_outbox, django_capture_on_commit_callbacks
):
    clock.move_to(datetime(2026, 5, 4, 22, 30, tzinfo=NEW_YORK))
    lead = dormant_contact(owner=alex, texting=True, phone="+14135550177", email="dana@example.com")
    campaign = ReactivationCampaignFactory()
    send(campaign)
    text = Message.objects.get(purpose="campaign", channel="sms")
    assert text.status == "queued"  # held until 08:00
    clock.move_to(datetime(2026, 5, 4, 22, 40, tzinfo=NEW_YORK))  # Dana answers the email
    query = reactivation_link(lead.pk, campaign.pk).split("?", 1)[1]
    with django_capture_on_commit_callbacks(execute=True):
        post_intake(
            client,
            "reactivation",
            query=query,
            email="dana@example.com",
            phone="(413) 555-0177",
            timeline="within_3_months",
        )
    clock.move_to(datetime(2026, 5, 5, 8, 5, tzinfo=NEW_YORK))
    with django_capture_on_commit_callbacks(execute=True):
        messages_dispatch_due(requeue=False)
    text.refresh_from_db()
    assert text.status == "suppressed"
    assert text.status_reason == "The contact re-engaged after the campaign message was queued"
    assert not [sent for sent in sms_outbox if sent.body == text.body]

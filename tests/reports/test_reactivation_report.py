"""The campaign report's numbers, on a fixture worked out by hand, in a few queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import LeadEvent
from reports.reactivation import campaign_owner_rows, campaign_rows, campaign_total
from sequences.models import CampaignRecipient, Message
from tests.factories import (
    CampaignRecipientFactory,
    LeadEventFactory,
    MessageFactory,
    ReactivationCampaignFactory,
    SuppressionFactory,
)
from tests.reactivation import dormant_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def sent(lead, channel="email", *, delivered=False, at=None):
    at = at or timezone.now() - timedelta(days=3)
    return MessageFactory(
        lead=lead,
        channel=channel,
        to=lead.email if channel == "email" else lead.phone,
        subject="It's been a while" if channel == "email" else "",
        purpose=Message.Purpose.CAMPAIGN,
        status=Message.Status.SENT,
        sent_at=at,
        delivered_at=at + timedelta(minutes=1) if delivered else None,
    )


@pytest.fixture
def campaign(alex, sam):
    """Six contacts, three of Alex's and three of Sam's (by hand, the report should read):

    Alex   Ann   email sent, delivered, clicked, re-engaged hot, then an appointment
           Ben   email sent, then bounced (hard)
           Cal   email sent, then unsubscribed
    Sam    Dee   skipped: had unsubscribed before the campaign
           Eve   email sent and text sent, the text delivered; re-engaged warm
           Fay   email sent, clicked, did not answer

    Totals: contacts 6, skipped 1, sent 5, delivered 2, bounced 1, unsubscribed 1, clicked 2,
    re-engaged 2, hot 1, to appointment 1.
    """
    campaign = ReactivationCampaignFactory(status="sent")
    queued = timezone.now() - timedelta(days=3)
    later = queued + timedelta(days=1)

    def recipient(name, owner, **fields):
        lead = dormant_contact(first_name=name, owner=owner)
        fields.setdefault("queued_at", queued)
        return CampaignRecipientFactory(campaign=campaign, lead=lead, owner=owner, **fields)

    ann = recipient("Ann", alex, clicked_at=later, reengaged_at=later, reengaged_intent="hot")
    ann.email_message = sent(ann.lead, delivered=True)
    LeadEventFactory(
        lead=ann.lead,
        kind=LeadEvent.Kind.STAGE_CHANGED,
        data={"from": "contacted", "to": "appointment"},
        occurred_at=later + timedelta(hours=5),
    )
    ben = recipient("Ben", alex)
    ben.email_message = sent(ben.lead)
    SuppressionFactory(channel="email", address=ben.lead.email, reason="bounce")
    cal = recipient("Cal", alex)
    cal.email_message = sent(cal.lead)
    cal.lead.email_opted_out_at = later
    cal.lead.save()
    dee = recipient("Dee", sam, status=CampaignRecipient.Status.SKIPPED, queued_at=None)
    dee.lead.email_opted_out_at = queued - timedelta(days=30)
    dee.lead.save()
    eve = recipient("Eve", sam, reengaged_at=later, reengaged_intent="warm")
    eve.email_message = sent(eve.lead)
    eve.sms_message = sent(eve.lead, "sms", delivered=True)
    fay = recipient("Fay", sam, clicked_at=later)
    fay.email_message = sent(fay.lead)
    for row in (ann, ben, cal, eve, fay):
        row.save()
    # Noise the report must not count: another campaign's contact, and a stage reached before
    # re-engaging (history).
    CampaignRecipientFactory(reengaged_at=later, reengaged_intent="hot")
    LeadEventFactory(
        lead=eve.lead,
        kind=LeadEvent.Kind.STAGE_CHANGED,
        data={"from": "new", "to": "closed"},
        occurred_at=queued - timedelta(days=900),
    )
    return campaign


EXPECTED = {
    "contacts": 6,
    "skipped": 1,
    "sent": 5,
    "delivered": 2,
    "bounced": 1,
    "unsubscribed": 1,
    "clicked": 2,
    "reengaged": 2,
    "hot": 1,
    "appointment": 1,
}


def test_the_campaigns_numbers_as_worked_out_by_hand(campaign):
    assert campaign_total(campaign).figures == EXPECTED


def test_per_owner(campaign, alex, sam):
    rows = {row.label: row.figures for row in campaign_owner_rows(campaign)}
    assert rows == {
        "Alex Rivera": {
            "contacts": 3,
            "skipped": 0,
            "sent": 3,
            "delivered": 1,
            "bounced": 1,
            "unsubscribed": 1,
            "clicked": 1,
            "reengaged": 1,
            "hot": 1,
            "appointment": 1,
        },
        "Sam Chen": {
            "contacts": 3,
            "skipped": 1,
            "sent": 2,
            "delivered": 1,
            "bounced": 0,
            "unsubscribed": 0,
            "clicked": 1,
            "reengaged": 1,
            "hot": 0,
            "appointment": 0,
        },
    }


def test_rates_are_of_those_sent_and_of_those_re_engaged(campaign):
    total = campaign_total(campaign)
    assert total.rate("delivered") == pytest.approx(2 / 5)
    assert total.rate("reengaged") == pytest.approx(2 / 5)
    assert total.rate("hot") == pytest.approx(1 / 2)
    assert total.rate("contacts") is None
    cells = {cell.name: cell.percent for cell in total.cells}
    assert (cells["clicked"], cells["appointment"], cells["sent"]) == ("40%", "50%", "")


def test_per_campaign_in_one_query(campaign, django_assert_num_queries):
    others = [ReactivationCampaignFactory(status="sent") for _ in range(3)]
    for other in others:
        for _ in range(4):
            CampaignRecipientFactory(campaign=other)
    with django_assert_num_queries(1):
        rows = campaign_rows([campaign, *others])
    assert rows[0].figures == EXPECTED
    assert [row["contacts"] for row in rows[1:]] == [4, 4, 4]
    assert rows[0].label == campaign.name


def test_a_campaign_nobody_got_yet_is_all_zeros():
    draft = ReactivationCampaignFactory()
    assert campaign_total(draft).figures == dict.fromkeys(EXPECTED, 0)
    assert campaign_owner_rows(draft) == []


def test_the_pages_stay_at_a_few_queries_however_many_campaigns_and_contacts(
    broker_client, campaign, django_assert_max_num_queries
):
    for _ in range(5):
        other = ReactivationCampaignFactory(status="sent")
        for _ in range(5):
            CampaignRecipientFactory(campaign=other)
    with django_assert_max_num_queries(6):
        listing = broker_client.get(reverse("sequences:campaign-list"))
    assert listing.status_code == 200
    with django_assert_max_num_queries(8):
        detail = broker_client.get(reverse("sequences:campaign-detail", args=[campaign.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "Alex Rivera" in html and "Sam Chen" in html and "All owners" in html

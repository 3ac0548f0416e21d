"""The campaign pages, as a broker uses them: list, new (smart list → count → copy), preview
for a real contact, send, progress and the report. Brokers only."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from leads.models import Tag
from sequences.models import CampaignRecipient, Message, ReactivationCampaign
from tests.factories import ReactivationCampaignFactory
from tests.reactivation import dormant_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

PAGES = [
    ("sequences:campaign-list", False),
    ("sequences:campaign-create", False),
    ("sequences:campaign-count", False),
    ("sequences:campaign-detail", True),
    ("sequences:campaign-edit", True),
    ("sequences:campaign-progress", True),
]


def url(name, campaign=None):
    return reverse(name, args=[campaign.pk]) if campaign is not None else reverse(name)


def new_campaign_data(**overrides):
    return {
        "name": "Spring check-in",
        "email_subject": "It's been a while, {first_name}",
        "email_body": "Hi {first_name}, it's {agent_name}. What's new? {reactivation_link}",
        "sms_body": "Hi {first_name}, anything new? {reactivation_link}",
        **overrides,
    }


@pytest.mark.parametrize(("name", "needs_campaign"), PAGES)
def test_agents_may_not_open_campaign_pages(client, agent, name, needs_campaign):
    campaign = ReactivationCampaignFactory() if needs_campaign else None
    assert client.get(url(name, campaign)).status_code == 403


def test_agents_may_not_send(client, agent):
    campaign = ReactivationCampaignFactory()
    dormant_contact()
    assert client.post(url("sequences:campaign-send", campaign)).status_code == 403
    assert campaign.recipients.count() == 0


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(url("sequences:campaign-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "needs_campaign"), PAGES)
def test_campaign_pages_are_private_with_a_csp(broker_client, name, needs_campaign):
    campaign = ReactivationCampaignFactory() if needs_campaign else None
    response = broker_client.get(url(name, campaign))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    if name != "sequences:campaign-count" and name != "sequences:campaign-progress":
        assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_brokers_navigation_has_campaigns_an_agents_does_not(client, broker_client, alex):
    assert (
        url("sequences:campaign-list") in broker_client.get(reverse("leads:today")).content.decode()
    )
    client.force_login(alex)
    assert url("sequences:campaign-list") not in client.get(reverse("leads:today")).content.decode()


def test_a_new_campaign_starts_from_the_shipped_copy(broker_client):
    html = broker_client.get(url("sequences:campaign-create")).content.decode()
    assert "It&#x27;s been a while, {first_name}" in html
    assert "{reactivation_link}" in html
    other = broker_client.get(url("sequences:campaign-create"), {"start": "campaign_value_email"})
    assert "What your home is worth now, {first_name}" in other.content.decode()


def test_the_count_follows_the_criteria(broker_client, alex, sam):
    dormant_contact(owner=alex, tags=["pool"])
    dormant_contact(owner=alex, tags=["vip"])
    dormant_contact(owner=sam, tags=["pool"])
    pool = Tag.objects.get(name="pool")
    response = broker_client.get(
        url("sequences:campaign-count"), {"tags": pool.pk, "owner": alex.pk}
    )
    assert response.status_code == 200
    assert "<strong>1</strong> dormant contact match" in response.content.decode()
    everyone = broker_client.get(url("sequences:campaign-count")).content.decode()
    assert "<strong>3</strong> dormant contacts match" in everyone
    nonsense = broker_client.get(url("sequences:campaign-count"), {"owner": "x", "tags": "y"})
    assert nonsense.status_code == 200  # a bad criterion counts as "any", never a 500


def test_copy_with_an_unknown_placeholder_or_template_tags_is_refused(broker_client):
    response = broker_client.post(
        url("sequences:campaign-create"),
        new_campaign_data(email_body="Hi {{ lead.email }} {% debug %}", email_subject="{secret}"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Use single braces for placeholders" in html
    assert "Unknown placeholder {secret}." in html
    assert not ReactivationCampaign.objects.exists()


def test_save_then_preview_for_a_real_contact_then_send(
    broker_client, alex, mailoutbox, django_capture_on_commit_callbacks
):
    pool = Tag.objects.create(name="pool")
    dana = dormant_contact(owner=alex, first_name="Dana", tags=["pool"], texting=True)
    eli = dormant_contact(owner=alex, first_name="Eli", tags=["pool"])
    dormant_contact(owner=alex, first_name="Zed")  # not in the list

    saved = broker_client.post(
        url("sequences:campaign-create"), new_campaign_data(tags=[pool.pk], owner=alex.pk)
    )
    campaign = ReactivationCampaign.objects.get()
    assert saved["Location"] == url("sequences:campaign-detail", campaign)
    assert campaign.status == "draft"
    assert list(campaign.tags.all()) == [pool]

    preview = broker_client.get(url("sequences:campaign-detail", campaign)).content.decode()
    assert "It&#x27;s been a while, Dana" in preview
    assert "Hi Dana, it&#x27;s Alex Rivera." in preview
    assert settings.BROKERAGE_ADDRESS in preview
    assert "/email/unsubscribe/" in preview
    assert "/intake/reactivation/?r=" in preview
    assert "Hi Dana, anything new?" in preview  # Dana may be texted
    assert "Send to 2 contacts" in preview
    eli_preview = broker_client.get(
        url("sequences:campaign-detail", campaign), {"contact": eli.pk}
    ).content.decode()
    assert "It&#x27;s been a while, Eli" in eli_preview
    assert "no SMS consent on record" in eli_preview

    with django_capture_on_commit_callbacks(execute=True):
        sent = broker_client.post(url("sequences:campaign-send", campaign), follow=True)
    assert "Sending “Spring check-in” to 2 contacts." in sent.content.decode()
    assert set(CampaignRecipient.objects.values_list("lead", flat=True)) == {dana.pk, eli.pk}
    assert Message.objects.filter(purpose="campaign").count() == 3  # two emails, one text
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([dana.email, eli.email])

    again = broker_client.post(url("sequences:campaign-send", campaign), follow=True)
    assert "nothing new was sent" in again.content.decode()
    assert Message.objects.filter(purpose="campaign").count() == 3


def test_the_detail_of_a_sent_campaign_shows_progress_and_the_report(broker_client, alex):
    dormant_contact(owner=alex)
    campaign = ReactivationCampaignFactory()
    broker_client.post(url("sequences:campaign-send", campaign))
    html = broker_client.get(url("sequences:campaign-detail", campaign)).content.decode()
    assert '<progress id="campaign-progress-bar"' in html
    assert 'data-testid="campaign-report"' in html
    assert "Alex Rivera" in html


def test_a_sent_campaign_cannot_be_edited(broker_client, alex):
    campaign = ReactivationCampaignFactory(status="sent")
    response = broker_client.post(
        url("sequences:campaign-edit", campaign), new_campaign_data(name="Changed"), follow=True
    )
    assert "stay as they were sent" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.name != "Changed"


def test_an_empty_list_is_not_sent(broker_client):
    campaign = ReactivationCampaignFactory()
    response = broker_client.post(url("sequences:campaign-send", campaign), follow=True)
    assert "there is nobody to send to" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_sending_needs_the_csrf_token(broker):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(broker)
    dormant_contact()
    campaign = ReactivationCampaignFactory()
    assert strict.post(url("sequences:campaign-send", campaign)).status_code == 403
    assert campaign.recipients.count() == 0


def test_an_unknown_campaign_is_404(broker_client):
    assert broker_client.get(reverse("sequences:campaign-detail", args=[999])).status_code == 404


def test_the_admin_shows_a_campaign_and_its_recipients(broker_client, alex):
    dormant_contact(owner=alex, first_name="Dana")
    campaign = ReactivationCampaignFactory()
    broker_client.post(url("sequences:campaign-send", campaign))
    page = broker_client.get(
        reverse("admin:sequences_reactivationcampaign_change", args=[campaign.pk])
    )
    assert page.status_code == 200
    assert "1 contact</a>" in page.content.decode()
    listing = broker_client.get(reverse("admin:sequences_reactivationcampaign_changelist"))
    assert campaign.name in listing.content.decode()
    recipients = broker_client.get(
        reverse("admin:sequences_campaignrecipient_changelist"),
        {"campaign__id__exact": campaign.pk},
    )
    assert "Dana" in recipients.content.decode()


def test_every_campaign_can_be_reached_page_by_page(broker_client):
    for index in range(27):
        ReactivationCampaignFactory(name=f"Campaign number {index:02d}")
    url = reverse("sequences:campaign-list")
    first = broker_client.get(url).content.decode()
    second = broker_client.get(url + "?page=2").content.decode()
    assert "Page 1 of 2" in first and 'rel="next"' in first
    named = {f"Campaign number {index:02d}" for index in range(27)}
    assert {name for name in named if name in first} | {
        name for name in named if name in second
    } == named
    assert broker_client.get(url + "?page=x").status_code == 200


def test_a_contact_id_in_unicode_digits_previews_the_first_contact(broker_client, alex):
    """?contact=² (a digit to str.isdigit(), not to int()) is the plain preview, not a 500."""
    dormant_contact(owner=alex, first_name="Dana")
    campaign = ReactivationCampaignFactory()
    response = broker_client.get(url("sequences:campaign-detail", campaign), {"contact": "²"})
    assert response.status_code == 200

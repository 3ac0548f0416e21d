"""A campaign's personal link: it prefills the contact's details, counts the first open as a
click, cannot be forged, expires, and re-engages the contact it names and no other."""

import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.urls import reverse

from leads.forms import intake_token
from leads.models import Lead, Submission
from sequences.campaigns import (
    LINK_SALT,
    reactivation_link,
    reactivation_link_read,
    reactivation_token,
)
from tests.factories import CampaignRecipientFactory, ReactivationCampaignFactory
from tests.helpers import answers
from tests.reactivation import dormant_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
FORM = reverse("leads:intake", args=["reactivation"])


@pytest.fixture
def contact(alex):
    return dormant_contact(
        owner=alex, first_name="Dana", last_name="Whitfield", phone="+14135550142",
        email="dana@example.com",
    )  # fmt: skip


@pytest.fixture
def recipient(contact):
    return CampaignRecipientFactory(lead=contact, campaign__name="Spring check-in")


def link_path(lead_id, campaign_id) -> str:
    parts = urlsplit(reactivation_link(lead_id, campaign_id))
    return f"{parts.path}?{parts.query}"


def value_of(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', match.group(0)) if match else None
    return value.group(1) if value else None


def post(client, path, **overrides):
    return client.post(path, answers("reactivation", **overrides), REMOTE_ADDR="203.0.113.7")


def test_the_link_prefills_the_contacts_details_for_them_only(client, recipient, contact):
    response = client.get(link_path(contact.pk, recipient.campaign_id))
    assert response.status_code == 200
    html = response.content.decode()
    assert value_of(html, "first_name") == "Dana"
    assert value_of(html, "last_name") == "Whitfield"
    assert value_of(html, "email") == "dana@example.com"
    assert value_of(html, "phone") == "(413) 555-0142"
    assert "What has changed since we last spoke?" in html
    assert "When are you thinking of making a move?" in html
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_first_open_is_the_click(client, recipient, contact, clock):
    path = link_path(contact.pk, recipient.campaign_id)
    client.get(path)
    recipient.refresh_from_db()
    first = recipient.clicked_at
    assert first is not None
    clock.shift(timedelta(hours=3))
    client.get(path)
    recipient.refresh_from_db()
    assert recipient.clicked_at == first


def test_the_plain_form_is_empty_and_not_private(client, contact):
    response = client.get(FORM)
    html = response.content.decode()
    assert value_of(html, "first_name") in (None, "")
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature altered
        lambda token: "9" + token,  # the lead's number changed, the signature kept
        lambda token: signing.TimestampSigner(salt="another.salt").sign(token.split(":")[0]),
        lambda token: "",
        lambda token: "garbage",
        lambda token: token * 10,
    ],
)
def test_a_forged_or_altered_link_is_the_plain_empty_form(client, recipient, contact, tamper):
    token = reactivation_token(contact.pk, recipient.campaign_id)
    response = client.get(FORM, {"r": tamper(token)})
    assert response.status_code == 200
    assert value_of(response.content.decode(), "email") in (None, "")
    recipient.refresh_from_db()
    assert recipient.clicked_at is None


def test_a_token_for_one_contact_cannot_be_made_to_name_another(recipient, contact):
    other = dormant_contact()
    token = reactivation_token(contact.pk, recipient.campaign_id)
    _value, timestamp, signature = token.split(":")
    swapped = f"{other.pk}.{recipient.campaign_id}:{timestamp}:{signature}"
    assert reactivation_link_read(token).lead_id == contact.pk
    assert reactivation_link_read(swapped) is None
    assert LINK_SALT  # the link's own namespace: no other signed value of ours passes for one


def test_the_link_expires_after_sixty_days(client, recipient, contact, clock, settings):
    path = link_path(contact.pk, recipient.campaign_id)
    clock.shift(timedelta(days=settings.REACTIVATION_LINK_DAYS - 1))
    assert value_of(client.get(path).content.decode(), "email") == "dana@example.com"
    clock.shift(timedelta(days=2))
    assert value_of(client.get(path).content.decode(), "email") in (None, "")


def test_answering_through_the_link_re_engages_that_contact(client, recipient, contact):
    path = link_path(contact.pk, recipient.campaign_id)
    response = post(
        client,
        path,
        first_name="Dana",
        last_name="Whitfield",
        email="dana@example.com",
        phone="(413) 555-0142",
        timeline="within_3_months",
    )
    assert response.status_code == 302
    assert Lead.objects.count() == 1
    contact.refresh_from_db()
    assert (contact.dormant, contact.timeline, contact.intent) == (False, "within_3_months", "hot")
    submission = Submission.objects.get()
    assert submission.lead == contact
    assert submission.mapped == {"lead": contact.pk, "campaign": recipient.campaign_id}
    assert parse_qs(urlsplit(path).query)["r"][0] == submission.query["r"]
    recipient.refresh_from_db()
    assert recipient.reengaged_at == contact.created_at


def test_new_details_through_the_link_are_proposed_not_written(client, recipient, contact):
    """Someone changed email: the link still names Dana, whose recorded address stays until her
    agent accepts the new one (a forwarded link must not rewrite a contact)."""
    path = link_path(contact.pk, recipient.campaign_id)
    post(
        client,
        path,
        first_name="Dana",
        last_name="Whitfield",
        email="dana.new@example.com",
        phone="",
    )
    assert Lead.objects.count() == 1
    contact.refresh_from_db()
    assert contact.email == "dana@example.com"
    assert contact.dormant is False
    event = contact.events.get(kind="reengaged")
    assert event.data["proposed"] == {"email": ["dana@example.com", "dana.new@example.com"]}


def test_a_forwarded_link_fills_none_of_the_contacts_blanks_with_a_strangers_details(client, alex):
    """Dana, with no phone on record, forwards the email to her neighbour Pat, who answers
    with Pat's own email and phone: Dana's blank phone stays blank; both are only proposed."""
    dana = dormant_contact(owner=alex, first_name="Dana", email="dana@example.com", phone="")
    recipient = CampaignRecipientFactory(lead=dana)
    path = link_path(dana.pk, recipient.campaign_id)
    post(client, path, first_name="Pat", last_name="Lee", email="pat@example.com",
         phone="(413) 555-0199", timeline="within_3_months")  # fmt: skip
    dana.refresh_from_db()
    assert (dana.email, dana.phone, Lead.objects.count()) == ("dana@example.com", "", 1)
    proposed = dana.events.get(kind="reengaged").data["proposed"]
    assert proposed["phone"] == ["", "+14135550199"]
    assert proposed["email"] == ["dana@example.com", "pat@example.com"]


def test_the_contact_answering_its_own_link_fills_its_blank_phone(client, alex):
    dana = dormant_contact(owner=alex, first_name="Dana", email="dana@example.com", phone="")
    recipient = CampaignRecipientFactory(lead=dana)
    post(client, link_path(dana.pk, recipient.campaign_id), first_name="Dana",
         email="dana@example.com", phone="(413) 555-0199")  # fmt: skip
    dana.refresh_from_db()
    assert dana.phone == "+14135550199"


def test_a_link_cannot_re_engage_another_contact(client, recipient, contact):
    """Dana's link, filled with Sam's details (Sam is another dormant contact): Dana is the
    one who answered; Sam stays as he was."""
    sam = dormant_contact(first_name="Sam", email="sam@example.com", phone="+14135550143")
    path = link_path(contact.pk, recipient.campaign_id)
    post(client, path, first_name="Sam", email="sam@example.com", phone="(413) 555-0143")
    contact.refresh_from_db()
    sam.refresh_from_db()
    assert contact.dormant is False
    assert sam.dormant is True
    assert (sam.email, contact.email) == ("sam@example.com", "dana@example.com")
    assert Lead.objects.count() == 2


def test_a_forged_link_posts_like_the_plain_form(client, recipient, contact):
    """No prefill and no binding: the answer is matched by its email like any form."""
    other = dormant_contact(email="other@example.com")
    token = reactivation_token(other.pk, recipient.campaign_id)
    post(client, f"{FORM}?r=9{token}", email="new.person@example.com", phone="")
    submission = Submission.objects.get()
    assert submission.mapped == {}
    assert submission.lead.email == "new.person@example.com"
    other.refresh_from_db()
    assert other.dormant is True


def test_a_link_to_a_campaign_that_never_reached_the_contact_counts_no_click(client, contact):
    campaign = ReactivationCampaignFactory()
    client.get(link_path(contact.pk, campaign.pk))  # prefilled (the signature holds), no row
    assert campaign.recipients.count() == 0


def test_a_prefilled_link_sent_at_once_is_not_marked_for_review(client, recipient, contact):
    """The form comes filled in: a person checks it and sends in a second or two. The link's
    signature already says who they are, so no "check this is a real person" note."""
    fast = {"form_token": intake_token(Lead.Source.REACTIVATION, issued_at=time.time() - 1)}
    post(client, link_path(contact.pk, recipient.campaign_id), **fast)
    assert Submission.objects.get().spam_reason == ""
    assert not contact.events.filter(data__has_key="review").exists()
    # The plain form sent that fast is still marked.
    post(client, reverse("leads:intake", args=["reactivation"]), email="pat@example.com", **fast)
    assert Submission.objects.exclude(lead=contact).get().spam_reason != ""

"""One-click unsubscribe (RFC 8058): a signed link, a page for people, a POST for mailboxes."""

import pytest
from django.urls import reverse

from leads.models import LeadEvent
from sequences.models import Suppression
from sequences.outbox import message_dispatch
from sequences.unsubscribe import unsubscribe_token, unsubscribe_url
from tests.factories import LeadFactory, MessageFactory

pytestmark = pytest.mark.django_db


def url_for(address):
    return reverse("sequences:unsubscribe", args=[unsubscribe_token(address)])


def test_opening_the_link_asks_first_and_changes_nothing(client):
    lead = LeadFactory(email="ada@example.com")
    response = client.get(url_for("ada@example.com"))
    assert response.status_code == 200
    assert b"Unsubscribe from our emails?" in response.content
    lead.refresh_from_db()
    assert lead.email_opted_out_at is None


def test_the_mailbox_providers_one_click_post_unsubscribes(client):
    lead = LeadFactory(email="ada@example.com")
    queued = MessageFactory(lead=lead, email=True, idempotency_key="next")
    response = client.post(url_for("ada@example.com"), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.email_opted_out_at is not None
    assert Suppression.objects.get().reason == "unsubscribe"
    assert lead.events.filter(kind=LeadEvent.Kind.OPTED_OUT, channel="email").exists()
    queued.refresh_from_db()
    assert queued.status == "suppressed"
    assert message_dispatch(queued.pk) is None


def test_a_forged_or_truncated_link_unsubscribes_nobody(client):
    LeadFactory(email="ada@example.com")
    token = unsubscribe_token("ada@example.com")
    bobs_payload = unsubscribe_token("bob@example.com").rsplit(":", 1)[0]
    forged = f"{bobs_payload}:{token.rsplit(':', 1)[1]}"  # Bob's address, Ada's signature
    for bad in (token[:-3], forged, "nonsense"):
        response = client.post(reverse("sequences:unsubscribe", args=[bad]))
        assert response.status_code == 404
    assert not Suppression.objects.exists()


def test_the_link_is_public_and_case_insensitive_for_the_address(settings):
    settings.SITE_URL = "https://crm.harborandmain.example"
    assert unsubscribe_url("Ada@Example.com").startswith(
        "https://crm.harborandmain.example/email/unsubscribe/"
    )
    assert unsubscribe_token("Ada@Example.com") == unsubscribe_token("ada@example.com")

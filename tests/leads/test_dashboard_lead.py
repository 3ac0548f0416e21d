import re

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadEvent, RoutingRule
from leads.routing import lead_segment
from realtycrm.flows.routing import lead_route
from tests.factories import (
    AgentFactory,
    LeadEventFactory,
    LeadFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "lead"}


def routed_lead(**fields) -> Lead:
    """A lead classified by the real segmentation and the shipped routing rules."""
    lead = LeadFactory(**fields)
    return lead_route(lead, lead_segment(lead), is_new=True)


def test_the_lead_page_explains_each_tag(client, agent):
    lead = routed_lead(
        owner=agent, source=Lead.Source.GIVEAWAY, timeline=Lead.Timeline.WITHIN_3_MONTHS
    )
    body = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "Said they are moving: within 3 months" in body
    assert lead.routing_rule is not None
    assert f"Routing rule {lead.routing_rule}" in body
    assert lead.routing_rule.note in body
    assert "Not personally contacted yet" in body


def test_logging_a_call_updates_the_page_in_place(client, agent):
    lead = LeadFactory(owner=agent, hot=True)
    response = client.post(
        reverse("leads:lead-log", args=[lead.pk]),
        {"kind": "call", "note": "Booked a visit"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "lead-changed" in response["HX-Trigger"]
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="lead"')  # the fragment, not a whole page
    assert "Call logged." in body
    assert "Call: Booked a visit" in body
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.CONTACTED
    assert lead.last_personal_contact_at is not None


def test_a_note_goes_on_the_timeline_without_counting_as_contact(client, agent):
    lead = LeadFactory(owner=agent)
    client.post(
        reverse("leads:lead-log", args=[lead.pk]),
        {"kind": "note", "note": "Prefers email"},
        headers=HTMX,
    )
    event = lead.events.get()
    assert (event.kind, event.summary, event.actor) == ("note", "Prefers email", agent)
    lead.refresh_from_db()
    assert lead.last_personal_contact_at is None


def test_an_empty_note_is_refused_with_a_message(client, agent):
    lead = LeadFactory(owner=agent)
    response = client.post(
        reverse("leads:lead-log", args=[lead.pk]), {"kind": "note"}, headers=HTMX
    )
    assert response.status_code == 422
    assert "Write the note first." in response.content.decode()
    assert not lead.events.exists()


def test_an_unknown_kind_of_contact_is_refused(client, agent):
    lead = LeadFactory(owner=agent)
    response = client.post(reverse("leads:lead-log", args=[lead.pk]), {"kind": "fax"})
    assert response.status_code == 422
    assert "Choose call, text, email or note." in response.content.decode()


def test_a_new_timeline_reclassifies_the_lead_and_moves_its_track(client, agent):
    lead = routed_lead(
        owner=agent, source=Lead.Source.VALUATION, timeline=Lead.Timeline.JUST_CURIOUS
    )
    assert lead.intent == Lead.Intent.LONG_TERM
    track_before = lead.nurture_track
    client.post(
        reverse("leads:lead-classify", args=[lead.pk]),
        {"timeline": "within_3_months", "side": lead.side, "intent": lead.intent},
        headers=HTMX,
    )
    lead.refresh_from_db()
    assert (lead.timeline, lead.intent) == ("within_3_months", "hot")
    assert lead.nurture_track != track_before
    kinds = set(lead.events.values_list("kind", flat=True))
    assert {"timeline_changed", "intent_changed", "track_changed"} <= kinds


def test_an_intent_the_agent_sets_wins_over_the_answers(client, agent):
    lead = routed_lead(owner=agent, timeline=Lead.Timeline.WITHIN_3_MONTHS)
    client.post(
        reverse("leads:lead-classify", args=[lead.pk]),
        {"timeline": lead.timeline, "side": lead.side, "intent": "warm"},
    )
    lead.refresh_from_db()
    assert lead.intent == "warm"
    assert lead.intent_reason.startswith("Set by")


def test_changing_the_stage_records_it(client, agent):
    lead = LeadFactory(owner=agent)
    response = client.post(
        reverse("leads:lead-stage", args=[lead.pk]),
        {"stage": "lost", "note": "Went with a friend"},
        headers=HTMX,
    )
    assert "Stage: Lost." in response.content.decode()
    assert lead.events.get().summary == "New → Lost: Went with a friend"


def test_a_bad_stage_is_refused_with_a_message(client, agent):
    lead = LeadFactory(owner=agent)
    response = client.post(
        reverse("leads:lead-stage", args=[lead.pk]), {"stage": "won"}, headers=HTMX
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


def test_editing_contact_details_stores_the_phone_as_e164(client, agent):
    lead = LeadFactory(owner=agent, phone="", email="old@example.com")
    response = client.post(
        reverse("leads:lead-contact", args=[lead.pk]),
        {
            "first_name": "Ada",
            "last_name": "King",
            "email": " ADA@Example.com ",
            "phone": "(413) 555-0199",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.first_name, lead.email, lead.phone) == ("Ada", "ada@example.com", "+14135550199")
    assert lead.events.get().kind == LeadEvent.Kind.CONTACT_UPDATED


def test_the_contact_form_opens_in_place(client, agent):
    lead = LeadFactory(owner=agent)
    response = client.get(
        reverse("leads:lead-contact", args=[lead.pk]),
        headers={"HX-Request": "true", "HX-Target": "contact-card"},
    )
    body = response.content.decode()
    assert body.lstrip().startswith(
        "{}".format('<section class="card section-card" id="contact-card">')
    )
    assert f'value="{lead.email}"' in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"phone": "555"}, "Please enter a valid phone number"),
        ({"email": "not-an-email"}, "Please enter a valid email address"),
        ({"first_name": "Ada"}, "Keep an email address or a phone number"),
    ],
)
def test_bad_contact_details_are_refused_with_a_message(client, agent, data, message):
    lead = LeadFactory(owner=agent)
    response = client.post(reverse("leads:lead-contact", args=[lead.pk]), data, headers=HTMX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not lead.events.exists()


def test_another_leads_phone_is_refused_without_saying_whose(client, agent):
    LeadFactory(owner=AgentFactory().user, phone="+14135550111", first_name="Secret")
    lead = LeadFactory(owner=agent)
    response = client.post(
        reverse("leads:lead-contact", args=[lead.pk]),
        {"email": lead.email, "phone": "413-555-0111"},
        headers=HTMX,
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "This phone number can&#x27;t be used for this lead." in body
    assert "Secret" not in body


def _without_tokens(body: str) -> str:
    """The page without what differs on every render: CSRF tokens, the one-off forms' tokens."""
    body = re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1…", body)
    return re.sub(r'(name="token" value=")[^"]+', r"\1…", body)


def test_a_duplicate_email_gets_the_same_answer_whoever_owns_the_other_lead(client, agent):
    """Whether the address belongs to one of the agent's own leads or to a lead they cannot see,
    the answer is word for word the same, and names no one."""
    other = LeadFactory(owner=agent, email="taken@example.com", first_name="Secret")
    lead = LeadFactory(owner=agent)
    url = reverse("leads:lead-contact", args=[lead.pk])
    data = {"email": "Taken@example.com", "phone": lead.phone}

    own = client.post(url, data, headers=HTMX)
    other.owner = AgentFactory(user__first_name="Hidden").user
    other.save()
    not_theirs = client.post(url, data, headers=HTMX)

    assert own.status_code == not_theirs.status_code == 422
    assert _without_tokens(own.content.decode()) == _without_tokens(not_theirs.content.decode())
    body = not_theirs.content.decode()
    assert "This email address can&#x27;t be used for this lead." in body
    assert "Secret" not in body and "Hidden" not in body
    assert "another lead" not in body.lower() and "already" not in body.lower()


def test_a_broker_reassigns_a_lead(client):
    broker, alex, sam = AgentFactory(broker=True), AgentFactory(), AgentFactory()
    lead = LeadFactory(owner=alex.user)
    client.force_login(broker.user)
    response = client.post(
        reverse("leads:lead-reassign", args=[lead.pk]), {"owner": sam.user.pk}, headers=HTMX
    )
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.owner == sam.user
    assert lead.events.get().kind == LeadEvent.Kind.REASSIGNED


def test_a_lead_cannot_be_given_to_an_inactive_agent(client):
    broker, gone = AgentFactory(broker=True), AgentFactory(active=False)
    lead = LeadFactory(owner=broker.user)
    client.force_login(broker.user)
    response = client.post(
        reverse("leads:lead-reassign", args=[lead.pk]), {"owner": gone.user.pk}, headers=HTMX
    )
    assert response.status_code == 422
    assert "Choose an active agent." in response.content.decode()


def test_the_timeline_shows_older_entries_on_request(client, agent):
    lead = LeadFactory(owner=agent)
    now = timezone.now()
    for minutes in range(35):
        LeadEventFactory(
            lead=lead,
            summary=f"entry {minutes}",
            occurred_at=now - timezone.timedelta(minutes=minutes),
        )
    first = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "entry 0" in first and "entry 34" not in first and "Show older" in first
    older = client.get(reverse("leads:lead-timeline", args=[lead.pk]), {"page": 2}).content.decode()
    assert "entry 34" in older and "entry 0" not in older


def test_text_is_escaped_on_the_lead_page(client, agent):
    lead = LeadFactory(owner=agent, first_name="<script>alert(1)</script>")
    body = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_no_texting_without_consent(client, agent):
    lead = LeadFactory(owner=agent, sms_consent_at=None)
    body = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert f'href="sms:{lead.phone}"' not in body
    assert "No texts: no consent" in body


@pytest.mark.parametrize("events", [2, 60])
def test_the_lead_page_runs_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, events
):
    broker = AgentFactory(broker=True)
    rule = RoutingRule.objects.exclude(note="").first()  # shipped by a data migration
    lead = LeadFactory(owner=AgentFactory().user, routing_rule=rule, nurture_track=rule.track)
    for _ in range(events):
        LeadEventFactory(lead=lead, actor=AgentFactory().user)
    client.force_login(broker.user)
    # The lead, its timeline, and its follow-up (messages, tasks, enrolment, suppressions).
    # And the lead's open alerts, its appointments, its tags, and the user's own call card.
    with django_assert_max_num_queries(16):
        assert client.get(reverse("leads:lead-detail", args=[lead.pk])).status_code == 200
    # The logged call also acknowledges the agent's open alerts on the lead (one query); the
    # page it answers with reads the call card, the appointments and the tags (one each).
    with django_assert_max_num_queries(27):
        response = client.post(
            reverse("leads:lead-log", args=[lead.pk]), {"kind": "call"}, headers=HTMX
        )
    assert response.status_code == 200

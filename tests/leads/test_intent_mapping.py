"""The timeline → intent mapping is data a broker edits in the admin (docs/routing.md).

The shipped rows reproduce the decisions the code made before (tests/leads/test_segmentation.py
still checks those, unchanged); an edited row changes the next lead's intent and only the next
lead's; every answer keeps exactly one intent; "unknown" has no row to edit.
"""

import itertools

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from leads.models import (
    MAPPED_ANSWERS,
    InquiryType,
    IntentMapping,
    Lead,
    LeadEvent,
    Side,
    Source,
    Timeline,
)
from leads.routing import intent_map, lead_segment, routing_rules
from leads.segmentation import SHIPPED_INTENTS, Answers, segment
from tests.factories import LeadFactory
from tests.helpers import post_intake

pytestmark = pytest.mark.django_db


def mapping(kind: str, answer: str) -> IntentMapping:
    return IntentMapping.objects.get(kind=kind, answer=answer)


def broker_sets(client, kind: str, answer: str, intent: str):
    """The broker changes one row on its admin page, as they would."""
    row = mapping(kind, answer)
    return client.post(
        reverse("admin:leads_intentmapping_change", args=[row.pk]), {"intent": intent}
    )


def test_the_shipped_rows_are_the_values_the_code_had():
    assert intent_map() == SHIPPED_INTENTS
    rows = {(row.kind, row.answer) for row in IntentMapping.objects.all()}
    assert rows == {
        (kind, answer) for kind, answers in MAPPED_ANSWERS.items() for answer, _ in answers
    }
    assert not IntentMapping.objects.filter(answer=Timeline.UNKNOWN).exists()


def test_the_shipped_rows_decide_exactly_as_before_for_every_answer():
    """Every source × timeline × side × question × showing request: the mapping read from the
    database decides what the shipped tables in code decide."""
    rules, intents = routing_rules(), intent_map()
    questions = ["", *InquiryType.values]
    for source, timeline, side, question, showing in itertools.product(
        Source.values, Timeline.values, Side.values, questions, (False, True)
    ):
        answers = Answers(
            source=source,
            timeline=timeline,
            side=side,
            inquiry_type=question,
            asked_for_showing=showing,
        )
        assert segment(answers, rules, intents) == segment(answers, rules), answers


def test_reading_the_mapping_is_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        intent_map()
    lead = LeadFactory(timeline=Timeline.MONTHS_6_TO_18)
    with django_assert_num_queries(2):  # the routing rules and the mapping
        lead_segment(lead)


def test_an_edited_timeline_changes_the_next_leads_intent(broker_client, client):
    before = post_intake(client, "valuation", timeline="6_to_18_months")
    assert before.status_code == 302
    earlier = Lead.objects.get()
    assert earlier.intent == "warm"

    response = broker_sets(broker_client, "timeline", "6_to_18_months", "hot")
    assert response.status_code == 302
    client.logout()
    post_intake(
        client,
        "valuation",
        timeline="6_to_18_months",
        email="grace@example.com",
        phone="(413) 555-0199",
    )

    lead = Lead.objects.get(email="grace@example.com")
    assert (lead.intent, lead.nurture_track.key) == ("hot", "hot_seller")
    assert lead.alerts.exists()
    # The reason names what they said, which stays true whatever the mapping counts it as.
    assert lead.intent_reason == "Said they are moving: 6 to 18 months"
    created = lead.events.get(kind=LeadEvent.Kind.CREATED)
    assert "Hot (Said they are moving: 6 to 18 months) → Hot seller, alert" in created.summary
    # New decisions only: the lead classified before the change keeps its intent.
    earlier.refresh_from_db()
    assert earlier.intent == "warm"


def test_an_edited_mapping_makes_a_reinquiry_hotter(broker_client, client):
    post_intake(client, "valuation", timeline="just_curious")
    lead = Lead.objects.get()
    assert lead.intent == "long_term"
    broker_sets(broker_client, "timeline", "6_to_18_months", "hot")
    client.logout()
    post_intake(client, "giveaway", timeline="6_to_18_months")
    lead.refresh_from_db()
    assert lead.intent == "hot"
    assert lead.intent_reason == "Asked again: said they are moving: 6 to 18 months"
    changed = lead.events.get(kind=LeadEvent.Kind.INTENT_CHANGED)
    assert changed.summary == "Long-term → Hot: Asked again: said they are moving: 6 to 18 months"


def test_an_edited_source_default_decides_a_lead_without_a_timeline(broker_client):
    lead = LeadFactory(source=Source.GIVEAWAY, timeline=Timeline.UNKNOWN)
    assert lead_segment(lead).intent == "long_term"
    broker_sets(broker_client, "source", "giveaway", "warm")
    decision = lead_segment(lead)
    assert (decision.intent, decision.intent_reason) == (
        "warm",
        "No timeline given: default for giveaway leads",
    )
    # A stated timeline still beats the source's row.
    lead.timeline = Timeline.WITHIN_3_MONTHS
    assert lead_segment(lead).intent == "hot"


def test_an_edited_website_question_decides_a_website_lead_without_a_timeline(broker_client):
    lead = LeadFactory(source=Source.WEBSITE, timeline=Timeline.UNKNOWN, inquiry_type="selling")
    assert lead_segment(lead).intent == "warm"
    broker_sets(broker_client, "inquiry", "selling", "hot")
    assert lead_segment(lead).intent == "hot"
    lead.inquiry_type = ""
    broker_sets(broker_client, "source", "website", "long_term")
    assert lead_segment(lead).intent == "long_term"  # the website row: no question given


def test_asking_for_a_showing_stays_hot_whatever_the_mapping(broker_client):
    broker_sets(broker_client, "timeline", "just_curious", "long_term")
    lead = LeadFactory(
        source=Source.LISTING_AD, timeline=Timeline.JUST_CURIOUS, asked_for_showing=True
    )
    assert lead_segment(lead).intent == "hot"


def test_an_answer_cannot_count_as_unknown(broker_client):
    response = broker_sets(broker_client, "timeline", "within_3_months", "unknown")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert mapping("timeline", "within_3_months").intent == "hot"
    row = mapping("timeline", "within_3_months")
    row.intent = "unknown"
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


def test_every_timeline_keeps_exactly_one_intent(broker_client):
    # The database refuses a second row for an answer, and a row for "unknown" or a made-up one.
    for kind, answer in [
        ("timeline", "within_3_months"),
        ("timeline", "unknown"),
        ("timeline", "next_decade"),
        ("inquiry", "neighbour"),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            IntentMapping.objects.create(kind=kind, answer=answer, intent="warm")
    # The admin offers neither adding nor deleting a row, nor changing which answer it is for.
    assert broker_client.get(reverse("admin:leads_intentmapping_add")).status_code == 403
    row = mapping("timeline", "within_3_months")
    delete = reverse("admin:leads_intentmapping_delete", args=[row.pk])
    assert broker_client.post(delete, {"post": "yes"}).status_code == 403
    broker_client.post(
        reverse("admin:leads_intentmapping_change", args=[row.pk]),
        {"intent": "warm", "answer": "unknown", "kind": "source"},
    )
    row.refresh_from_db()
    assert (row.kind, row.answer, row.intent) == ("timeline", "within_3_months", "warm")
    assert IntentMapping.objects.filter(kind="timeline").count() == 4


def test_a_missing_row_counts_as_it_ships():
    IntentMapping.objects.filter(kind="timeline", answer="3_to_6_months").delete()
    assert intent_map().timeline["3_to_6_months"] == "hot"


def test_the_changelist_edits_intents_in_place_and_says_new_decisions_only(broker_client):
    html = broker_client.get(reverse("admin:leads_intentmapping_changelist")).content.decode()
    assert "Said they are moving: within 3 months" in html
    assert "No timeline given: Giveaway" in html
    assert "A change counts for new decisions only" in html
    assert 'name="form-0-intent"' in html
    assert "Unknown" not in html.split('name="form-0-intent"')[1].split("</select>")[0]
    row = mapping("timeline", "within_3_months")
    page = broker_client.get(reverse("admin:leads_intentmapping_change", args=[row.pk]))
    assert "A change counts for new decisions only" in page.content.decode()

"""Free tags on leads: added and removed on the lead page (each on the timeline), shown on the
list's rows, filtered by (every tag named) and kept in smart lists, exported."""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from leads.filters import normalised_query
from leads.models import Lead, LeadEvent, SavedFilter, Tag
from leads.services import leads_tag_add
from tests.factories import AgentFactory, LeadFactory, TagFactory, TrackFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "lead"}


def tag(lead, *names):
    for name in names:
        leads_tag_add([lead], TagFactory(name=name), actor=None)


def tag_events(lead):
    return list(
        lead.events.filter(kind__in=[LeadEvent.Kind.TAG_ADDED, LeadEvent.Kind.TAG_REMOVED])
        .order_by("id")
        .values_list("kind", "summary", "actor__username")
    )


def listed(client, **params) -> list[int]:
    response = client.get(reverse("leads:lead-list"), params)
    assert response.status_code == 200
    return [lead.pk for lead in response.context["page"].object_list]


# --- The lead page ------------------------------------------------------------------------------


def test_an_agent_tags_a_lead_and_it_is_on_the_timeline(client, agent):
    lead = LeadFactory(owner=agent)
    response = client.post(
        reverse("leads:lead-tag-add", args=[lead.pk]), {"name": "  Pool   house "}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Tagged “Pool house”." in response.content.decode()
    assert 'data-testid="lead-tags"' in response.content.decode()
    assert list(lead.tags.values_list("name", flat=True)) == ["Pool house"]
    assert tag_events(lead) == [("tag_added", "Tag added: Pool house", "alex")]


def test_a_tag_typed_in_another_case_is_the_same_tag_and_tagging_twice_changes_nothing(
    client, agent
):
    TagFactory(name="VIP")
    lead = LeadFactory(owner=agent)
    url = reverse("leads:lead-tag-add", args=[lead.pk])
    client.post(url, {"name": "vip"}, headers=HTMX)
    again = client.post(url, {"name": "VIP"}, headers=HTMX)
    assert "Already tagged “VIP”." in again.content.decode()
    assert Tag.objects.count() == 1
    assert list(lead.tags.values_list("name", flat=True)) == ["VIP"]
    assert len(tag_events(lead)) == 1


def test_removing_a_tag_is_on_the_timeline_and_keeps_the_tag_for_other_leads(client, agent):
    lead, other = LeadFactory(owner=agent), LeadFactory(owner=agent)
    tag(lead, "VIP")
    tag(other, "VIP")
    vip = Tag.objects.get(name="VIP")
    response = client.post(
        reverse("leads:lead-tag-remove", args=[lead.pk]), {"tag": vip.pk}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Tag “VIP” removed." in response.content.decode()
    assert not lead.tags.exists()
    assert tag_events(lead)[-1] == ("tag_removed", "Tag removed: VIP", "alex")
    assert list(other.tags.all()) == [vip]
    # A tag the lead does not have (or no such tag): nothing changes, nothing on the timeline.
    client.post(reverse("leads:lead-tag-remove", args=[lead.pk]), {"tag": vip.pk}, headers=HTMX)
    assert len(tag_events(lead)) == 2


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"name": ""}, "Type the tag first."),
        ({"name": "   "}, "Type the tag first."),
        ({"name": "x" * 51}, "A tag is at most 50 characters."),
        ({"name": "bad\x00tag"}, "control"),
        ({}, "Type the tag first."),
    ],
)
def test_a_bad_tag_is_refused_next_to_the_form_never_a_500(client, agent, posted, message):
    lead = LeadFactory(owner=agent)
    response = client.post(reverse("leads:lead-tag-add", args=[lead.pk]), posted, headers=HTMX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Tag.objects.exists() and not tag_events(lead)


@pytest.mark.parametrize("posted", [{}, {"tag": "abc"}, {"tag": "-3"}])
def test_a_bad_removal_answers_422(client, agent, posted):
    lead = LeadFactory(owner=agent)
    response = client.post(reverse("leads:lead-tag-remove", args=[lead.pk]), posted, headers=HTMX)
    assert response.status_code == 422


def test_tagging_needs_the_csrf_token(agent):
    lead = LeadFactory(owner=agent)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    response = strict.post(reverse("leads:lead-tag-add", args=[lead.pk]), {"name": "VIP"})
    assert response.status_code == 403
    assert not lead.tags.exists()


def test_another_agents_lead_cannot_be_tagged(client, agent, sam):
    theirs = LeadFactory(owner=sam)
    response = client.post(reverse("leads:lead-tag-add", args=[theirs.pk]), {"name": "Mine"})
    assert response.status_code == 404
    assert not theirs.tags.exists()


def test_the_lead_page_suggests_only_the_tags_of_the_agents_own_leads(client, agent, sam):
    mine = LeadFactory(owner=agent)
    tag(mine, "Pool")
    tag(LeadFactory(owner=sam), "Sams secret label")
    body = client.get(reverse("leads:lead-detail", args=[mine.pk])).content.decode()
    assert '<option value="Pool">' in body
    assert "Sams secret label" not in body


# --- The list -----------------------------------------------------------------------------------


def test_the_list_shows_each_rows_tags_linked_to_their_filter(client, agent):
    lead = LeadFactory(owner=agent)
    tag(lead, "VIP", "Pool")
    body = client.get(reverse("leads:lead-list")).content.decode()
    assert 'data-testid="row-tags"' in body
    assert f"{reverse('leads:lead-list')}?tag=VIP" in body


def test_the_tag_filter_keeps_leads_with_every_tag_named(client, agent):
    vip_pool, vip, plain = (LeadFactory(owner=agent) for _ in range(3))
    tag(vip_pool, "VIP", "Pool")
    tag(vip, "VIP")
    assert set(listed(client, tag="VIP")) == {vip_pool.pk, vip.pk}
    assert listed(client, tag=["VIP", "Pool"]) == [vip_pool.pk]
    assert listed(client, tag="Nobody has this") == []
    assert set(listed(client)) == {vip_pool.pk, vip.pk, plain.pk}


def test_the_tag_filter_never_shows_another_agents_lead(client, agent, sam):
    mine, theirs = LeadFactory(owner=agent), LeadFactory(owner=sam)
    tag(mine, "VIP")
    tag(theirs, "VIP", "Sams secret label")
    assert listed(client, tag="VIP") == [mine.pk]
    assert listed(client, tag="Sams secret label") == []
    body = client.get(reverse("leads:lead-list")).content.decode()
    assert "Sams secret label" not in body  # not even offered as a choice


def test_a_broker_is_offered_every_tag(client, broker, alex, sam):
    tag(LeadFactory(owner=alex), "Alex's")
    tag(LeadFactory(owner=sam), "Sam's")
    client.force_login(broker)
    response = client.get(reverse("leads:lead-list"))
    assert response.context["tag_names"] == ["Alex's", "Sam's"]


def test_a_new_tag_is_offered_at_once_though_the_choices_are_cached(client, agent):
    lead = LeadFactory(owner=agent)
    assert client.get(reverse("leads:lead-list")).context["tag_names"] == []
    client.post(reverse("leads:lead-tag-add", args=[lead.pk]), {"name": "Fresh"})
    assert client.get(reverse("leads:lead-list")).context["tag_names"] == ["Fresh"]
    assert listed(client, tag="Fresh") == [lead.pk]


def test_a_tag_beyond_the_ones_offered_still_filters(client, broker, monkeypatch):
    """The form offers the first 200 tags by name; a link naming another one still works."""
    monkeypatch.setattr("leads.selectors.MAX_TAGS_OFFERED", 2)
    leads = [LeadFactory() for _ in range(3)]
    for lead, name in zip(leads, ["Alpha", "Beta", "Gamma"], strict=True):
        tag(lead, name)
    client.force_login(broker)
    assert listed(client, tag="Gamma") == [leads[2].pk]
    assert listed(client, tag="Alpha") == [leads[0].pk]


def test_a_tag_too_long_for_a_tag_is_explained_not_a_crash(client, agent):
    response = client.get(reverse("leads:lead-list"), {"tag": "x" * 51})
    assert response.status_code == 200
    assert response.context["filter"].errors["tag"]


def test_a_smart_list_keeps_its_tags_and_opens_with_them(client, agent):
    vip_pool, vip = LeadFactory(owner=agent), LeadFactory(owner=agent)
    tag(vip_pool, "VIP", "Pool")
    tag(vip, "VIP")
    response = client.post(
        reverse("leads:saved-filter-create"),
        {"name": "VIP pools", "query": "tag=VIP&tag=Pool&intent=warm&page=2"},
    )
    saved = SavedFilter.objects.get(owner=agent)
    assert saved.query == "intent=warm&tag=VIP&tag=Pool"
    assert response["Location"] == f"{reverse('leads:lead-list')}?{saved.query}"
    opened = client.get(response["Location"])
    assert [lead.pk for lead in opened.context["page"].object_list] == [vip_pool.pk]
    assert opened.context["current_list"] == saved
    assert normalised_query(opened.wsgi_request.GET) == saved.query


@pytest.mark.parametrize("count", [3, 60])
def test_the_list_with_tags_runs_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, count
):
    """Tags on every row cost one query for the page, not one per row."""
    broker = AgentFactory(broker=True)
    track = TrackFactory()
    for index in range(count):
        lead = LeadFactory(owner=AgentFactory().user, nurture_track=track)
        tag(lead, "VIP", f"Street {index % 7}", "Pool")
    client.force_login(broker.user)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("leads:lead-list"), {"tag": "VIP", "sort": "name"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(count, 25)
    assert response.content.decode().count('data-testid="row-tags"') == min(count, 25)


def test_the_export_has_each_leads_tags(client, agent):
    lead = LeadFactory(owner=agent)
    tag(lead, "VIP", "=HYPERLINK")
    LeadFactory(owner=agent)
    response = client.get(reverse("leads:lead-export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["tags"] for row in rows} == {"'=HYPERLINK, VIP", ""}


@pytest.mark.postgres
def test_postgresql_answers_the_tag_filter_from_the_through_tables_indexes(client, agent):
    tag(LeadFactory(owner=agent), "VIP")
    response = client.get(reverse("leads:lead-list"), {"tag": "VIP"})
    query = response.context["filter"].qs
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # three rows: any plan is cheap
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "leads_lead_tags" in plan, plan
    assert "Seq Scan on leads_lead_tags" not in plan, plan


def test_the_through_table_is_indexed_by_tag_and_by_lead():
    """What the filter's EXISTS needs: a lead's tags, and a tag's leads, each an index lookup."""
    through = Lead.tags.through._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, through)
    indexed = {tuple(info["columns"]) for info in constraints.values() if info["index"]}
    unique = {tuple(info["columns"]) for info in constraints.values() if info["unique"]}
    assert ("lead_id", "tag_id") in unique
    assert ("tag_id",) in indexed

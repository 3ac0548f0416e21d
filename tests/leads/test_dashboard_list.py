import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.filters import normalised_query
from leads.models import Lead, SavedFilter
from leads.selectors import DEFAULT_SMART_LISTS
from realtycrm.spreadsheets import csv_safe
from tests.factories import AgentFactory, LeadFactory, SavedFilterFactory, TrackFactory

pytestmark = pytest.mark.django_db


def listed(client, **params) -> list[int]:
    response = client.get(reverse("leads:lead-list"), params)
    assert response.status_code == 200
    return [lead.pk for lead in response.context["page"].object_list]


def test_each_filter_narrows_the_list(client, agent):
    now = timezone.now()
    track = TrackFactory(key="seller_fast_track")
    hot_seller = LeadFactory(
        owner=agent,
        hot=True,
        source=Lead.Source.VALUATION,
        side=Lead.Side.SELLER,
        stage=Lead.Stage.CONTACTED,
        neighbourhood="Forest Park",
        nurture_track=track,
        last_personal_contact_at=now - timedelta(days=40),
        first_personal_contact_at=now - timedelta(days=40),
    )
    giveaway = LeadFactory(
        owner=agent,
        long_term=True,
        source=Lead.Source.GIVEAWAY,
        side=Lead.Side.BUYER,
        neighbourhood="Old Hill",
        created_at=now - timedelta(days=100),
    )
    recent_touch = LeadFactory(
        owner=agent,
        source=Lead.Source.WEBSITE,
        last_personal_contact_at=now - timedelta(days=2),
        first_personal_contact_at=now - timedelta(days=5),
    )
    assert listed(client, source="giveaway") == [giveaway.pk]
    assert listed(client, intent="hot") == [hot_seller.pk]
    assert listed(client, timeline="just_curious") == [giveaway.pk]
    assert listed(client, side="buyer") == [giveaway.pk]
    assert listed(client, stage="contacted") == [hot_seller.pk]
    assert listed(client, track=track.pk) == [hot_seller.pk]
    assert listed(client, neighbourhood="forest park") == [hot_seller.pk]
    assert set(listed(client, no_contact_days=30)) == {hot_seller.pk, giveaway.pk}
    assert listed(client, never_contacted="on") == [giveaway.pk]
    day = (now - timedelta(days=100)).date().isoformat()
    assert listed(client, created_after=day, created_before=day) == [giveaway.pk]
    assert recent_touch.pk in listed(client)


def test_search_finds_a_lead_by_name_email_address_or_a_phone_typed_any_way(client, agent):
    ada = LeadFactory(
        owner=agent,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="+14135550187",
        property_address="12 Elm Street",
    )
    LeadFactory(owner=agent, first_name="Grace", last_name="Hopper", property_address="9 Oak Road")
    for typed in [
        "ada lovelace",
        "LOVELACE",
        "ada@example",
        "12 elm",
        "(413) 555-0187",
        "413.555.0187",
        "+1 413 555 0187",
        "4135550187",
        "555-0187",
    ]:
        assert listed(client, q=typed) == [ada.pk], typed
    assert listed(client, q="ada hopper") == []


def test_a_broker_filters_by_owner_and_an_agent_cannot(client):
    broker, alex = AgentFactory(broker=True), AgentFactory()
    theirs = LeadFactory(owner=alex.user)
    unassigned = LeadFactory(owner=None)
    client.force_login(broker.user)
    assert listed(client, owner=alex.user.pk) == [theirs.pk]
    assert listed(client, owner="null") == [unassigned.pk]
    client.force_login(alex.user)
    response = client.get(reverse("leads:lead-list"), {"owner": broker.user.pk})
    assert "owner" not in response.context["filter"].form.fields
    assert [lead.pk for lead in response.context["page"].object_list] == [theirs.pk]


def test_columns_sort_both_ways_and_never_contacted_counts_as_longest_without_contact(
    client, agent
):
    now = timezone.now()
    zed = LeadFactory(owner=agent, last_name="Zed", last_personal_contact_at=now)
    abe = LeadFactory(
        owner=agent, last_name="Abe", last_personal_contact_at=now - timedelta(days=9)
    )
    never = LeadFactory(owner=agent, last_name="Moss")
    assert listed(client, sort="name") == [abe.pk, never.pk, zed.pk]
    assert listed(client, sort="-name") == [zed.pk, never.pk, abe.pk]
    assert listed(client, sort="last_contact") == [never.pk, abe.pk, zed.pk]
    assert listed(client, sort="-last_contact") == [zed.pk, abe.pk, never.pk]
    assert listed(client) == [never.pk, abe.pk, zed.pk]  # newest first


def test_bad_filter_values_are_explained_not_a_crash(client, agent):
    lead = LeadFactory(owner=agent)
    response = client.get(
        reverse("leads:lead-list"), {"intent": "scorching", "no_contact_days": "-3", "page": "999"}
    )
    assert response.status_code == 200
    errors = response.context["filter"].form.errors
    assert "intent" in errors and "no_contact_days" in errors
    assert [row.pk for row in response.context["page"].object_list] == [lead.pk]


def test_the_list_pages_25_at_a_time(client, agent):
    for _ in range(30):
        LeadFactory(owner=agent)
    first = client.get(reverse("leads:lead-list"))
    second = client.get(reverse("leads:lead-list"), {"page": 2})
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5
    assert "Page 1 of 2" in first.content.decode()


@pytest.mark.parametrize("count", [3, 60])
def test_the_list_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries, count):
    broker = AgentFactory(broker=True)
    track = TrackFactory()
    for _ in range(count):
        LeadFactory(owner=AgentFactory().user, nurture_track=track)
    SavedFilterFactory(owner=broker.user)
    client.force_login(broker.user)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("leads:lead-list"), {"q": "example", "sort": "name"})
    assert response.status_code == 200


def test_saving_a_filter_keeps_the_filters_not_the_page(client, agent):
    response = client.post(
        reverse("leads:saved-filter-create"),
        {"name": "Hot sellers", "query": "intent=hot&side=seller&page=3&bogus=1", "pinned": "on"},
    )
    saved = SavedFilter.objects.get(owner=agent)
    assert (saved.name, saved.query, saved.pinned) == (
        "Hot sellers",
        "intent=hot&side=seller",
        True,
    )
    assert response["Location"] == f"{reverse('leads:lead-list')}?intent=hot&side=seller"
    page = client.get(response["Location"])
    assert page.context["current_list"] == saved


def test_a_duplicate_list_name_is_refused_with_a_message(client, agent):
    SavedFilterFactory(owner=agent, name="Hot sellers")
    response = client.post(
        reverse("leads:saved-filter-create"),
        {"name": "hot sellers", "query": "intent=hot"},
        follow=True,
    )
    assert "You already have a list called" in response.content.decode()
    assert SavedFilter.objects.filter(owner=agent).count() == 1


def test_suggested_lists_can_be_pinned_and_then_unpinned_and_deleted(client, agent):
    suggested = DEFAULT_SMART_LISTS[0]
    page = client.get(reverse("leads:lead-list"))
    assert suggested in page.context["suggested_lists"]
    client.post(
        reverse("leads:saved-filter-create"),
        {"name": suggested.name, "query": suggested.query, "pinned": "on"},
    )
    saved = SavedFilter.objects.get(owner=agent)
    assert suggested not in client.get(reverse("leads:lead-list")).context["suggested_lists"]
    client.post(reverse("leads:saved-filter-pin", args=[saved.pk]))
    saved.refresh_from_db()
    assert saved.pinned is False
    client.post(reverse("leads:saved-filter-delete", args=[saved.pk]))
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()


def test_default_smart_lists_are_valid_filters(client, agent):
    for smart in DEFAULT_SMART_LISTS:
        response = client.get(f"{reverse('leads:lead-list')}?{smart.query}")
        assert response.context["filter"].form.errors == {}, smart.name
        assert normalised_query(response.wsgi_request.GET) == smart.query


def _export(client, **params) -> list[list[str]]:
    response = client.get(reverse("leads:lead-export"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_is_the_filtered_list_and_cannot_run_formulas(client, agent):
    LeadFactory(owner=agent, first_name='=HYPERLINK("http://x")', last_name="@SUM(A1)", hot=True)
    LeadFactory(owner=agent, first_name="Warm", last_name="Lead")
    LeadFactory(owner=AgentFactory().user, hot=True, first_name="Someone", last_name="Else")
    rows = _export(client, intent="hot")
    header, body = rows[0], rows[1:]
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    assert row["first name"] == '\'=HYPERLINK("http://x")'
    assert row["last name"] == "'@SUM(A1)"
    assert row["intent"] == "Hot"


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1 413", "'+1 413"),
        ("-2", "'-2"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("Ada", "Ada"),
        (None, ""),
    ],
)
def test_csv_cells_that_look_like_formulas_are_quoted(value, safe):
    assert csv_safe(value) == safe


def test_the_export_streams_many_rows_in_a_few_queries(client, django_assert_max_num_queries):
    broker = AgentFactory(broker=True)
    for _ in range(60):
        LeadFactory(owner=broker.user)
    client.force_login(broker.user)
    with django_assert_max_num_queries(6):
        rows = _export(client)
    assert len(rows) == 61


def test_a_very_long_list_says_more_than_instead_of_counting_everything(client, agent, monkeypatch):
    monkeypatch.setattr("leads.views.lead_list.COUNT_CAP", 3)
    monkeypatch.setattr("leads.views.lead_list.PAGE_SIZE", 2)
    for _ in range(6):
        LeadFactory(owner=agent)
    response = client.get(reverse("leads:lead-list"))
    body = response.content.decode()
    assert "More than 3 leads" in body
    assert ">Last<" not in body and ">Next<" in body
    second = client.get(reverse("leads:lead-list"), {"page": 2})
    assert len(second.context["page"].object_list) == 2

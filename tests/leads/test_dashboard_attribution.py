"""Where a lead came from, on screen: the lead page names its channel, origin and attribution;
the list filters by channel and origin (an agent among their own leads only); the export
carries both."""

import csv
import io

import pytest
from django.core.cache import cache
from django.urls import reverse

from leads.models import Channel, Lead
from leads.selectors import _all_origins, origins_visible_to
from leads.views.lead import attribution_rows
from tests.factories import AgentFactory, LeadFactory

pytestmark = pytest.mark.django_db

META_ATTRIBUTION = {
    "campaign_id": "120210000000001",
    "campaign_name": "Spring home valuation",
    "ad_id": "120210000000003",
    "ad_name": "What is your home worth? (carousel)",
    "adset_name": "Springfield homeowners 35+",
    "form_id": "880000000000001",
    "page_id": "104857600000001",
}


def test_the_lead_page_shows_the_channel_origin_and_campaign(client, agent):
    lead = LeadFactory(
        owner=agent,
        channel=Channel.META,
        origin="Harbor & Main Realty · Home valuation",
        attribution=META_ATTRIBUTION,
    )
    html = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "Channel: Meta lead ads" in html
    assert "Harbor &amp; Main Realty · Home valuation" in html  # escaped: payloads are text
    for text in ("Spring home valuation", "120210000000001", "What is your home worth?"):
        assert text in html
    assert "Treated as a home valuation funnel lead" in html  # not "came in through the form"


def test_a_form_lead_says_it_came_through_our_own_form(client, agent):
    lead = LeadFactory(owner=agent, source=Lead.Source.GIVEAWAY)
    html = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "Channel: Hosted form" in html and "Our own form" in html
    assert "Came in through the giveaway form" in html


def test_attribution_reads_known_names_first_and_never_shows_a_credential():
    rows = attribution_rows(
        {
            "ad_id": "3",
            "campaign_name": "Spring",
            "system": "IDX Broker",
            "system_key": "sk_live_do_not_show",
            "campaign": {"source": "facebook", "medium": "paid", "term": ""},
            "tags": ["seller", "", "valuation"],
            "page_token": "EAAB-secret",
            "note": None,
        }
    )
    assert rows == [
        ("System", "IDX Broker"),
        ("Campaign", "Spring"),
        ("Ad id", "3"),
        ("Campaign source", "facebook"),
        ("Campaign medium", "paid"),
        ("Tags", "seller, valuation"),
    ]


@pytest.mark.parametrize("attribution", [{}, None, [], "campaign=1", {"x": {"y": {}}}])
def test_attribution_of_any_shape_never_breaks_the_page(attribution):
    assert attribution_rows(attribution) == []


def test_a_huge_attribution_is_cut_to_what_a_card_shows():
    rows = attribution_rows({f"field_{n}": "x" * 1000 for n in range(50)})
    assert len(rows) == 20 and all(len(value) == 200 for _, value in rows)


def listed(client, **params) -> set[str]:
    response = client.get(reverse("leads:lead-list"), params)
    assert response.status_code == 200
    return {lead.first_name for lead in response.context["page"].object_list}


@pytest.fixture
def channel_leads(alex, sam):
    LeadFactory(owner=alex, first_name="Zed", channel=Channel.EMAIL, origin="Zillow")
    LeadFactory(owner=alex, first_name="Zoe", channel=Channel.API, origin="Zillow")
    LeadFactory(owner=alex, first_name="Idris", channel=Channel.API, origin="harborandmain.com")
    LeadFactory(owner=alex, first_name="Fay")  # our own form, no origin
    LeadFactory(owner=sam, first_name="Rita", channel=Channel.EMAIL, origin="Realtor.com")
    LeadFactory(owner=sam, first_name="Zack", channel=Channel.EMAIL, origin="Zillow")


def test_an_agent_filters_their_leads_by_channel_and_origin(client, agent, channel_leads):
    assert listed(client, channel="email") == {"Zed"}
    assert listed(client, channel="api") == {"Zoe", "Idris"}
    assert listed(client, origin="Zillow") == {"Zed", "Zoe"}  # not Sam's Zack
    assert listed(client, origin="Zillow", channel="api") == {"Zoe"}
    assert listed(client, channel="form") == {"Fay"}
    # The choices are the origins of their own leads: Sam's Realtor.com is not offered.
    form = client.get(reverse("leads:lead-list")).context["filter"].form
    choices = [value for value, _ in form.fields["origin"].choices]
    assert choices[0] == "" and set(choices[1:]) == {"Zillow", "harborandmain.com"}
    assert listed(client, origin="Realtor.com") == set()  # typed by hand: still only theirs


def test_a_broker_sees_every_origin_and_an_origin_not_yet_listed_still_filters(
    client, broker, channel_leads
):
    client.force_login(broker)
    response = client.get(reverse("leads:lead-list"))
    choices = [value for value, _ in response.context["filter"].form.fields["origin"].choices]
    assert choices[0] == "" and set(choices[1:]) == {"Realtor.com", "Zillow", "harborandmain.com"}
    assert "Realtor.com" in response.content.decode()  # the origin under the source, too
    # A new origin arrives while the choices are cached: a saved list naming it still works.
    LeadFactory(first_name="Hank", channel=Channel.EMAIL, origin="Homes.com")
    response = client.get(reverse("leads:lead-list"), {"origin": "Homes.com"})
    assert {lead.first_name for lead in response.context["page"].object_list} == {"Hank"}
    assert 'value="Homes.com" selected' in response.content.decode()
    cache.clear()
    form = client.get(reverse("leads:lead-list")).context["filter"].form
    assert ("Homes.com", "Homes.com") in form.fields["origin"].choices


def test_the_brokers_origins_are_every_distinct_origin_in_order(broker):
    for origin in ["Zillow", "Redfin", "Zillow", "", "Homes.com", "Redfin", "zillow"]:
        LeadFactory(origin=origin)
    names = origins_visible_to(broker)
    assert sorted(names) == sorted({"Zillow", "Redfin", "Homes.com", "zillow"})
    assert names == list(
        Lead.objects.exclude(origin="")
        .order_by("origin")
        .values_list("origin", flat=True)
        .distinct()
    )  # the database's own order
    assert _all_origins(2) == names[:2]  # at most as many as asked for


def test_bad_channel_or_origin_values_are_explained_not_a_crash(client, agent, channel_leads):
    response = client.get(reverse("leads:lead-list"), {"channel": "carrier-pigeon"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = client.get(reverse("leads:lead-list"), {"origin": "x" * 201})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_origin_filter_matches_exactly_on_the_indexed_column(client, agent, channel_leads):
    """Exact, so the lead_origin_created index (origin, created_at) serves the newest first."""
    response = client.get(reverse("leads:lead-list"), {"origin": "Zillow"})
    sql = str(response.context["page"].paginator.object_list.query)
    assert '"leads_lead"."origin" = Zillow' in sql
    assert listed(client, origin="zillow") == set()


def test_saved_lists_keep_the_channel_and_origin(client, agent, channel_leads):
    response = client.post(
        reverse("leads:saved-filter-create"),
        {"name": "Zillow by email", "query": "origin=Zillow&channel=email&page=3", "pinned": "on"},
    )
    assert response["Location"].endswith("?channel=email&origin=Zillow")


def test_the_lead_list_queries_stay_few_with_the_new_filters(
    client, broker, django_assert_max_num_queries
):
    for n in range(30):
        LeadFactory(owner=AgentFactory().user, channel=Channel.EMAIL, origin=f"Portal {n % 7}")
    client.force_login(broker)
    with django_assert_max_num_queries(12):
        response = client.get(
            reverse("leads:lead-list"), {"channel": "email", "origin": "Portal 3"}
        )
    assert len(response.context["page"].object_list) == 4


def test_the_export_holds_the_channel_and_origin(client, agent, channel_leads):
    response = client.get(reverse("leads:lead-export"), {"origin": "Zillow"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted((row["first name"], row["channel"], row["origin"]) for row in rows) == [
        ("Zed", "Portal email", "Zillow"),
        ("Zoe", "Events API", "Zillow"),
    ]


def test_an_origin_that_looks_like_a_formula_is_defused_in_the_export(client, agent):
    LeadFactory(owner=agent, channel=Channel.API, origin="=cmd|' /C calc'!A0")
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(client.get(reverse("leads:lead-export")).streaming_content).decode()
            )
        )
    )
    assert rows[0]["origin"] == "'=cmd|' /C calc'!A0"

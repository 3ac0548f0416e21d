"""Who owns a new lead: rules in order, round robin that skips the unavailable, a group to claim."""

from collections import Counter
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from leads import intake
from leads.models import AssignmentRule, Channel, Integration, Lead, LeadEvent
from leads.ownership import agent_on_duty, lead_assign
from realtycrm.flows.intake import channel_submission_process
from tests.factories import (
    AgentFactory,
    AssignmentRuleFactory,
    IntegrationFactory,
    LeadFactory,
    UserFactory,
)
from tests.helpers import post_intake

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


def test_round_robin_distributes_evenly_and_skips_paused_agents():
    alex, sam, kim = (AgentFactory().user for _ in range(3))
    paused = AgentFactory(on_vacation=True).user
    owners = Counter(lead_assign(LeadFactory(owner=None)).owner for _ in range(9))
    assert owners == {alex: 3, sam: 3, kim: 3}
    assert paused not in owners


def test_rules_run_in_order_and_the_first_match_wins():
    valuation_team = AgentFactory().user
    hot_team = AgentFactory().user
    AssignmentRuleFactory(
        name="Valuations", source="valuation", position=1, members=[valuation_team]
    )
    AssignmentRuleFactory(name="Hot", intent="hot", position=2, members=[hot_team])
    assert lead_assign(LeadFactory(source="valuation", hot=True)).owner == valuation_team
    assert lead_assign(LeadFactory(source="giveaway", hot=True)).owner == hot_team


def test_neighbourhood_and_postal_code_rules():
    forest_park = AgentFactory().user
    zip_01108 = AgentFactory().user
    AssignmentRuleFactory(neighbourhood="Forest Park", position=1, members=[forest_park])
    AssignmentRuleFactory(postal_code_prefix="011 08", position=2, members=[zip_01108])
    assert lead_assign(LeadFactory(neighbourhood="forest park")).owner == forest_park
    assert lead_assign(LeadFactory(neighbourhood="", postal_code="01108-1234")).owner == zip_01108


def test_a_solo_agent_gets_everything_without_configuration():
    solo = AgentFactory().user
    assert {lead_assign(LeadFactory()).owner for _ in range(3)} == {solo}


def test_every_assignment_is_on_the_timeline_with_the_rule_that_decided():
    agent = AgentFactory().user
    lead = LeadFactory(owner=None)
    lead_assign(lead)
    event = lead.events.get(kind=LeadEvent.Kind.ASSIGNED)
    rule = AssignmentRule.objects.get()
    assert event.data == {"from": None, "to": agent.pk, "rule": rule.pk, "how": "rule"}
    assert rule.name in event.summary


def test_when_the_whole_group_is_paused_the_fallback_gets_the_lead_never_a_paused_agent():
    paused = AgentFactory(on_vacation=True).user
    fallback = AgentFactory().user
    AssignmentRuleFactory(position=1, members=[paused], fallback=fallback)
    assignment = lead_assign(LeadFactory())
    assert assignment.owner == fallback
    assert "nobody in the group is available" in assignment.why


def test_with_nobody_at_all_a_broker_takes_it():
    AgentFactory(on_vacation=True)
    broker = AgentFactory(broker=True).user
    assert lead_assign(LeadFactory()).owner == broker


def test_agents_on_duty_are_preferred_to_agents_off_duty():
    day = AgentFactory(work_start=time(9), work_end=time(17), work_days="01234").user
    night = AgentFactory(work_start=time(22), work_end=time(6), work_days="0123456").user
    at_noon = datetime(2026, 11, 25, 12, 0, tzinfo=NY)  # a Wednesday
    at_two_am = datetime(2026, 11, 25, 2, 0, tzinfo=NY)
    assert {lead_assign(LeadFactory(), now=at_noon).owner for _ in range(3)} == {day}
    assert {lead_assign(LeadFactory(), now=at_two_am).owner for _ in range(3)} == {night}


def test_on_duty_handles_weekends_and_shifts_past_midnight():
    agent = AgentFactory.build(work_start=time(22), work_end=time(6), work_days="4")  # Fridays
    assert agent_on_duty(agent, datetime(2026, 11, 27, 23, 0, tzinfo=NY))  # Friday 23:00
    assert not agent_on_duty(agent, datetime(2026, 11, 26, 23, 0, tzinfo=NY))  # Thursday
    assert agent_on_duty(
        AgentFactory.build(), datetime(2026, 11, 29, 3, 0, tzinfo=NY)
    )  # no hours set


def test_first_to_claim_offers_the_lead_to_the_available_group():
    alex, sam = AgentFactory().user, AgentFactory().user
    AgentFactory(on_vacation=True)
    AssignmentRuleFactory(
        position=1, policy=AssignmentRule.Policy.FIRST_TO_CLAIM, members=[alex, sam]
    )
    lead = LeadFactory(owner=None)
    assignment = lead_assign(lead)
    assert assignment.owner is None
    assert set(assignment.claim_group) == {alex, sam}
    lead.refresh_from_db()
    assert lead.owner is None


def test_reassignment_excludes_the_previous_owner():
    alex, sam = AgentFactory().user, AgentFactory().user
    lead = LeadFactory(owner=alex)
    assignment = lead_assign(lead, exclude=[alex])
    assert assignment.owner == sam
    assert lead.events.filter(kind=LeadEvent.Kind.REASSIGNED).exists()


def test_a_rule_for_hot_leads_takes_a_hot_lead_from_the_form(client):
    """The owner is chosen after segmentation, so a rule naming the intent sees the lead's."""
    AgentFactory()  # the catch-all's group
    hot_team = AgentFactory().user
    AssignmentRuleFactory(name="Hot", intent="hot", position=1, members=[hot_team])
    post_intake(client, "giveaway", timeline="within_3_months")
    post_intake(client, "giveaway", timeline="just_curious", email="b@example.com", phone="")
    hot, long_term = Lead.objects.order_by("id")
    assert (hot.intent, hot.owner) == ("hot", hot_team)
    assert long_term.intent == "long_term" and long_term.owner != hot_team


# --- A channel names the owner or the rule (an integration's default owner or rule, a
# plus-addressed inbox): honoured while that owner can take leads, never a paused one.


def test_an_owner_named_by_the_channel_gets_the_lead_before_any_rule():
    rule_team = AgentFactory().user
    named = AgentFactory().user
    AssignmentRuleFactory(name="Everyone to the team", position=1, members=[rule_team])
    lead = LeadFactory(owner=None)
    assignment = lead_assign(lead, owner=named, why="the default owner of the Zillow inbox")
    lead.refresh_from_db()
    assert (assignment.owner, assignment.rule, lead.owner) == (named, None, named)
    event = lead.events.get(kind=LeadEvent.Kind.ASSIGNED)
    assert event.data == {"from": None, "to": named.pk, "rule": None, "how": "channel"}
    assert "the default owner of the Zillow inbox" in event.summary


@pytest.mark.parametrize(
    "unavailable",
    [
        {"paused": True, "paused_reason": "Vacation"},
        {"active": False},
        {"user__is_active": False},
    ],
    ids=["paused", "inactive agent", "disabled login"],
)
def test_a_named_owner_who_cannot_take_leads_is_passed_over_for_the_rules(unavailable):
    colleague = AgentFactory().user
    named = AgentFactory(**unavailable).user
    AssignmentRuleFactory(position=1, members=[named, colleague])
    owners = {lead_assign(LeadFactory(owner=None), owner=named).owner for _ in range(3)}
    assert owners == {colleague}


def test_a_named_user_without_an_agent_profile_is_passed_over():
    agent = AgentFactory().user
    stranger = UserFactory()
    assert lead_assign(LeadFactory(owner=None), owner=stranger).owner == agent


def test_a_rule_named_by_the_channel_decides_even_when_an_earlier_rule_matches():
    first_team = AgentFactory().user
    meta_team = AgentFactory().user
    AssignmentRuleFactory(name="Valuations", source="valuation", position=1, members=[first_team])
    # It would match nothing by itself (giveaways only): the channel's word is enough.
    meta_rule = AssignmentRuleFactory(
        name="Meta leads", source="giveaway", position=2, members=[meta_team]
    )
    lead = LeadFactory(owner=None, source="valuation")
    assignment = lead_assign(lead, rule=meta_rule)
    assert (assignment.owner, assignment.rule) == (meta_team, meta_rule)
    assert lead.events.get(kind=LeadEvent.Kind.ASSIGNED).data["rule"] == meta_rule.pk
    # Without it, the first matching rule, as always.
    assert lead_assign(LeadFactory(owner=None, source="valuation")).owner == first_team


def test_a_named_rule_whose_group_is_paused_falls_back_like_any_rule():
    paused = AgentFactory(on_vacation=True).user
    fallback = AgentFactory().user
    rule = AssignmentRuleFactory(position=5, members=[paused], fallback=fallback)
    assert lead_assign(LeadFactory(owner=None), rule=rule).owner == fallback


def test_an_inactive_named_rule_is_ignored():
    off_team, everyone_else = AgentFactory().user, AgentFactory().user
    off = AssignmentRuleFactory(position=1, members=[off_team], active=False)
    AssignmentRuleFactory(position=2, members=[everyone_else])
    assert lead_assign(LeadFactory(owner=None), rule=off).owner == everyone_else


def test_a_paused_named_owner_leaves_the_lead_to_the_named_rule():
    named = AgentFactory(on_vacation=True).user
    rule_team = AgentFactory().user
    AgentFactory()  # someone the catch-all could pick instead
    rule = AssignmentRuleFactory(position=3, members=[rule_team])
    assignment = lead_assign(LeadFactory(owner=None), owner=named, rule=rule)
    assert (assignment.owner, assignment.rule) == (rule_team, rule)


def _channel_lead(integration, email):
    submission = intake.submission_receive(
        integration.default_source,
        {"email": email},
        intake.RequestInfo(),
        channel=Channel.EMAIL,
        integration=integration,
        origin=integration.origin,
        mapped=intake.channel_mapping({"first_name": "Ada", "email": email}),
    )
    return channel_submission_process(submission)


def test_the_intake_flow_gives_a_channels_lead_to_its_integrations_owner_or_rule():
    """End to end: the integration's default owner, while available; else its rule."""
    inbox_owner = AgentFactory().user
    rule_team = AgentFactory().user
    AgentFactory()  # the catch-all's other choice
    rule = AssignmentRuleFactory(position=3, members=[rule_team])
    zillow = IntegrationFactory(
        kind=Integration.Kind.EMAIL, default_owner=inbox_owner, assignment_rule=rule
    )
    assert _channel_lead(zillow, "one@example.com").owner == inbox_owner

    inbox_owner.agent.paused = True
    inbox_owner.agent.save()
    zillow.refresh_from_db()
    assert _channel_lead(zillow, "two@example.com").owner == rule_team

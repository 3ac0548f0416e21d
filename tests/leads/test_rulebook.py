"""The broker-edited rules every process keeps in memory (leads.rulebook): read once, and read
again as soon as any process changes them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import AssignmentRule, RoutingRule, RulesVersion
from leads.ownership import active_rules, rule_group
from leads.routing import routing_rules
from leads.rulebook import rules_read_once
from sequences.models import Template
from sequences.rendering import template_for
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def test_the_rules_are_read_once_then_only_their_version_is_checked():
    routing_rules(), template_for("ack_sms", source="valuation")  # read (or kept already)
    with CaptureQueriesContext(connection) as queries, rules_read_once():
        routing_rules(), routing_rules(), template_for("ack_sms", source="valuation")
        template_for("ack_email", source="valuation")
    reads = [query["sql"] for query in queries]
    assert len(reads) == 1, reads  # only the version, once
    assert "leads_rulesversion" in reads[0]


def test_a_rule_saved_here_is_read_at_once():
    rule = RoutingRule.objects.filter(alert=True).first()
    assert any(r.id == rule.id and r.alert for r in routing_rules())
    rule.alert = False
    rule.save()
    assert any(r.id == rule.id and not r.alert for r in routing_rules())


def test_a_rule_another_process_changed_is_read_at_the_next_use():
    """Another process's save changes the rows and the version token in the database; this
    process's memory is not told, and still reads the new rule."""
    template = template_for("ack_sms", source="valuation")
    Template.objects.filter(pk=template.pk).update(body="Changed elsewhere")  # no signal here
    assert template_for("ack_sms", source="valuation").body == template.body  # kept
    RulesVersion.objects.filter(pk=1).update(token="changed-by-another-process")
    assert template_for("ack_sms", source="valuation").body == "Changed elsewhere"


def test_a_deleted_rule_is_gone_at_once():
    rule = RoutingRule.objects.first()
    assert rule.id in {r.id for r in routing_rules()}
    rule.delete()
    assert rule.id not in {r.id for r in routing_rules()}


def test_a_change_to_an_assignment_group_is_read_at_once():
    rule = AssignmentRule.objects.create(name="Hot team", intent="hot", position=1)
    first, second = AgentFactory().user, AgentFactory().user
    rule.members.add(first)
    cached = next(r for r in active_rules() if r.pk == rule.pk)
    assert rule_group(cached) == [first]
    rule.members.add(second)  # no save of the rule: its group changed
    cached = next(r for r in active_rules() if r.pk == rule.pk)
    assert {user.pk for user in rule_group(cached)} == {first.pk, second.pk}

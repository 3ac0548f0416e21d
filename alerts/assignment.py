"""Assignment: who owns a new lead. One entry point, `lead_assign`, called by leads.routing.

    first matching rule ─▶ its group's available agents ─▶ round robin, or offer to all (claim)
                         └─ nobody available ─▶ the rule's fallback, else a broker

An agent who is paused (vacation, off duty by choice) is never handed a lead. Agents on duty (inside
their working hours) are preferred; when nobody in the group is on duty the lead goes to an
available agent anyway, to be worked when they start, rather than to the broker.
"""

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from leads.models import Agent, Lead, LeadEvent
from leads.services import lead_event_record

from .models import AssignmentRule

User = get_user_model()


def agent_available(agent: Agent) -> bool:
    """Can take new leads at all: active, signed-in account enabled, not paused."""
    return agent.active and agent.user.is_active and not agent.paused


def agent_on_duty(agent: Agent, now: datetime) -> bool:
    """Inside the agent's working hours (always, when they set none)."""
    if agent.work_start is None or agent.work_end is None:
        return True
    local = now.astimezone(ZoneInfo(agent.time_zone))
    if str(local.weekday()) not in agent.work_days:
        return False
    start, end, moment = agent.work_start, agent.work_end, local.time()
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # a shift that runs past midnight


def rule_matches(rule: AssignmentRule, lead: Lead) -> bool:
    return (
        rule.source in ("", lead.source)
        and rule.intent in ("", lead.intent)
        and rule.side in ("", lead.side)
        and (
            not rule.neighbourhood or rule.neighbourhood.casefold() == lead.neighbourhood.casefold()
        )
        and (
            not rule.postal_code_prefix
            or lead.postal_code.replace(" ", "")
            .upper()
            .startswith(rule.postal_code_prefix.replace(" ", "").upper())
        )
    )


def next_in_turn(candidates: list, last_id: int | None):
    """Round robin: the first candidate (by id) after the last one served, wrapping around."""
    ordered = sorted(candidates, key=lambda user: user.pk)
    later = [user for user in ordered if last_id is not None and user.pk > last_id]
    return (later or ordered)[0]


@dataclass
class Assignment:
    owner: object | None
    rule: AssignmentRule | None
    why: str
    claim_group: list = field(default_factory=list)


def active_rules() -> list[AssignmentRule]:
    return list(AssignmentRule.objects.filter(active=True).prefetch_related("members__agent"))


def rule_group(rule: AssignmentRule | None) -> list:
    """The rule's members, or every agent (not broker) when it names none. With no agents at
    all, leads fall to the brokers, so a one-person brokerage works without configuration."""
    if rule is not None:
        members = [user for user in rule.members.all() if hasattr(user, "agent")]
        if members:
            return members
    return list(User.objects.filter(agent__role=Agent.Role.AGENT).select_related("agent"))


def brokers() -> list:
    return [
        user
        for user in User.objects.filter(agent__role=Agent.Role.BROKER).select_related("agent")
        if agent_available(user.agent)
    ]


@transaction.atomic
def lead_assign(lead: Lead, *, now: datetime | None = None, exclude=(), actor=None) -> Assignment:
    """Choose the lead's owner (or offer it to a group to claim) and record why on its timeline."""
    now = now or timezone.now()
    rule = next((rule for rule in active_rules() if rule_matches(rule, lead)), None)
    excluded = {user.pk for user in exclude}
    available = [
        user for user in rule_group(rule) if user.pk not in excluded and agent_available(user.agent)
    ]
    on_duty = [user for user in available if agent_on_duty(user.agent, now)]
    pool = on_duty or available
    rule_name = f"rule “{rule.name}”" if rule else "no matching rule"

    if rule and rule.policy == AssignmentRule.Policy.FIRST_TO_CLAIM and len(pool) > 1:
        assignment = Assignment(
            owner=None,
            rule=rule,
            why=f"offered to {len(pool)} agents by {rule_name}",
            claim_group=pool,
        )
        lead_event_record(
            lead,
            LeadEvent.Kind.ASSIGNED,
            actor=actor,
            summary=f"Offered to {', '.join(_name(user) for user in pool)} (first to claim)",
            data={"rule": rule.pk, "policy": rule.policy, "group": [user.pk for user in pool]},
        )
        return assignment

    if pool:
        if rule is not None:
            rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
            owner = next_in_turn(pool, rule.last_assigned_id)
            rule.last_assigned = owner
            rule.save(update_fields=["last_assigned"])
        else:
            owner = next_in_turn(pool, None)
        why = f"{rule_name} ({'on duty' if on_duty else 'nobody on duty'})"
    else:
        fallback = rule.fallback if rule and rule.fallback_id not in excluded else None
        candidates = [fallback] if fallback else [b for b in brokers() if b.pk not in excluded]
        owner = candidates[0] if candidates else None
        why = f"{rule_name}: nobody in the group is available"

    lead.owner = owner
    Lead.objects.filter(pk=lead.pk).update(owner=owner)
    kind = LeadEvent.Kind.REASSIGNED if excluded else LeadEvent.Kind.ASSIGNED
    lead_event_record(
        lead,
        kind,
        actor=actor,
        summary=f"{'Reassigned' if excluded else 'Assigned'} to {_name(owner)} by {why}"
        if owner
        else f"Nobody could take this lead ({why})",
        data={"owner": owner.pk if owner else None, "rule": rule.pk if rule else None},
    )
    return Assignment(owner=owner, rule=rule, why=why)


def _name(user) -> str:
    return user.get_full_name() or user.get_username()

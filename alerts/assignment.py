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
    return list(
        AssignmentRule.objects.filter(active=True)
        .select_related("fallback__agent")
        .prefetch_related("members__agent")
    )


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


def _pool(rule: AssignmentRule | None, excluded: set[int], now: datetime) -> tuple[list, bool]:
    """The rule's agents who can take a lead now: those on duty if any, else the available."""
    available = [
        user for user in rule_group(rule) if user.pk not in excluded and agent_available(user.agent)
    ]
    on_duty = [user for user in available if agent_on_duty(user.agent, now)]
    return (on_duty or available), bool(on_duty)


@transaction.atomic
def lead_assign(lead: Lead, *, now: datetime | None = None, exclude=(), actor=None) -> Assignment:
    """Choose the lead's owner (or offer it to a group to claim) and record why on its timeline.

    The first matching rule decides; when nobody in its group can take the lead, its fallback
    does, else the next matching rule (the catch-all, in the end), else a broker. `exclude` is for
    reassignment: those agents are passed over (and a group offer becomes a plain turn).
    """
    now = now or timezone.now()
    excluded = {user.pk for user in exclude}
    matching = [rule for rule in active_rules() if rule_matches(rule, lead)]
    owner, decided_by, why = None, None, "no matching rule, nobody available: a broker"
    for rule in matching or [None]:
        pool, on_duty = _pool(rule, excluded, now)
        rule_name = f"rule “{rule.name}”" if rule else "no matching rule"
        if (
            rule
            and rule.policy == AssignmentRule.Policy.FIRST_TO_CLAIM
            and len(pool) > 1
            and not excluded
        ):
            return _offer(lead, rule, pool, actor)
        if pool:
            owner, decided_by = _next_turn(rule, pool), rule
            why = f"{rule_name} ({'on duty' if on_duty else 'nobody on duty'})"
            break
        fallback = rule.fallback if rule else None
        if fallback and fallback.pk not in excluded and agent_available(fallback.agent):
            owner, decided_by = fallback, rule
            why = f"{rule_name}: nobody in the group is available, its fallback"
            break
    else:
        owner = next((b for b in brokers() if b.pk not in excluded), None)
        why = "nobody in any matching rule is available: a broker"

    lead.owner = owner
    Lead.objects.filter(pk=lead.pk).update(owner=owner)
    verb = "Reassigned" if excluded else "Assigned"
    lead_event_record(
        lead,
        LeadEvent.Kind.REASSIGNED if excluded else LeadEvent.Kind.ASSIGNED,
        actor=actor,
        summary=f"{verb} to {_name(owner)} by {why}"
        if owner
        else f"Nobody could take this lead ({why})",
        data={"owner": owner.pk if owner else None, "rule": decided_by.pk if decided_by else None},
    )
    return Assignment(owner=owner, rule=decided_by, why=why)


def _next_turn(rule: AssignmentRule | None, pool: list):
    """Round robin within the rule, serialised on the rule's row so two leads arriving at once
    go to two agents."""
    if rule is None:
        return next_in_turn(pool, None)
    locked = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    owner = next_in_turn(pool, locked.last_assigned_id)
    AssignmentRule.objects.filter(pk=rule.pk).update(last_assigned=owner)
    return owner


def _offer(lead: Lead, rule: AssignmentRule, pool: list, actor) -> Assignment:
    lead_event_record(
        lead,
        LeadEvent.Kind.ASSIGNED,
        actor=actor,
        summary=f"Offered to {', '.join(_name(user) for user in pool)} (first to claim)",
        data={"rule": rule.pk, "policy": rule.policy, "group": [user.pk for user in pool]},
    )
    return Assignment(
        owner=None,
        rule=rule,
        why=f"offered to {len(pool)} agents by rule “{rule.name}”",
        claim_group=pool,
    )


def _name(user) -> str:
    return user.get_full_name() or user.get_username()

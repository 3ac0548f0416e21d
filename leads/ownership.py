"""Ownership: who owns a lead, and the one function that changes it.

    lead_assign       a new lead's owner: first matching rule ─▶ its group's available agents ─▶
                      round robin, or an offer to all (first to claim)
                      └─ nobody available ─▶ the rule's fallback, else a broker
    owner_kept        a lead that arrives owned (a re-engaging contact of the old database)
                      keeps its owner while they can take leads; else lead_assign decides
    lead_claim        first to claim an offered lead owns it (one winner, even at the same instant)
    offers_expired    offers nobody claimed in time; lead_offer_fallback gives such a lead away
    lead_set_owner    every change of owner goes through here: one writer, one timeline format

An agent who is paused (vacation, off duty by choice) is never handed a lead. Agents on duty (inside
their working hours) are preferred; when nobody in the group is on duty the lead goes to an
available agent anyway, to be worked when they start, rather than to the broker. Interrupting the
new owner is the alerts app's job; the flows (realtycrm/flows/) call both in order.
"""

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from realtycrm.clock import in_daily_window

from .models import Agent, AssignmentRule, ClaimOffer, Lead, LeadEvent
from .names import person_name
from .rulebook import rulebook_cached
from .segmentation import criteria_match
from .services import lead_event_record

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
    return in_daily_window(local.time(), agent.work_start, agent.work_end)


def rule_matches(rule: AssignmentRule, lead: Lead) -> bool:
    return (
        criteria_match((rule.source, rule.intent, rule.side), (lead.source, lead.intent, lead.side))
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
    """The active rules, first to match first: read once, then from memory while no rule or
    group changes (leads.rulebook). Each call gets copies of its own, so what a request loads
    on a rule (its fallback) is never another request's; the people in each group (and whether
    they can take a lead now) are read fresh by rule_group."""
    rules, _ = rulebook_cached("assignment_rules", _assignment_rules)
    return [copy.copy(rule) for rule in rules]


def _assignment_rules() -> tuple[list[AssignmentRule], dict[int, tuple[int, ...]]]:
    rules = list(AssignmentRule.objects.filter(active=True))
    members: dict[int, list[int]] = {rule.pk: [] for rule in rules}
    for rule_id, user_id in AssignmentRule.members.through.objects.filter(
        assignmentrule_id__in=members
    ).values_list("assignmentrule_id", "user_id"):
        members[rule_id].append(user_id)
    return rules, {rule_id: tuple(ids) for rule_id, ids in members.items()}


def _member_ids(rule: AssignmentRule) -> tuple[int, ...]:
    _, members = rulebook_cached("assignment_rules", _assignment_rules)
    if rule.pk in members:
        return members[rule.pk]
    return tuple(rule.members.values_list("pk", flat=True))  # an inactive rule a channel names


def rule_group(rule: AssignmentRule | None) -> list:
    """The rule's members, or every agent (not broker) when it names none. With no agents at
    all, leads fall to the brokers, so a one-person brokerage works without configuration.
    One query: the people, with their availability, as they are now."""
    if rule is not None:
        member_ids = _member_ids(rule)
        if member_ids:
            members = [
                user
                for user in User.objects.filter(pk__in=member_ids).select_related("agent")
                if hasattr(user, "agent")
            ]
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


# --- The one writer of a lead's owner -----------------------------------------------------------


def lead_set_owner(
    lead: Lead,
    owner,
    *,
    why: str,
    how: str,
    actor=None,
    rule: AssignmentRule | None = None,
    only_if_unowned: bool = False,
    occurred_at=None,
    written: bool = False,
) -> bool:
    """Give the lead to `owner` and put it on the timeline, in one format for every (re)assignment:
    "Assigned to Sam Lee: <why>" or "Reassigned to Sam Lee from Alex Rivera: <why>", with data
    {from, to, rule, how}. `only_if_unowned` makes the change conditional on the database row
    still having no owner (claims and fallbacks race): returns False when someone was first.
    `written`: a new lead was inserted with this owner (intake): only the timeline is left."""
    previous = None if only_if_unowned or written else lead.owner
    owner_pk = owner.pk if owner is not None else None
    rows = Lead.objects.filter(pk=lead.pk)
    if only_if_unowned:
        rows = rows.filter(owner__isnull=True)
    if not written and not rows.update(owner=owner_pk, updated_at=timezone.now()):
        return False
    lead.owner = owner
    if owner is None:
        summary = f"Nobody could take this lead ({why})"
    else:
        verb = "Reassigned" if previous is not None else "Assigned"
        away = f" from {person_name(previous)}" if previous is not None else ""
        summary = f"{verb} to {person_name(owner)}{away}: {why}"
    lead_event_record(
        lead,
        LeadEvent.Kind.REASSIGNED if previous is not None else LeadEvent.Kind.ASSIGNED,
        actor=actor,
        summary=summary,
        data={
            "from": previous.pk if previous is not None else None,
            "to": owner_pk,
            "rule": rule.pk if rule is not None else None,
            "how": how,
        },
        occurred_at=occurred_at,
    )
    return True


def owner_kept(lead: Lead) -> Assignment | None:
    """The lead arrives with an owner (a dormant contact re-engaging keeps its agent from the
    import) who can take leads now: they keep it, and are interrupted like any new owner. None
    when it has none, or they cannot (paused, inactive): then the rules assign it."""
    owner = lead.owner
    if owner is None or not hasattr(owner, "agent") or not agent_available(owner.agent):
        return None
    return Assignment(owner=owner, rule=None, why="kept: their contact")


@dataclass
class Choice:
    """Who gets a new lead and why, chosen (the round robin's turn taken) but not yet written
    on the lead: assignment_choose, then lead_assign(chosen=…)."""

    owner: object | None
    rule: AssignmentRule | None
    why: str
    how: str
    offer_to: list = field(default_factory=list)  # first to claim: the group it is offered to


@transaction.atomic(savepoint=False)
def lead_assign(
    lead: Lead,
    *,
    now: datetime | None = None,
    exclude=(),
    actor=None,
    owner=None,
    rule: AssignmentRule | None = None,
    why: str = "",
    chosen: Choice | None = None,
) -> Assignment:
    """Choose the lead's owner (or offer it to a group to claim) and record why on its timeline.

    The first matching rule decides; when nobody in its group can take the lead, its fallback
    does, else the next matching rule (the catch-all, in the end), else a broker. `exclude` is for
    reassignment: those agents are passed over (and a group offer becomes a plain turn).

    A channel may name who gets the lead (`owner`: a plus-addressed inbox, an integration's
    default owner) or the rule to assign it by (`rule`), `why` saying which; an owner who cannot
    take leads now (paused, inactive) is passed over for the rules, never handed a hot lead.

    `chosen`: assignment_choose already chose, before the new lead's INSERT, which wrote its
    owner with the row (intake): only the timeline (and a group's offers) are left to write.
    """
    now = now or timezone.now()
    if chosen is None:
        chosen = assignment_choose(lead, now=now, exclude=exclude, owner=owner, rule=rule, why=why)
        written = False
    else:
        written = lead.pk is not None and lead.owner_id == (
            chosen.owner.pk if chosen.owner is not None else None
        )
    if chosen.offer_to:
        return _offer(lead, chosen.rule, chosen.offer_to, actor, now)
    lead_set_owner(
        lead,
        chosen.owner,
        why=chosen.why,
        how=chosen.how,
        actor=actor,
        rule=chosen.rule,
        occurred_at=now,
        written=written,
    )
    return Assignment(owner=chosen.owner, rule=chosen.rule, why=chosen.why)


def assignment_choose(
    lead: Lead,
    *,
    now: datetime | None = None,
    exclude=(),
    owner=None,
    rule: AssignmentRule | None = None,
    why: str = "",
    lock_owner: bool = False,
) -> Choice:
    """lead_assign's choice, without writing it on the lead: the lead need not be saved yet
    (the round robin's turn is taken, in the caller's transaction). `lock_owner`: an alert
    text to the chosen owner follows in this transaction (_next_turn)."""
    now = now or timezone.now()
    if owner is not None and hasattr(owner, "agent") and agent_available(owner.agent):
        return Choice(owner=owner, rule=None, why=why or "named by the channel", how="channel")
    excluded = {user.pk for user in exclude}
    if rule is not None and rule.active:
        matching = [rule, *(r for r in active_rules() if r.pk != rule.pk and rule_matches(r, lead))]
    else:
        matching = [rule for rule in active_rules() if rule_matches(rule, lead)]
    how = "escalation" if excluded else "rule"
    for rule in matching or [None]:
        pool, on_duty = _pool(rule, excluded, now)
        rule_name = f"rule “{rule.name}”" if rule else "no matching rule"
        if (
            rule
            and rule.policy == AssignmentRule.Policy.FIRST_TO_CLAIM
            and len(pool) > 1
            and not excluded
        ):
            return Choice(owner=None, rule=rule, why="", how="offer", offer_to=pool)
        if pool:
            why = f"{rule_name} ({'on duty' if on_duty else 'nobody on duty'})"
            owner = _next_turn(rule, pool, lock_owner=lock_owner)
            return Choice(owner=owner, rule=rule, why=why, how=how)
        fallback = rule.fallback if rule else None
        if fallback and fallback.pk not in excluded and agent_available(fallback.agent):
            why = f"{rule_name}: nobody in the group is available, its fallback"
            return Choice(owner=fallback, rule=rule, why=why, how=how)
    owner = next((b for b in brokers() if b.pk not in excluded), None)
    why = "nobody in any matching rule is available: a broker"
    return Choice(owner=owner, rule=None, why=why, how=how)


def _next_turn(rule: AssignmentRule | None, pool: list, *, lock_owner: bool = False):
    """Round robin within the rule, serialised on the rule's row so two leads arriving at once
    go to two agents: one `UPDATE … RETURNING` takes the row's lock, moves the turn to the
    first of the pool (by id) after the last one served, wrapping around (next_in_turn, in
    SQL), and returns who it chose. On PostgreSQL a second intake waits for the row and then
    evaluates the turn on the row as the first one left it; SQLite runs one writer at a time.

    `lock_owner`: the same statement also locks the chosen agent's row (PostgreSQL: the UPDATE
    in a WITH, the agent FOR UPDATE), which the hourly cap on their alert texts takes before
    counting (alerts.services): their new lead's alert then need not lock it again
    (agent_row_locked). The order, the rule's row then the agent's, is the order the cap's
    lock always came in after the turn."""
    if rule is None:
        return next_in_turn(pool, None)
    ordered = sorted(pool, key=lambda user: user.pk)
    by_pk = {user.pk: user for user in ordered}
    turns = " ".join("WHEN last_assigned_id < %s THEN %s" for _ in ordered)
    quote = connection.ops.quote_name
    update = (
        f"UPDATE {quote(AssignmentRule._meta.db_table)} "  # noqa: S608
        f"SET last_assigned_id = CASE {turns} ELSE %s END "
        "WHERE id = %s RETURNING last_assigned_id"
    )
    params = [*(pk for user in ordered for pk in (user.pk, user.pk)), ordered[0].pk, rule.pk]
    locks = lock_owner and connection.features.has_select_for_update
    if locks:
        update = (
            f"WITH turn AS ({update}) SELECT turn.last_assigned_id FROM turn "  # noqa: S608
            f"JOIN {quote(Agent._meta.db_table)} agent ON agent.user_id = turn.last_assigned_id "
            "FOR UPDATE OF agent"
        )
    with connection.cursor() as cursor:
        cursor.execute(update, params)
        row = cursor.fetchone()
    if row is None:  # the rule (or the agent) was deleted meanwhile: nobody's turn to keep
        return next_in_turn(pool, None)
    rule.last_assigned_id = row[0]
    owner = by_pk[row[0]]
    if lock_owner:
        # Locked just now (PostgreSQL), or by the database's one writer (SQLite, where a lock
        # is no statement at all).
        owner.agent.row_locked = True
    return owner


def agent_row_locked(user) -> bool:
    """This agent's row was locked in this transaction by the round robin that chose them for
    a new lead (_next_turn's `lock_owner`)."""
    return getattr(getattr(user, "agent", None), "row_locked", False)


def _offer(lead: Lead, rule: AssignmentRule, pool: list, actor, now: datetime) -> Assignment:
    ClaimOffer.objects.bulk_create(
        [ClaimOffer(lead=lead, agent=user, rule=rule, created_at=now) for user in pool]
    )
    lead_event_record(
        lead,
        LeadEvent.Kind.ASSIGNED,
        actor=actor,
        summary=f"Offered to {', '.join(person_name(user) for user in pool)} (first to claim)",
        data={"rule": rule.pk, "policy": rule.policy, "group": [user.pk for user in pool]},
        occurred_at=now,
    )
    return Assignment(
        owner=None,
        rule=rule,
        why=f"offered to {len(pool)} agents by rule “{rule.name}”",
        claim_group=pool,
    )


# --- Claims ---------------------------------------------------------------------------------------


def open_offer(lead: Lead, agent) -> ClaimOffer | None:
    return ClaimOffer.objects.filter(lead=lead, agent=agent, closed_at__isnull=True).first()


@transaction.atomic
def lead_claim(lead: Lead, *, agent) -> ClaimOffer | None:
    """First to claim owns the lead. A conditional update decides, so of two agents clicking at
    the same instant exactly one wins. Returns the winning offer, or None (not offered to this
    agent, or somebody claimed it first)."""
    offer = open_offer(lead, agent)
    if offer is None:
        return None
    won = lead_set_owner(
        lead,
        agent,
        why="claimed first",
        how="claimed",
        actor=agent,
        rule=offer.rule,
        only_if_unowned=True,
    )
    if not won:
        return None
    offers_close(lead)
    return offer


def offers_close(lead: Lead) -> int:
    return ClaimOffer.objects.filter(lead=lead, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )


def offers_expired(now: datetime) -> list[ClaimOffer]:
    """One open offer per unowned lead whose claim window has passed (the rule's minutes)."""
    expired = {}
    for offer in (
        ClaimOffer.objects.filter(closed_at__isnull=True, lead__owner__isnull=True)
        .select_related("lead", "rule")
        .order_by("created_at", "id")
    ):
        minutes = offer.rule.claim_minutes if offer.rule else settings.ALERT_CLAIM_MINUTES
        if now - offer.created_at >= timedelta(minutes=minutes):
            expired.setdefault(offer.lead_id, offer)
    return list(expired.values())


@transaction.atomic
def lead_offer_fallback(lead: Lead, rule: AssignmentRule | None, now: datetime):
    """Nobody claimed the lead in time: the rule's fallback (else a broker) owns it. Returns the
    new owner, or None when somebody claimed it meanwhile or nobody can take it."""
    owner = (rule.fallback if rule and rule.fallback else None) or next(iter(brokers()), None)
    if owner is None:
        return None
    taken = lead_set_owner(
        lead,
        owner,
        why="nobody claimed it in time (fallback)",
        how="fallback",
        rule=rule,
        only_if_unowned=True,
        occurred_at=now,
    )
    if not taken:
        return None
    offers_close(lead)
    return owner

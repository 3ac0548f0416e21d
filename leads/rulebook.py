"""Broker-edited rules, read once per process and checked with one cheap query.

    rulebook_cached(name, load)   the rules `load` reads, kept in this process while the shared
                                  version token (leads.RulesVersion) has not changed
    rules_read_once()             inside the block the token is read at most once (an intake
                                  asks for routing rules, tracks, steps and templates: one query)
    rules_changed()               a rule changed: a new token, in the writer's transaction

Routing rules, the intent mapping, the forms' copy, the assignment rules and their groups,
tracks, their steps and the message templates change when a broker edits them in the admin, a few times a month; an intake reads
all of them. Every process keeps what it read with the token it read it under, and on each
use compares it with the token in the database: one indexed single-row read instead of every
rule table. The receivers that call rules_changed on save and delete are connected in each
app's `ready()` (leads, sequences). A change made without signals (a raw SQL update, a data
migration) must call rules_changed, or restart the processes.
"""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import AssignmentRule, FormCopy, IntentMapping, RoutingRule, RulesVersion

T = TypeVar("T")

# name → (token it was read under, value). Values are shared by every request of the process:
# callers treat them as read-only.
_loaded: dict[str, tuple[str, object]] = {}


class _Pin:
    token: str | None = None


_pinned: ContextVar[_Pin | None] = ContextVar("rulebook_pinned", default=None)


def _token() -> str:
    pin = _pinned.get()
    if pin is not None and pin.token is not None:
        return pin.token
    token = RulesVersion.objects.filter(pk=1).values_list("token", flat=True).first() or ""
    if pin is not None:
        pin.token = token
    return token


def rulebook_cached(name: str, load: Callable[[], T]) -> T:
    """What `load()` returns, from memory while the rules' token is unchanged. Without a token
    row (a database flushed by a test) nothing is kept: every call loads."""
    token = _token()
    hit = _loaded.get(name)
    if token and hit is not None and hit[0] == token:
        return hit[1]  # type: ignore[return-value]
    value = load()
    if token:
        _loaded[name] = (token, value)
    return value


@contextmanager
def rules_read_once() -> Iterator[None]:
    """Read the rules' token at most once inside the block (one use case, one transaction)."""
    token = _pinned.set(_Pin())
    try:
        yield
    finally:
        _pinned.reset(token)


def rules_changed(**kwargs) -> None:
    """A rule was saved or deleted (a post_save / post_delete / m2m_changed receiver): a new
    token, written in the same transaction as the change, so other processes reload once it
    commits (and never, when it rolls back)."""
    token = uuid.uuid4().hex
    if not RulesVersion.objects.filter(pk=1).update(token=token):
        RulesVersion.objects.get_or_create(pk=1, defaults={"token": token})
    _loaded.clear()
    pin = _pinned.get()
    if pin is not None:
        pin.token = token


def rules_watch(*models) -> None:
    """Connect rules_changed to every save and delete of these models."""
    for model in models:
        post_save.connect(rules_changed, sender=model, dispatch_uid=f"rulebook-save-{model}")
        post_delete.connect(rules_changed, sender=model, dispatch_uid=f"rulebook-del-{model}")


rules_watch(RoutingRule, IntentMapping, FormCopy, AssignmentRule)  # sequences watches its own
# An assignment rule's group (its members) changes without a save of the rule.
m2m_changed.connect(
    rules_changed, sender=AssignmentRule.members.through, dispatch_uid="rulebook-members"
)

"""An intake's messages written together: one INSERT at the end of its transaction.

    messages_held          inside the block, the rows outbox.messages_queue writes for keys
                           that are new (a new enrolment's acknowledgment, a new alert's text
                           and email) are held, and written in one INSERT as the block ends
                           (the intake: realtycrm.flows.intake)
    messages_held_ignored  a query the held rows cannot change runs without writing them first
    messages_write_held    write the held rows now, at the caller's level: before a savepoint
                           that may roll back (an idempotent INSERT meeting an existing key),
                           so the rollback cannot take them with it

Nothing ever reads the messages table without the rows held: any other statement on it inside
the block (a lookup, a count, an UPDATE that suppresses an enrolment's queued messages) writes
them first, in order. The block's end writes them before its transaction commits, so their
ids are known when their dispatch runs after the commit; a block that raises writes nothing
(its transaction rolls back).
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection

from .models import Message

_held: ContextVar[list[Message] | None] = ContextVar("messages_held", default=None)
_ignored: ContextVar[bool] = ContextVar("messages_held_ignored", default=False)
_TABLE = re.compile(rf"\b{Message._meta.db_table}\b")  # the table, not one it prefixes


@contextmanager
def messages_held() -> Iterator[None]:
    if _held.get() is not None:  # nested: the outer block writes them
        yield
        return
    token = _held.set([])
    try:
        with connection.execute_wrapper(_written_first):
            yield
            _write()
    finally:
        _held.reset(token)


def messages_hold(rows: list[Message]) -> bool:
    """Hold these new rows for the block's one INSERT; False outside a block (write them)."""
    held = _held.get()
    if held is None:
        return False
    held.extend(rows)
    return True


@contextmanager
def messages_held_ignored(matters: Callable[[Message], bool]) -> Iterator[None]:
    """The block's queries on the messages table run without the held rows when none of them
    `matters` (e.g. counting an agent's alert texts while only messages to leads are held);
    otherwise the held rows are written first, as for any other query."""
    held = _held.get()
    if held and any(matters(message) for message in held):
        _write()
    token = _ignored.set(True)
    try:
        yield
    finally:
        _ignored.reset(token)


def messages_write_held() -> None:
    """Write the held rows now (nothing outside a block). A statement on the messages table
    inside a savepoint would write them inside it, and a rollback to that savepoint would
    lose them: call this before entering one."""
    _write()


def _write() -> None:
    held = _held.get()
    if held:
        rows = list(held)
        held.clear()
        Message.objects.bulk_create(rows)


def _written_first(execute, sql, params, many, context):
    if _held.get() and not _ignored.get() and _TABLE.search(sql):
        _write()
    return execute(sql, params, many, context)

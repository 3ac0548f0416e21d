"""An intake's messages held for one INSERT at the end of its transaction (sequences.batching):
one statement for all of them, and never a query on the messages table that misses one."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sequences.batching import messages_held, messages_held_ignored
from sequences.models import Message
from sequences.outbox import message_queue, messages_queue

pytestmark = pytest.mark.django_db


def _item(key, *, audience=Message.Audience.LEAD, to="ada@example.com"):
    return dict(
        channel=Message.Channel.EMAIL,
        to=to,
        subject="Hello",
        body="Thanks for asking.",
        idempotency_key=key,
        purpose=Message.Purpose.ACKNOWLEDGMENT
        if audience == Message.Audience.LEAD
        else Message.Purpose.ALERT,
        audience=audience,
    )


def _inserts(queries):
    return [q for q in queries if q["sql"].startswith('INSERT INTO "sequences_message"')]


def test_two_batches_of_new_messages_go_in_one_insert_at_the_end():
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), messages_held():
        messages_queue([_item("a:1"), _item("a:2")], keys_are_new=True)
        messages_queue(
            [_item("b:1", audience=Message.Audience.AGENT, to="alex@example.com")],
            keys_are_new=True,
        )
    assert len(_inserts(queries)) == 1
    assert Message.objects.filter(idempotency_key__in=["a:1", "a:2", "b:1"]).count() == 3


def test_a_query_on_the_messages_table_inside_the_block_sees_the_held_ones():
    with transaction.atomic(), messages_held():
        (held,) = messages_queue([_item("a:1")], keys_are_new=True)
        assert Message.objects.filter(idempotency_key="a:1").exists()
        assert held.pk is not None


def test_a_query_the_held_messages_cannot_change_runs_without_them():
    with transaction.atomic(), messages_held():
        messages_queue([_item("a:1")], keys_are_new=True)
        agents = lambda held: held.audience == Message.Audience.AGENT  # noqa: E731
        with messages_held_ignored(agents), CaptureQueriesContext(connection) as queries:
            assert not Message.objects.filter(audience=Message.Audience.AGENT).exists()
        assert _inserts(queries) == []
        with messages_held_ignored(lambda held: True):
            assert Message.objects.filter(idempotency_key="a:1").exists()


def test_a_block_that_fails_writes_nothing():
    with pytest.raises(RuntimeError), transaction.atomic(), messages_held():
        messages_queue([_item("a:1")], keys_are_new=True)
        raise RuntimeError("the intake failed")
    assert not Message.objects.filter(idempotency_key="a:1").exists()


def test_held_messages_survive_a_key_queued_before_in_the_same_block():
    """A message queued again under a key that exists (idempotent: its INSERT fails in a
    savepoint) must not take the held messages down with that savepoint."""
    messages_queue([_item("old:1"), _item("old:2")])  # queued before, outside any block
    with transaction.atomic(), messages_held():
        messages_queue([_item("a:1")], keys_are_new=True)
        again = messages_queue([_item("old:1"), _item("old:2")])
        message_queue(**_item("old:1"))
    assert {m.idempotency_key for m in again} == {"old:1", "old:2"}
    assert Message.objects.filter(idempotency_key="a:1").exists()

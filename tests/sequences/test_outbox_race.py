"""Two workers draining the outbox at the same moment send each message once (PostgreSQL:
SELECT … FOR UPDATE SKIP LOCKED lets them split the work instead of waiting on each other)."""

from collections import Counter

import pytest

from sequences.models import Message
from sequences.outbox import message_dispatch, messages_dispatch_due
from tests.factories import LeadFactory, MessageFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def texts_at_noon(settings):
    settings.SMS_SENDING_HOURS = "00:00-24:00"  # whatever time the suite runs
    return settings


def test_two_workers_draining_at_once_send_each_message_once(
    texts_at_noon, sms_outbox, run_together
):
    messages = [
        MessageFactory(lead=LeadFactory(texting=True), idempotency_key=f"race-{n}")
        for n in range(60)
    ]
    run_together(
        lambda: messages_dispatch_due(requeue=False), lambda: messages_dispatch_due(requeue=False)
    )
    sent = Counter(sms.reference for sms in sms_outbox)
    assert sorted(sent) == sorted(str(m.pk) for m in messages)
    assert set(sent.values()) == {1}
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}


def test_the_same_message_dispatched_by_two_workers_at_once_goes_once(
    texts_at_noon, sms_outbox, run_together
):
    message = MessageFactory()
    run_together(*[lambda: message_dispatch(message.pk)] * 4)
    assert len(sms_outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)

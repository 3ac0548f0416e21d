"""SendGrid delivering the same email twice at the same moment: one submission, one lead."""

import threading
from functools import partial

import pytest
from django.test import Client

from integrations.email import services
from leads.models import Lead, Submission
from tests.factories import AgentFactory
from tests.integrations.email_helpers import eml, post_email, raw_post

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_deliveries_of_one_message_id_make_one_lead(monkeypatch, run_together):
    AgentFactory()
    both_looked = threading.Barrier(2, timeout=10)
    original = services._seen
    waited = threading.local()

    def look_then_wait(message_id):
        found = original(message_id)
        if not getattr(waited, "once", False):
            waited.once = True
            both_looked.wait()  # both have seen "never received" before either stores
        return found

    monkeypatch.setattr(services, "_seen", look_then_wait)
    data = raw_post(eml("zillow_tour_request.eml"))
    first, second = run_together(
        partial(post_email, Client(), data), partial(post_email, Client(), data)
    )
    monkeypatch.setattr(services, "_seen", original)

    assert (first.status_code, second.status_code) == (200, 200)
    outcomes = sorted(response.json()["status"] for response in (first, second))
    assert outcomes == ["created", "duplicate"]
    assert Submission.objects.count() == 1
    assert Lead.objects.count() == 1

"""A submission stored but never processed (its web process died between the two commits)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from leads.intake import RequestInfo, submission_receive
from leads.models import Lead, Submission
from leads.tasks import submissions_sweep
from tests.factories import AgentFactory
from tests.helpers import answers

pytestmark = pytest.mark.django_db


def stored(slug: str, source: str, **overrides) -> Submission:
    """What the intake view stores before processing, as if the process died right after."""
    return submission_receive(source, answers(slug, **overrides), RequestInfo(ip="203.0.113.7"))


def test_a_submission_a_crash_left_unprocessed_becomes_a_lead_on_the_next_sweep(
    mailoutbox, django_capture_on_commit_callbacks
):
    AgentFactory()
    submission = stored("valuation", "valuation", timeline="within_3_months")
    assert submissions_sweep() == 0  # a live request may still be processing it
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        with django_capture_on_commit_callbacks(execute=True):
            assert submissions_sweep() == 1
        assert submissions_sweep() == 0  # once
    submission.refresh_from_db()
    lead = Lead.objects.get()
    assert (submission.status, submission.lead) == (Submission.Status.ACCEPTED, lead)
    assert (lead.email, lead.intent, lead.owner is not None) == ("ada@example.com", "hot", True)
    # Acknowledged and alerted like any other new lead.
    assert ["ada@example.com"] in [m.to for m in mailoutbox]
    assert [lead.owner.email] in [m.to for m in mailoutbox]


def test_a_stranded_submission_the_form_refuses_is_kept_as_failed_with_why():
    submission = stored("valuation", "valuation", email="not an email")
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert submissions_sweep() == 1
    submission.refresh_from_db()
    assert submission.status == Submission.Status.FAILED
    assert "email" in submission.error.lower()
    assert not Lead.objects.exists()


def test_a_stranded_submission_is_read_as_the_live_form_read_it():
    """A NUL was stored as U+FFFD and a key sent twice as a list: the live form dropped the NUL
    and took the last value, and so does the sweep."""
    AgentFactory()
    submission = stored("valuation", "valuation", email="ada\x00@example.com")
    submission.data["timeline"] = ["6_to_18_months", "within_3_months"]
    submission.save(update_fields=["data"])
    assert "\ufffd" in submission.data["email"]
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert submissions_sweep() == 1
    lead = Lead.objects.get()
    assert (lead.email, lead.timeline) == ("ada@example.com", "within_3_months")

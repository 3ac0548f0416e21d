"""Two submissions from the same person at the same moment end as one lead."""

import threading
from functools import partial

import pytest

from leads import intake, ownership
from leads.models import Lead, LeadEvent, Submission
from realtycrm.flows.intake import submission_process
from sequences.models import Message

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_racing_submissions_create_one_lead_and_one_reinquiry(monkeypatch, run_together):
    both_looked = threading.Barrier(2, timeout=10)
    original = intake._existing_lead

    def look_then_wait(fields):
        found = original(fields)
        if found is None:
            both_looked.wait()  # both have seen "no such lead" before either inserts
        return found

    monkeypatch.setattr(intake, "_existing_lead", look_then_wait)
    fields = {
        "first_name": "Ada",
        "email": "ada@example.com",
        "timeline": "within_3_months",
        "side": "seller",
    }
    submissions = [
        intake.submission_receive("valuation", {}, intake.RequestInfo()) for _ in range(2)
    ]

    run_together(  # which fails the test if either submission raised
        *[partial(submission_process, s, fields, sms_consent=False) for s in submissions]
    )

    lead = Lead.objects.get()
    assert lead.inquiry_count == 2
    assert lead.events.filter(kind=LeadEvent.Kind.REINQUIRY).count() == 1
    assert set(Submission.objects.values_list("status", "lead")) == {("accepted", lead.pk)}


def _both_choose_together(monkeypatch):
    """Both intakes have read who can take a lead before either takes its turn."""
    both_read = threading.Barrier(2, timeout=10)
    original = ownership._pool

    def pool_then_wait(*args, **kwargs):
        found = original(*args, **kwargs)
        both_read.wait()
        return found

    monkeypatch.setattr(ownership, "_pool", pool_then_wait)


def _hot_submissions(count):
    people = [
        {
            "first_name": f"Prospect {n}",
            "email": f"prospect{n}@example.com",
            "phone": f"+1413555020{n}",
            "timeline": "within_3_months",
            "side": "seller",
        }
        for n in range(count)
    ]
    return [
        (intake.submission_receive("valuation", {}, intake.RequestInfo()), fields)
        for fields in people
    ]


def test_two_new_leads_at_once_go_to_two_agents(monkeypatch, run_together, alex, sam):
    _both_choose_together(monkeypatch)
    run_together(
        *[
            partial(submission_process, submission, fields, sms_consent=False)
            for submission, fields in _hot_submissions(2)
        ]
    )
    assert sorted(Lead.objects.values_list("owner", flat=True)) == sorted([alex.pk, sam.pk])


def test_two_hot_leads_at_once_respect_the_owners_text_cap(
    monkeypatch, run_together, alex, settings
):
    settings.ALERT_SMS_PER_AGENT_PER_HOUR = 1
    _both_choose_together(monkeypatch)
    run_together(
        *[
            partial(submission_process, submission, fields, sms_consent=False)
            for submission, fields in _hot_submissions(2)
        ]
    )
    assert list(Lead.objects.values_list("owner", flat=True)) == [alex.pk, alex.pk]
    texts = Message.objects.filter(agent=alex, channel=Message.Channel.SMS)
    # One alert texted on its own, the other in the hour's grouped text: never two.
    assert texts.filter(idempotency_key__startswith="alert:").count() == 1
    assert texts.filter(idempotency_key__startswith="alert-digest:").count() == 1

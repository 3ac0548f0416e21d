"""Two submissions from the same person at the same moment end as one lead."""

import threading
from functools import partial

import pytest

from leads import intake
from leads.models import Lead, LeadEvent, Submission
from realtycrm.flows.intake import submission_process

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

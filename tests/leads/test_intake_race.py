"""Two submissions from the same person at the same moment end as one lead."""

import threading

import pytest
from django.db import connections

from leads import intake
from leads.models import Lead, LeadEvent, Submission
from realtycrm.flows.intake import submission_process

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_racing_submissions_create_one_lead_and_one_reinquiry(monkeypatch):
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
    errors = []

    def submit(submission):
        try:
            submission_process(submission, fields, sms_consent=False)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(s,)) for s in submissions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert errors == []
    lead = Lead.objects.get()
    assert lead.inquiry_count == 2
    assert lead.events.filter(kind=LeadEvent.Kind.REINQUIRY).count() == 1
    assert set(Submission.objects.values_list("status", "lead")) == {("accepted", lead.pk)}

"""Consent from another channel is evidence (leads.consent.ConsentEvidence): what the prospect
agreed to, when, and how we know. It is stored on the Submission as JSON and read back when the
submission is processed (now, or again from the admin), so it must come back exactly as given."""

import json
from datetime import UTC, datetime

import pytest

from leads import intake
from leads.consent import ConsentEvidence, form_consent, sms_consent_text
from leads.models import Channel, ConsentRecord, Lead, Submission
from realtycrm.flows.intake import channel_submission_process
from tests.factories import AgentFactory, IntegrationFactory

GIVEN_AT = datetime(2026, 11, 20, 14, 30, 5, tzinfo=UTC)
EVIDENCE = ConsentEvidence(
    wording="By submitting, you agree that Harbor & Main may text you. Reply STOP to opt out.",
    version="idx-site-2026",
    given_at=GIVEN_AT,
    detail={"system": "IDX Broker", "ip": "203.0.113.9", "checkbox": True},
)


def test_evidence_survives_json_and_back():
    data = json.loads(json.dumps(EVIDENCE.as_data()))
    assert ConsentEvidence.from_data(data) == EVIDENCE


def test_evidence_without_a_time_or_detail_comes_back_as_given():
    bare = ConsentEvidence(wording="Texts OK", version="v1")
    assert bare.as_data() == {
        "wording": "Texts OK",
        "version": "v1",
        "given_at": None,
        "detail": {},
    }
    assert ConsentEvidence.from_data(bare.as_data()) == bare


@pytest.mark.parametrize(
    "data", [None, {}, {"wording": ""}, {"version": "v1", "given_at": "2026-11-20T14:30:05Z"}]
)
def test_no_wording_is_no_evidence(data):
    assert ConsentEvidence.from_data(data) is None


def test_a_version_longer_than_the_record_holds_is_cut_to_fit():
    evidence = ConsentEvidence.from_data({"wording": "Texts OK", "version": "v" * 100})
    assert evidence.version == "v" * 40


def test_our_own_forms_evidence_is_the_checkbox_wording():
    assert form_consent() == ConsentEvidence(
        wording=sms_consent_text("sms-2026-11-v1"), version="sms-2026-11-v1"
    )


@pytest.mark.django_db
def test_evidence_stored_on_a_submission_becomes_the_leads_consent_record():
    """The whole trip: adapter → Submission.mapped (JSON in the database) → the intake flow →
    a ConsentRecord with the payload's wording, version, time and detail."""
    AgentFactory()
    mapped = intake.channel_mapping(
        {"first_name": "Ada", "email": "ada@example.com", "phone": "+14135550187"},
        sms_consent=EVIDENCE,
    )
    submission = intake.submission_receive(
        "website",
        {"person": {"firstName": "Ada"}},
        intake.RequestInfo(ip="203.0.113.9", user_agent="IDX Broker"),
        channel=Channel.API,
        integration=IntegrationFactory(origin="harborandmain.com"),
        origin="harborandmain.com",
        external_id="1:retry-me",
        mapped=mapped,
    )
    stored = Submission.objects.get(pk=submission.pk)
    assert ConsentEvidence.from_data(stored.mapped["sms_consent"]) == EVIDENCE

    lead = channel_submission_process(stored)

    assert lead is not None and lead.can_text
    record = ConsentRecord.objects.get(lead=lead)
    assert (record.wording, record.wording_version) == (EVIDENCE.wording, EVIDENCE.version)
    assert record.given_at == GIVEN_AT
    assert record.evidence == EVIDENCE.detail
    assert Lead.objects.get(pk=lead.pk).sms_consent_version == "idx-site-2026"

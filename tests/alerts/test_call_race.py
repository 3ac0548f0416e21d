"""Call-connect at the same instant (PostgreSQL): a double tap rings the agent once, and the
Dial's action and the lead's status callback arriving together log the call once."""

import pytest
from django.utils import timezone

from alerts.calls import CallRefused
from alerts.models import Call
from leads.models import Lead, LeadEvent
from realtycrm.flows.calls import call_lead_leg, call_start
from sequences.backends.voice import CallLeg, LegStatus
from tests.factories import CallFactory, LeadFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_double_tap_places_one_call(alex, run_together):
    lead = LeadFactory(owner=alex, hot=True)

    def tap():
        try:
            return call_start(Lead.objects.get(pk=lead.pk), agent=alex, origin="lead").pk
        except CallRefused:
            return None

    first, second = run_together(tap, tap)
    assert sorted([first is None, second is None]) == [False, True]
    assert Call.objects.count() == 1


def test_two_reports_of_the_end_log_the_call_once(alex, run_together):
    lead = LeadFactory(owner=alex, hot=True)
    call = CallFactory(lead=lead, status=Call.Status.CONNECTING, dialed_at=timezone.now())
    leg = CallLeg(LegStatus.COMPLETED, provider_id="CAlead", duration_seconds=61)

    def report():
        return call_lead_leg(Call.objects.select_related("lead", "agent").get(pk=call.pk), leg)

    events = run_together(report, report)
    assert sorted(event is None for event in events) == [False, True]
    assert lead.events.filter(kind=LeadEvent.Kind.PERSONAL_CONTACT).count() == 1

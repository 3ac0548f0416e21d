"""How many SQL statements one intake makes: a ceiling that catches a regression (a lookup
repeated per message, a rule read per use, an event inserted alone). Run on SQLite and, with
DATABASE_URL, on PostgreSQL: the counts are the same on both.

Each POST goes through the real view with the test client. What the request itself runs is
counted whole: every statement, transaction control included (inside a test's transaction
each atomic block is a SAVEPOINT and a RELEASE, the upper bound of a running process's BEGIN
and COMMIT), and whatever runs after its commit, except one thing, excluded explicitly: the
dispatch of its messages (sequences.outbox.message_dispatch_later is replaced by a recorder
for the measurement; the messages it was asked to send are checked queued). That dispatch is
then run and counted on its own, against its own ceiling (django-q2 in sync mode: the outbox
claims and sends each message, records it, and django-q2 stores its task receipt).
docs/performance.md ("Intake") lists every statement and names the command that measures them
outside the tests (bench/intake_queries.py).
"""

import base64
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from integrations.api_keys import api_integration_create
from leads.models import Lead
from sequences import outbox
from sequences.models import Message
from tests.helpers import post_intake

pytestmark = pytest.mark.django_db

# Every statement the request runs, its after-commit work but the messages' dispatch included.
# A new hot lead with SMS consent: 18 (issue 15: at most 20 a new lead; 18 leaves 2 for the
# reporting rollup, whose database triggers add no statements).
INTAKE_CEILING = 20
# The dispatch of its four messages (statements that read or write rows: CONTROL below) (the acknowledgment's text and email, the owner's alert by
# text and email), each claimed, checked, sent and recorded by the outbox, and django-q2's
# receipt of each task (4 statements a message, in sync mode): 34.
INTAKE_DISPATCH_CEILING = 36
# A re-inquiry from the same person (a hot lead asking again: its owner is re-alerted): 18,
# then the dispatch of its two alert messages: 14.
REINQUIRY_CEILING = 20
REINQUIRY_DISPATCH_CEILING = 16
# An Events API lead: the intake's statements and the API's own (the key, the stored event):
# 23; then its three messages' dispatch (no consent evidence: no acknowledgment text): 30.
API_CEILING = 25
API_DISPATCH_CEILING = 32


@pytest.fixture
def measured(monkeypatch, django_capture_on_commit_callbacks):
    """Run a request: (its result, every statement it ran with its after-commit work except the
    dispatch of its messages, the statements of that dispatch). The ids the dispatch hook was
    given are checked to be queued messages before they are dispatched."""

    def measured(run):
        dispatched = []
        monkeypatch.setattr(outbox, "message_dispatch_later", dispatched.append)
        with (
            CaptureQueriesContext(connection) as request,
            django_capture_on_commit_callbacks(execute=True),
        ):
            result = run()
        monkeypatch.undo()
        queued = Message.objects.filter(pk__in=dispatched, status=Message.Status.QUEUED)
        assert queued.count() == len(dispatched) == len(set(dispatched))
        with CaptureQueriesContext(connection) as dispatch:
            for message_id in dispatched:
                outbox.message_dispatch_later(message_id)
        return result, _statements(request), _data(dispatch)

    return measured


@pytest.fixture
def warm(measured):
    """One lead first, as in a running process: the rules it reads are then kept in memory
    (leads.rulebook), and every later intake reads only their version."""
    measured(
        lambda: post_intake(
            Client(),
            "valuation",
            email="first@example.com",
            phone="(413) 555-0100",
            timeline="within_3_months",
        )
    )


def _statements(queries) -> list[str]:
    return [q["sql"] for q in queries]


# The dispatch's ceiling counts, as before, only the statements that read or write rows:
# django-q2's sync mode and the outbox's own transactions add control statements (SAVEPOINT,
# RELEASE, BEGIN, SET LOCAL) that depend on how the test runs them, not on the work.
CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK", "SET LOCAL")


def _data(queries) -> list[str]:
    return [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith(CONTROL)]


def _sql(statements) -> str:
    return "\n".join(f"{n:3d} {sql[:160]}" for n, sql in enumerate(statements))


def test_a_new_hot_lead_with_sms_consent_stays_under_its_ceiling(
    alex, sam, warm, measured, mailoutbox, sms_outbox
):
    mailoutbox.clear(), sms_outbox.clear()
    client = Client()
    response, during, after = measured(
        lambda: post_intake(client, "valuation", timeline="within_3_months", sms_consent="on")
    )
    assert response.status_code == 302
    lead = Lead.objects.latest("id")
    assert lead.intent == "hot" and lead.owner is not None
    # The acknowledgment's text and email, and the owner's alert by text and email, all sent.
    assert Message.objects.filter(lead=lead, status=Message.Status.SENT).count() == 4
    assert len(sms_outbox) == 2 and len(mailoutbox) == 2
    assert len(during) <= INTAKE_CEILING, _sql(during)
    assert len(after) <= INTAKE_DISPATCH_CEILING, _sql(after)


def test_a_reinquiry_stays_under_its_ceiling(alex, sam, measured, mailoutbox, sms_outbox):
    client = Client()
    measured(lambda: post_intake(client, "valuation", timeline="within_3_months"))
    response, during, after = measured(
        lambda: post_intake(client, "listing-ad", timeline="within_3_months", sms_consent="on")
    )
    assert response.status_code == 302
    assert Lead.objects.get().inquiry_count == 2
    assert len(during) <= REINQUIRY_CEILING, _sql(during)
    assert len(after) <= REINQUIRY_DISPATCH_CEILING, _sql(after)


def test_an_events_api_lead_stays_under_its_ceiling(alex, sam, broker, warm, measured):
    _integration, key = api_integration_create("IDX site", origin="Harbor IDX")
    body = {
        "source": "harborandmain.com",
        "type": "Seller Inquiry",
        "timeline": "0-3 months",
        "person": {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "emails": [{"value": "ada@example.com"}],
            "phones": [{"value": "(413) 555-0187"}],
        },
    }
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    response, during, after = measured(
        lambda: Client().post(
            "/api/v1/events",
            data=json.dumps(body),
            content_type="application/json",
            REMOTE_ADDR="203.0.113.9",
            HTTP_AUTHORIZATION=auth,
        )
    )
    assert response.status_code == 201
    assert Lead.objects.get(email="ada@example.com").intent == "hot"
    assert len(during) <= API_CEILING, _sql(during)
    assert len(after) <= API_DISPATCH_CEILING, _sql(after)

"""How many SQL statements one intake makes: a ceiling per phase that catches a regression (a
lookup repeated per message, a rule read per use, an event inserted alone). Run on SQLite and,
with DATABASE_URL, on PostgreSQL: the counts are the same on both.

Each POST goes through the real view with the test client; the intake's transaction is
measured first (its after-commit work held back), then what runs after the commit under the
test settings (django-q2 in sync mode: the outbox claims and sends each message, records it,
and django-q2 stores its task receipt). docs/performance.md ("Intake") lists every query and
says which command measures them outside the tests (bench/intake_queries.py).
"""

import base64
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from integrations.api_keys import api_integration_create
from leads.models import Lead
from sequences.models import Message
from tests.helpers import post_intake

pytestmark = pytest.mark.django_db

# Statements that read or write rows (transaction control left out: CONTROL below), measured
# on SQLite and PostgreSQL alike; docs/performance.md ("Intake") lists them one by one.
# A new hot lead with SMS consent, from the stored submission to the commit: 23.
INTAKE_CEILING = 25
# After its commit, its four messages (the acknowledgment's text and email, the owner's alert
# by text and email), each claimed, checked, sent and recorded by the outbox, and django-q2's
# receipt of each task (4 statements a message, in sync mode): 34.
INTAKE_AFTER_COMMIT_CEILING = 36
# A re-inquiry from the same person (a hot lead asking again: its owner is re-alerted): 15,
# then its two alert messages: 14.
REINQUIRY_CEILING = 17
REINQUIRY_AFTER_COMMIT_CEILING = 16
# An Events API lead: the intake's statements, and the API's own (the key, the stored event):
# 25, then 30 after commit (no consent evidence: no acknowledgment text).
API_CEILING = 27
API_AFTER_COMMIT_CEILING = 32


@pytest.fixture
def measured(django_capture_on_commit_callbacks):
    """Run a request: (its result, the statements up to its commit, the statements of what
    runs after the commit)."""

    def measured(run):
        with (
            CaptureQueriesContext(connection) as during,
            django_capture_on_commit_callbacks(execute=False) as callbacks,
        ):
            result = run()
        with CaptureQueriesContext(connection) as after:
            for callback in callbacks:
                callback()
        return result, _statements(during), _statements(after)

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


# Transaction control is left out of the counts: inside a test's own transaction every atomic
# block is a SAVEPOINT and a RELEASE, where a running process sends one BEGIN (SQLite) or none
# that Django logs (PostgreSQL, which also logs SET LOCAL synchronous_commit for the sent mark).
CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK", "SET LOCAL")


def _statements(queries) -> list[str]:
    """The statements that read or write rows."""
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
    assert len(after) <= INTAKE_AFTER_COMMIT_CEILING, _sql(after)


def test_a_reinquiry_stays_under_its_ceiling(alex, sam, measured, mailoutbox, sms_outbox):
    client = Client()
    measured(lambda: post_intake(client, "valuation", timeline="within_3_months"))
    response, during, after = measured(
        lambda: post_intake(client, "listing-ad", timeline="within_3_months", sms_consent="on")
    )
    assert response.status_code == 302
    assert Lead.objects.get().inquiry_count == 2
    assert len(during) <= REINQUIRY_CEILING, _sql(during)
    assert len(after) <= REINQUIRY_AFTER_COMMIT_CEILING, _sql(after)


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
    assert len(after) <= API_AFTER_COMMIT_CEILING, _sql(after)

"""Reports read from the replica when one is configured; writes, and every other page, never do.

The test settings define a "replica" alias that mirrors default (its own connection to the same
test database), so which alias ran a query shows in that connection's captured queries. The
data must be committed for the second connection to see it: hence transaction=True.
"""

import pytest
from django.db import connections, router
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from leads.models import Lead
from realtycrm.routers import reports_reads
from tests.factories import LeadFactory

from .conftest import END, START

replica = pytest.mark.django_db(
    transaction=True, serialized_rollback=True, databases=["default", "replica"]
)
MARCH = {"start": START.isoformat(), "end": END.isoformat()}


def tables_read(captured) -> set[str]:
    return {
        table
        for query in captured.captured_queries
        for table in ("leads_lead", "auth_user", "django_session")
        if f'"{table}"' in query["sql"]
    }


@replica
@override_settings(REPORTS_DATABASE="replica")
def test_the_report_reads_leads_from_the_replica_and_the_session_from_default(
    client, month, people
):
    client.force_login(people["broker"])
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(connections["replica"]) as on_replica,
    ):
        page = client.get(reverse("reports:segment-report"), MARCH)
        export = client.get(reverse("reports:segment-report-csv", args=["segments"]), MARCH)
    assert page.status_code == 200 and export.status_code == 200
    assert "Conversion by source × intent" in page.content.decode()
    assert "leads_lead" in tables_read(on_replica)
    # The session and the signed-in user come from default; no lead is read there.
    assert "django_session" in tables_read(on_default)
    assert "leads_lead" not in tables_read(on_default)


@replica
def test_without_a_replica_the_report_reads_default(client, month, people):
    client.force_login(people["broker"])
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert client.get(reverse("reports:segment-report"), MARCH).status_code == 200
    assert on_replica.captured_queries == []


@replica
@override_settings(REPORTS_DATABASE="replica")
def test_writes_go_to_default_even_while_a_report_reads():
    with reports_reads() as alias:
        assert alias == "replica"
        assert router.db_for_read(Lead) == "replica"
        assert router.db_for_write(Lead) == "default"
        lead = LeadFactory()
        assert lead._state.db == "default"
        read_back = Lead.objects.get(pk=lead.pk)  # a report's read: from the replica
        assert read_back._state.db == "replica"
        read_back.first_name = "Changed"
        read_back.save()  # a row read from the replica is still written to default
    assert Lead.objects.get(pk=lead.pk).first_name == "Changed"
    # Outside a report, reads follow Django's default choice.
    assert router.db_for_read(Lead) == "default"
    assert Lead.objects.all().db == "default"

"""The same Meta lead reaching us twice at the same moment (a webhook's fetch and a sync, or Meta
delivering a notification twice) makes one submission and one lead (PostgreSQL: row locks)."""

from functools import partial

import pytest

from integrations import meta_intake
from leads import intake
from leads.models import Channel, Integration, Lead, Submission
from tests.factories import IntegrationFactory
from tests.integrations.fake_graph import TOKEN, fake_graph_fixture  # noqa: F401
from tests.moments import NOON

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PAGE, FORM = "104000000000001", "205000000000001"


@pytest.fixture
def page(fake_graph, alex):
    fake_graph.page(PAGE, "Harbor & Main Realty")
    fake_graph.form(FORM, PAGE, "Home value form")
    fake_graph.lead(
        "9001", FORM, {"full_name": "Ada Lovelace", "email": "ada@example.com"}, created=NOON
    )
    return IntegrationFactory(
        kind=Integration.Kind.META,
        origin="",
        meta_page_id=PAGE,
        meta_page_token=TOKEN,
        default_source=Lead.Source.VALUATION,
    )


def test_a_webhooks_fetch_and_a_sync_racing_for_one_lead_make_one_lead(page, run_together):
    pending = intake.submission_receive(
        page.default_source,
        {"leadgen_id": "9001", "page_id": PAGE, "form_id": FORM},
        intake.RequestInfo(),
        channel=Channel.META,
        integration=page,
        external_id="9001",
        status=Submission.Status.PENDING,
    )
    outcomes = run_together(
        partial(meta_intake.lead_fetch, pending.pk),
        partial(meta_intake.integration_backfill, page.pk),
    )
    assert Lead.objects.count() == 1
    submission = Submission.objects.get()
    assert (submission.status, submission.created_lead) == (Submission.Status.ACCEPTED, True)
    assert "accepted" in [outcomes[0], *outcomes[1]]


def test_one_notification_delivered_twice_at_once_is_stored_once(page, run_together):
    value = {"leadgen_id": "9001", "page_id": PAGE, "form_id": FORM}
    outcomes = run_together(
        *[partial(meta_intake.notification_store, value, intake.RequestInfo()) for _ in range(2)]
    )
    assert sorted(outcome for outcome, _ in outcomes) == ["duplicate", "stored"]
    assert Submission.objects.filter(external_id="9001").count() == 1
    assert Lead.objects.count() == 1

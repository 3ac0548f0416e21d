"""The broker's portal-email inbox in a real browser: an email no parser could read, from
Today's count to a lead in one form."""

import pytest
from django.test import Client

from leads.models import Lead
from tests.browser.test_dashboard_flows import sign_in
from tests.integrations.email_helpers import eml, post_email, raw_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_broker_makes_a_lead_from_an_email_nobody_could_read(page, live_server, broker, alex):
    post_email(Client(), raw_post(eml("unparsed_personal.eml")))
    sign_in(page, live_server.url, username="morgan")

    page.click("text=Read and make leads")
    page.click("text=Make a lead from this")
    assert "Could someone call me about it?" in page.inner_text("[data-testid=inbox-body]")
    assert page.input_value("#id_first_name") == "Dana"
    assert page.input_value("#id_phone") == "(413) 555-0119"

    page.select_option("#id_source", "listing_ad")
    page.select_option("#id_timeline", "within_3_months")
    page.fill("#id_property_address", "14 Maple Ave")
    page.select_option("#id_owner", label="Alex Rivera")
    page.click("text=Make the lead")

    lead = Lead.objects.get()
    page.wait_for_url(f"{live_server.url}/leads/{lead.pk}/")
    assert "Lead made" in page.inner_text("main")
    assert (lead.owner, lead.source, lead.intent) == (alex, "listing_ad", "hot")

"""The admin is the brokerage's, and people in it are shown by name."""

import pytest
from django.contrib.auth.models import User

from tests.factories import LeadEventFactory, LeadFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_the_admin_carries_the_brokerages_name(broker_client, settings):
    page = broker_client.get("/admin/").content.decode()
    assert (
        f"<title>Administration | {settings.BROKERAGE_NAME} admin</title>".replace("&", "&amp;")
        in page
    )
    assert settings.BROKERAGE_NAME.replace("&", "&amp;") in page
    assert "Django administration" not in page


def test_a_user_is_shown_by_name_and_by_username_only_without_one(alex):
    assert str(alex) == "Alex Rivera"
    assert str(User(username="pat")) == "pat"


def test_the_admins_lists_filters_and_raw_id_widgets_name_people(broker_client, alex, sam):
    lead = LeadFactory(owner=alex)
    LeadEventFactory(lead=lead, actor=sam)
    TaskFactory(lead=lead, agent=alex)

    leads = broker_client.get("/admin/leads/lead/").content.decode()
    assert "Alex Rivera" in leads  # the owner column and the owner filter
    assert ">alex<" not in leads
    tasks = broker_client.get("/admin/sequences/task/").content.decode()
    assert "Alex Rivera" in tasks and ">alex<" not in tasks
    event = lead.events.get(actor=sam)
    change = broker_client.get(f"/admin/leads/leadevent/{event.pk}/change/").content.decode()
    assert "Sam Chen" in change  # beside the raw-id input

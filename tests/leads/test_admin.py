"""The Django admin: every changelist loads, filters work, agents see only their own leads."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from leads.models import Lead, RoutingRule, Submission
from tests.factories import (
    AgentFactory,
    LeadEventFactory,
    LeadFactory,
    SubmissionFactory,
)
from tests.helpers import answers

pytestmark = pytest.mark.django_db


def test_every_changelist_loads(admin_client):
    lead = LeadFactory()
    LeadEventFactory(lead=lead)
    SubmissionFactory(lead=lead)
    AgentFactory()
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, url


def test_lead_changelist_filters_by_every_tag(admin_client):
    LeadFactory(first_name="Hotly", source="giveaway", hot=True)
    LeadFactory(first_name="Coolly", source="valuation", long_term=True)
    url = reverse("admin:leads_lead_changelist")
    for query, shown, hidden in [
        ("source__exact=giveaway", "Hotly", "Coolly"),
        ("intent__exact=long_term", "Coolly", "Hotly"),
        ("timeline__exact=within_3_months", "Hotly", "Coolly"),
        ("stage__exact=new&side__exact=seller", "Hotly", None),
    ]:
        html = admin_client.get(f"{url}?{query}").content.decode()
        assert shown in html
        if hidden:
            assert hidden not in html


def test_lead_change_page_shows_the_timeline(admin_client):
    lead = LeadFactory()
    LeadEventFactory(lead=lead, summary="Called about the kitchen")
    html = admin_client.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    assert "Called about the kitchen" in html


def test_routing_rules_are_editable_in_the_changelist(admin_client):
    html = admin_client.get(reverse("admin:leads_routingrule_changelist")).content.decode()
    assert RoutingRule.objects.count() >= 13
    assert 'name="form-0-track"' in html


def test_a_staff_agent_sees_only_their_own_leads(client):
    agent = AgentFactory(user__is_staff=True)
    agent.user.user_permissions.add(Permission.objects.get(codename="view_lead"))
    mine = LeadFactory(owner=agent.user, first_name="Mine")
    theirs = LeadFactory(first_name="Theirs")
    client.force_login(agent.user)
    html = client.get(reverse("admin:leads_lead_changelist")).content.decode()
    assert "Mine" in html and "Theirs" not in html
    assert client.get(reverse("admin:leads_lead_change", args=[theirs.pk])).status_code == 302
    assert client.get(reverse("admin:leads_lead_change", args=[mine.pk])).status_code == 200


def test_failed_submission_can_be_processed_again(admin_client):
    data = answers("valuation")
    submission = SubmissionFactory(source="valuation", data=data, status=Submission.Status.FAILED)
    admin_client.post(
        reverse("admin:leads_submission_changelist"),
        {"action": "process_again", "_selected_action": [submission.pk]},
    )
    submission.refresh_from_db()
    assert submission.status == "accepted"
    assert Lead.objects.get().email == "ada@example.com"


def test_the_lead_admin_cannot_change_what_has_its_own_writer(admin_client):
    """A phone changed here would keep the consent given for the old number, and an owner set
    here would skip the claim and the timeline: those go through the dashboard's services."""
    lead = LeadFactory(texting=True, phone="+14135550100")
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    form = admin_client.get(url).context["adminform"].form
    for field in ("phone", "email", "owner", "intent", "stage", "sms_opted_out_at"):
        assert field not in form.fields

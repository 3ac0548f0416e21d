"""Every model in the Django admin × a staff agent, their colleague's rows and a broker.

The models come from `admin.site` itself: a newly registered admin fails here until RECIPES says
whose rows it shows (scoped to the agent's leads, or brokers only) and how to make some. The agent
is given every permission there is, so only the scoping stands between them and the other rows
(leads/admin_access.py; docs/security.md).
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse
from django_q.models import Failure, OrmQ, Schedule, Success

from alerts.models import Alert, Call
from leads.models import (
    Agent,
    AssignmentRule,
    FormCopy,
    Integration,
    IntentMapping,
    Lead,
    LeadEvent,
    RoutingRule,
    Submission,
)
from reports.models import Campaign, SegmentReport
from sequences.models import (
    Appointment,
    CampaignRecipient,
    Enrollment,
    Message,
    ReactivationCampaign,
    Suppression,
    Task,
    Template,
    Track,
    UndeliveredMessage,
    WebhookEvent,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

SCOPED, BROKERS_ONLY = "scoped to the agent's leads", "brokers only"


@dataclass(frozen=True)
class Recipe:
    access: str
    # (agent A, agent B) → (rows A must see, rows A must not see); a broker sees all of them.
    rows: Callable
    # Pages that list no rows (a report) are checked by this marker of how many leads they count.
    counted: Callable[[int], str] | None = None


def lead_of(user, **fields):
    return f.LeadFactory(owner=user, texting=True, **fields)


def _leads(a, b):
    unowned = f.LeadFactory(owner=None)  # nobody's, and offered to no one
    return [lead_of(a)], [lead_of(b), unowned]


def _submissions(a, b):
    spam = f.SubmissionFactory(status=Submission.Status.SPAM, spam_reason="honeypot filled")
    return [f.SubmissionFactory(lead=lead_of(a))], [f.SubmissionFactory(lead=lead_of(b)), spam]


def _messages(a, b):
    alert_to_b = f.MessageFactory(to_agent=True, agent=b)  # no lead: a broker's row
    return [f.MessageFactory(lead=lead_of(a))], [f.MessageFactory(lead=lead_of(b)), alert_to_b]


def _undelivered(a, b):
    def expired(agent):
        message = f.MessageFactory(lead=lead_of(agent), status=Message.Status.EXPIRED)
        return UndeliveredMessage.objects.get(pk=message.pk)

    return [expired(a)], [expired(b)]


def _suppressions(a, b):
    mine, theirs = lead_of(a), lead_of(b)
    return (
        [
            f.SuppressionFactory(address=mine.phone),
            f.SuppressionFactory(
                channel=Message.Channel.EMAIL, address=mine.email, reason="unsubscribe"
            ),
        ],
        [
            f.SuppressionFactory(address=theirs.phone),
            f.SuppressionFactory(
                channel=Message.Channel.EMAIL, address="stranger@example.com", reason="bounce"
            ),
        ],
    )


def _webhook_events(a, b):
    mine = lead_of(a)
    receipt = f.WebhookEventFactory(message=f.MessageFactory(lead=mine))
    # An inbound text is matched to no message (the reply is on the lead's timeline instead):
    # brokers only, even from the agent's own lead.
    inbound = f.WebhookEventFactory(inbound=True, payload={"From": mine.phone, "Body": "Yes"})
    theirs = f.WebhookEventFactory(message=f.MessageFactory(lead=lead_of(b)))
    return [receipt], [theirs, inbound]


def _both(factory, **fields):
    return lambda a, b: ([], [factory(**fields), factory(**fields)])


def _lead_rows(factory):
    """One row on A's lead and one on B's, for models whose `lead` is all that says whose."""
    return lambda a, b: ([factory(lead=lead_of(a))], [factory(lead=lead_of(b))])


def _segment_report(a, b):
    return [lead_of(a)], [lead_of(b), lead_of(b)]


RECIPES = {
    # Scoped to the agent's leads.
    Lead: Recipe(SCOPED, _leads),
    LeadEvent: Recipe(SCOPED, _lead_rows(f.LeadEventFactory)),
    Submission: Recipe(SCOPED, _submissions),
    Message: Recipe(SCOPED, _messages),
    UndeliveredMessage: Recipe(SCOPED, _undelivered),
    Task: Recipe(SCOPED, _lead_rows(f.TaskFactory)),
    Appointment: Recipe(SCOPED, _lead_rows(f.AppointmentFactory)),
    CampaignRecipient: Recipe(SCOPED, _lead_rows(f.CampaignRecipientFactory)),
    Enrollment: Recipe(SCOPED, _lead_rows(f.EnrollmentFactory)),
    Suppression: Recipe(SCOPED, _suppressions),
    WebhookEvent: Recipe(SCOPED, _webhook_events),
    Alert: Recipe(
        SCOPED,
        lambda a, b: (
            [f.AlertFactory(lead=lead_of(a), agent=a)],
            [f.AlertFactory(lead=lead_of(b), agent=b)],
        ),
    ),
    Call: Recipe(SCOPED, _lead_rows(f.CallFactory)),
    SegmentReport: Recipe(SCOPED, _segment_report, counted=lambda n: f"<strong>{n}</strong> leads"),
    # Brokers only: configuration, people, and records no one lead owns.
    RoutingRule: Recipe(BROKERS_ONLY, lambda a, b: ([], list(RoutingRule.objects.all()[:2]))),
    IntentMapping: Recipe(BROKERS_ONLY, lambda a, b: ([], list(IntentMapping.objects.all()[:2]))),
    FormCopy: Recipe(BROKERS_ONLY, lambda a, b: ([], list(FormCopy.objects.all()[:2]))),
    AssignmentRule: Recipe(
        BROKERS_ONLY,
        lambda a, b: (
            [],
            [f.AssignmentRuleFactory(members=[a]), f.AssignmentRuleFactory(members=[b])],
        ),
    ),
    Agent: Recipe(BROKERS_ONLY, lambda a, b: ([], [a.agent, b.agent])),
    User: Recipe(BROKERS_ONLY, lambda a, b: ([], [a, b])),
    Group: Recipe(BROKERS_ONLY, _both(f.GroupFactory)),
    Track: Recipe(
        BROKERS_ONLY,
        lambda a, b: ([], [f.TrackFactory(key="track_a"), f.TrackFactory(key="track_b")]),
    ),
    Template: Recipe(BROKERS_ONLY, _both(f.TemplateFactory)),
    Campaign: Recipe(BROKERS_ONLY, _both(f.CampaignFactory)),
    ReactivationCampaign: Recipe(BROKERS_ONLY, _both(f.ReactivationCampaignFactory)),
    Integration: Recipe(BROKERS_ONLY, _both(f.IntegrationFactory)),
    Schedule: Recipe(BROKERS_ONLY, _both(f.ScheduleFactory)),
    Success: Recipe(BROKERS_ONLY, _both(f.QueueTaskFactory)),
    Failure: Recipe(BROKERS_ONLY, _both(f.QueueTaskFactory, failed=True)),
    OrmQ: Recipe(BROKERS_ONLY, _both(f.OrmQFactory)),
    AccessAttempt: Recipe(BROKERS_ONLY, _both(f.AccessAttemptFactory)),
    AccessLog: Recipe(BROKERS_ONLY, _both(f.AccessLogFactory)),
    AccessFailureLog: Recipe(BROKERS_ONLY, _both(f.AccessFailureLogFactory)),
}


def _registered():
    return sorted(admin.site._registry, key=lambda model: model._meta.label)


def changelist_url(model) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def row_pages(model, row) -> list[str]:
    """The row's change, history and delete pages, at the paths Django's admin gives them."""
    base = f"{changelist_url(model)}{quote(row.pk)}/"
    return [f"{base}change/", f"{base}history/", f"{base}delete/"]


def listed(html: str, model, row) -> bool:
    return f'href="{row_pages(model, row)[0]}"' in html


def staff_with_every_permission(**agent_fields):
    agent = f.AgentFactory(user__is_staff=True, **agent_fields)
    agent.user.user_permissions.set(Permission.objects.all())
    return agent.user


@pytest.mark.parametrize("model", _registered(), ids=lambda model: model._meta.label)
def test_an_agent_reaches_only_their_own_leads_rows_in_the_admin(model, client):
    recipe = RECIPES.get(model)
    if recipe is None:
        pytest.fail(
            f"{model._meta.label} is in the admin but has no recipe in "
            "tests/test_admin_scoping.py: say whether it is scoped to the agent's leads or "
            "brokers only (leads/admin_access.py), and make a row for each of two agents."
        )
    agent_a = staff_with_every_permission(user__username="agent_a")
    agent_b = staff_with_every_permission(user__username="agent_b")
    broker_client = Client()
    broker_client.force_login(staff_with_every_permission(broker=True, user__username="broker"))
    client.force_login(agent_a)
    mine, theirs = recipe.rows(agent_a, agent_b)
    assert theirs, "a recipe must make rows the agent may not reach"

    # The agent.
    response = client.get(changelist_url(model))
    if recipe.access == BROKERS_ONLY:
        assert response.status_code == 403
    else:
        assert mine, "a scoped recipe must make rows the agent does reach"
        assert response.status_code == 200
        html = response.content.decode()
        if recipe.counted:
            assert recipe.counted(len(mine)) in html
        else:
            assert all(listed(html, model, row) for row in mine)
            assert not any(listed(html, model, row) for row in theirs)
            assert all(client.get(row_pages(model, row)[0]).status_code == 200 for row in mine)
    for row in theirs:
        for url in row_pages(model, row):
            response = client.get(url)
            assert response.status_code in (302, 403, 404), url
            if response.status_code == 302:
                assert response["Location"] == reverse("admin:index"), url

    # The broker.
    response = broker_client.get(changelist_url(model))
    assert response.status_code == 200
    html = response.content.decode()
    if recipe.counted:
        assert recipe.counted(len(mine) + len(theirs)) in html
    else:
        assert all(listed(html, model, row) for row in mine + theirs)
        assert all(broker_client.get(row_pages(model, row)[0]).status_code == 200 for row in theirs)

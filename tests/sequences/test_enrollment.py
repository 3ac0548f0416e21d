"""From form to track: enrolment, the source-matched acknowledgment, and the days after."""

from datetime import timedelta
from unittest import mock

import pytest

from leads.models import Lead, LeadEvent, RoutingRule
from realtycrm.flows.contacts import stage_change
from realtycrm.flows.inbound import text_receive
from realtycrm.flows.routing import lead_reclassify
from sequences.models import Enrollment, Message, Suppression, Task, Track
from sequences.services.automation import automation_pause, automation_resume
from sequences.services.enrollment import scheduler_tick
from tests.factories import AgentFactory
from tests.helpers import post_intake
from tests.moments import AFTERNOON

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock_start():
    return AFTERNOON


@pytest.fixture
def submit(client, django_capture_on_commit_callbacks):
    """Post an intake form the way a browser would; what commits is dispatched."""

    def submit(slug, query="", **answers):
        answers.setdefault("sms_consent", "on")
        with django_capture_on_commit_callbacks(execute=True):
            response = post_intake(client, slug, query, **answers)
        assert response.status_code == 302
        return Lead.objects.get(email=answers.get("email", "ada@example.com"))

    return submit


def texts_to(sms_outbox, phone="+14135550187"):
    return [sms.body for sms in sms_outbox if sms.to == phone]


def test_the_acknowledgment_is_written_with_the_lead_and_sent_after_commit(
    client, clock, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_intake(client, "valuation", sms_consent="on")
    lead = Lead.objects.get()
    assert set(lead.messages.values_list("channel", "purpose", "status")) == {
        ("sms", "acknowledgment", "queued"),
        ("email", "acknowledgment", "queued"),
    }
    assert sms_outbox == [] and mailoutbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert set(lead.messages.values_list("status", flat=True)) == {"sent"}
    assert len(sms_outbox) == 1 and len(mailoutbox) == 1
    lead.refresh_from_db()
    assert lead.first_automated_contact_at == AFTERNOON
    assert lead.first_personal_contact_at is None  # automated messages are not personal contact


def test_if_intake_fails_no_acknowledgment_is_left_behind(client, clock, sms_outbox):
    with mock.patch("leads.intake.consent_record", side_effect=RuntimeError("disk full")):
        post_intake(client, "valuation", sms_consent="on")
    assert Lead.objects.count() == 0
    assert Message.objects.count() == 0
    assert Enrollment.objects.count() == 0


@pytest.mark.parametrize(
    ("slug", "query", "answers", "sms_says", "email_says"),
    [
        (
            "valuation",
            "",
            {"property_address": "12 Elm Street, Springfield"},
            ["12 Elm Street, Springfield", "comps"],
            ["12 Elm Street, Springfield", "local comps"],
        ),
        (
            "listing-ad",
            "listing=48+Harbor+View+Drive",
            {"property_address": "48 Harbor View Drive"},
            ["48 Harbor View Drive"],
            ["48 Harbor View Drive", "details"],
        ),
        (
            "open-house",
            "",
            {"open_house": "Sunday 1-3pm, 48 Harbor View Drive"},
            ["stopping by Sunday 1-3pm, 48 Harbor View Drive"],
            ["coming to Sunday 1-3pm, 48 Harbor View Drive"],
        ),
        ("website", "", {"inquiry_type": "selling"}, ["about selling"], ["about selling"]),
        ("website", "", {"inquiry_type": "buying"}, ["about buying"], ["about buying"]),
        (
            "reactivation",
            "",
            {},
            ["good to hear from you again"],
            ["since we last worked together"],
        ),
        ("giveaway", "", {}, ["you're entered"], ["you're in"]),
    ],
)
def test_each_sources_acknowledgment_speaks_to_what_they_sent(
    submit, clock, sms_outbox, mailoutbox, slug, query, answers, sms_says, email_says
):
    submit(slug, query, **answers)
    (text,) = texts_to(sms_outbox)
    (email,) = mailoutbox
    for phrase in sms_says:
        assert phrase.lower() in text.lower(), text
    for phrase in email_says:
        assert phrase.lower() in email.body.lower(), email.body
    assert text.endswith("Reply STOP to opt out.")
    assert "100 Main Street, Suite 200, Springfield, MA 01103" in email.body


def test_a_giveaway_entrant_gets_a_soft_welcome_with_no_pitch_and_no_question(
    submit, clock, sms_outbox, mailoutbox
):
    submit("giveaway", timeline="just_curious")
    (text,) = texts_to(sms_outbox)
    welcome = text + mailoutbox[0].subject + mailoutbox[0].body.split("\n--\n")[0]
    assert "?" not in welcome
    for pitch in ("sell", "buy", "value", "is worth", "agent", "call", "move", "timeline"):
        assert pitch not in welcome.lower(), pitch


def test_a_hot_lead_follows_the_hot_column_day_by_day(submit, clock, sms_outbox, mailoutbox):
    lead = submit("valuation", timeline="within_3_months")
    for days in (1, 3, 7):
        clock.move_to(AFTERNOON + timedelta(days=days, minutes=1))
        scheduler_tick()

    def at(row_time):
        return (row_time - AFTERNOON) // timedelta(days=1)

    messages = [(at(m.created_at), m.channel, m.purpose) for m in lead.messages.order_by("id")]
    assert messages == [
        (0, "sms", "acknowledgment"),
        (0, "email", "acknowledgment"),
        (1, "sms", "nurture"),
        (1, "email", "nurture"),
    ]
    tasks = [
        (at(t.created_at), t.kind, t.due_at - AFTERNOON - timedelta(days=at(t.created_at)))
        for t in lead.tasks.order_by("id")
    ]
    assert tasks == [
        (0, "call", timedelta(hours=1)),
        (1, "call", timedelta(hours=4)),
        (3, "check_in", timedelta(hours=24)),
        (7, "re_engage", timedelta(hours=24)),
    ]
    assert [e.track.key for e in lead.enrollments.order_by("id")] == ["hot_seller", "nurture_cycle"]
    lead.refresh_from_db()
    assert lead.nurture_track.key == "nurture_cycle"
    assert len(texts_to(sms_outbox)) == 2 and len(mailoutbox) == 2
    assert sum("Reply STOP" in text for text in texts_to(sms_outbox)) == 1  # only the first


def test_a_warm_lead_gets_the_review_task_then_value_emails(submit, clock, mailoutbox):
    lead = submit("listing-ad", timeline="6_to_18_months", sms_consent=None)
    assert lead.nurture_track.key == "buyer_search"
    (task,) = lead.tasks.all()
    assert (task.kind, task.due_at) == ("review", AFTERNOON + timedelta(hours=1))
    clock.move_to(AFTERNOON + timedelta(days=1))
    scheduler_tick()
    assert mailoutbox[-1].subject == "More about 48 Harbor View Drive, and homes like it"


def test_when_the_workers_were_down_for_hours_each_step_still_happens_once(
    submit, clock, mailoutbox
):
    lead = submit("valuation", timeline="6_to_18_months", sms_consent=None)
    clock.move_to(AFTERNOON + timedelta(days=1, hours=5))  # the cluster was down for 5 hours
    scheduler_tick()
    scheduler_tick()
    clock.move_to(AFTERNOON + timedelta(days=1, hours=6))
    scheduler_tick()
    assert [m.subject.split(":")[0] for m in mailoutbox] == [
        "Your home's value",
        "Homes like yours near 12 Elm Street, Springfield",
    ]
    assert lead.messages.filter(purpose="nurture").count() == 1


def test_after_days_down_only_the_latest_missed_touch_is_sent(submit, clock, mailoutbox):
    lead = submit("valuation", timeline="6_to_18_months", sms_consent=None)
    clock.move_to(AFTERNOON + timedelta(days=4))  # day 1 and day 3 both missed
    scheduler_tick()
    assert [m.step.template_key for m in lead.messages.filter(purpose="nurture")] == [
        "warm_day3_email"
    ]
    assert len(mailoutbox) == 2


def test_a_reinquiry_inside_the_window_gets_no_second_acknowledgment(submit, clock, sms_outbox):
    lead = submit("valuation")
    clock.move_to(AFTERNOON + timedelta(hours=30))
    submit("open-house", open_house="Sunday open house, 9 Oak Lane")
    assert lead.messages.filter(purpose="acknowledgment").count() == 2  # the first text + email
    assert lead.events.filter(kind=LeadEvent.Kind.REINQUIRY).count() == 1


def test_a_reinquiry_after_the_window_is_acknowledged_for_the_form_just_used(
    submit, clock, sms_outbox, mailoutbox, settings
):
    settings.SEQUENCES_REACK_WINDOW_HOURS = 72
    lead = submit("valuation")
    clock.move_to(AFTERNOON + timedelta(days=4))
    submit("open-house", open_house="Sunday open house, 9 Oak Lane")
    assert lead.messages.filter(purpose="acknowledgment").count() == 4
    assert "Sunday open house, 9 Oak Lane" in texts_to(sms_outbox)[-1]
    assert mailoutbox[-1].subject == "Thanks for visiting Sunday open house, 9 Oak Lane"


def test_a_hotter_reinquiry_moves_the_lead_to_the_hot_track_without_a_second_acknowledgment(
    submit, clock, sms_outbox
):
    lead = submit("valuation", timeline="6_to_18_months")
    clock.move_to(AFTERNOON + timedelta(hours=2))
    submit("valuation", timeline="within_3_months")
    lead.refresh_from_db()
    assert lead.nurture_track.key == "hot_seller"
    old, new = lead.enrollments.order_by("id")
    assert (old.track.key, old.status) == ("homeowner_market_90", "stopped")
    assert (new.track.key, new.status, new.acknowledge) == ("hot_seller", "active", False)
    assert lead.messages.filter(purpose="acknowledgment").count() == 2
    assert len(texts_to(sms_outbox)) == 1
    # The warm review task gives way to the hot call task.
    assert dict(lead.tasks.values_list("kind", "status")) == {"review": "cancelled", "call": "open"}


def test_an_agents_intent_change_moves_tracks_without_a_second_acknowledgment(submit, clock):
    agent = AgentFactory()
    lead = submit("valuation", timeline="within_3_months")
    clock.move_to(AFTERNOON + timedelta(hours=3))
    lead_reclassify(lead, actor=agent.user, intent="warm")
    lead.refresh_from_db()
    assert lead.nurture_track.key == "homeowner_market_90"
    assert lead.enrollments.get(status="active").acknowledge is False
    assert lead.messages.filter(purpose="acknowledgment").count() == 2
    assert lead.tasks.get(kind="review").due_at == AFTERNOON + timedelta(hours=4)


def test_an_appointment_stops_automation_and_closes_the_tracks_tasks(submit, clock, mailoutbox):
    lead = submit("valuation", timeline="within_3_months", sms_consent=None)
    stage_change(lead, Lead.Stage.APPOINTMENT)
    enrollment = lead.enrollments.get()
    assert (enrollment.status, enrollment.status_reason) == (
        "stopped",
        "stage changed to Appointment",
    )
    assert lead.tasks.get().status == "cancelled"
    stop = lead.events.get(kind="automation_stopped")
    assert stop.summary == "Hot seller stopped: stage changed to Appointment"
    clock.move_to(AFTERNOON + timedelta(days=8))
    scheduler_tick()
    assert len(mailoutbox) == 1  # the acknowledgment, nothing after


def test_a_pause_stops_the_clock_and_a_resume_picks_up_where_it_left(submit, clock, mailoutbox):
    agent = AgentFactory()
    lead = submit("valuation", timeline="6_to_18_months", sms_consent=None)
    clock.move_to(AFTERNOON + timedelta(hours=12))
    automation_pause(lead, actor=agent.user, reason="On holiday until next week")
    clock.move_to(AFTERNOON + timedelta(days=5))
    scheduler_tick()

    def to_lead():
        return [mail for mail in mailoutbox if lead.email in mail.to]  # not the agent's alerts

    assert len(to_lead()) == 1
    automation_resume(lead, actor=agent.user)
    # 12 hours were left before day 1 when it paused: day 1's email is due 12 hours from now.
    enrollment = lead.enrollments.get()
    assert enrollment.next_due_at == AFTERNOON + timedelta(days=5, hours=12)
    clock.move_to(AFTERNOON + timedelta(days=5, hours=12))
    scheduler_tick()
    assert len(to_lead()) == 2
    kinds = list(lead.events.filter(kind__startswith="automation").values_list("kind", flat=True))
    assert sorted(kinds) == ["automation_paused", "automation_resumed"]


def test_tasks_go_to_the_leads_owner(submit, clock):
    agent = AgentFactory()  # the only active agent: every new lead is theirs
    lead = submit("valuation", timeline="within_3_months")
    assert lead.owner == agent.user
    assert Task.objects.get().agent == agent.user
    assert "Call Ada Lovelace now: valuation request for 12 Elm Street" in Task.objects.get().title


def test_a_lead_in_the_nurture_cycle_that_writes_again_is_acknowledged(submit, clock, mailoutbox):
    lead = submit("giveaway", timeline="just_curious", sms_consent=None)
    clock.move_to(AFTERNOON + timedelta(days=8))
    scheduler_tick()
    lead.refresh_from_db()
    assert lead.nurture_track.key == "nurture_cycle"  # no acknowledgment step of its own
    clock.move_to(AFTERNOON + timedelta(days=40))
    submit("website", inquiry_type="selling", timeline="just_curious", sms_consent=None)
    assert mailoutbox[-1].subject == "What homes near you have sold for"


def test_a_lead_talking_to_an_agent_gets_no_automatic_acknowledgment_and_stays_paused(
    submit, clock, sms_outbox
):
    lead = submit("valuation", timeline="6_to_18_months")
    automation_pause(lead, actor=None, reason="They replied by text")
    clock.move_to(AFTERNOON + timedelta(days=5))
    submit("valuation", timeline="within_3_months")  # hotter: moves to the hot track
    assert len(texts_to(sms_outbox)) == 1
    lead.refresh_from_db()
    current = lead.enrollments.get(status__in=["active", "paused"])
    assert (current.track.key, current.status) == ("hot_seller", "paused")
    assert lead.tasks.filter(kind="call", status="open").exists()  # the agent still sees it


def test_fresh_consent_after_stop_lifts_the_suppression_and_the_acknowledgment_is_texted(
    submit, clock, sms_outbox, django_capture_on_commit_callbacks
):
    lead = submit("valuation", timeline="6_to_18_months")
    assert len(texts_to(sms_outbox)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        text_receive(from_number=lead.phone, body="STOP")
    assert Suppression.objects.filter(channel="sms", address=lead.phone).exists()

    # Four days later (past the re-acknowledgment window) they ask again and tick the SMS box.
    clock.move_to(AFTERNOON + timedelta(days=4))
    submit("listing-ad", timeline="6_to_18_months")

    lead.refresh_from_db()
    assert not Suppression.objects.filter(channel="sms", address=lead.phone).exists()
    assert lead.sms_opted_out_at is None and lead.can_text
    opted_in = lead.events.get(kind=LeadEvent.Kind.OPTED_IN)
    assert opted_in.summary == "Agreed to texts on the listing ad form"
    assert opted_in.data["submission"] == lead.submissions.order_by("-id").first().pk
    # The re-inquiry's acknowledgment is texted (matched to the listing ad), not suppressed.
    texts = texts_to(sms_outbox)
    assert len(texts) == 2
    reack = lead.messages.get(channel="sms", idempotency_key__startswith="reinquiry:")
    assert reack.status == Message.Status.SENT
    acknowledged = lead.events.filter(kind=LeadEvent.Kind.MESSAGE_SENT, channel="sms").latest(
        "occurred_at", "id"
    )
    assert opted_in.occurred_at <= acknowledged.occurred_at  # consent first, then the text


# --- Every new lead is acknowledged, whatever track it enters -------------------------------------


def test_a_giveaway_lead_routed_to_the_nurture_cycle_gets_the_giveaway_acknowledgment(
    submit, clock, sms_outbox, mailoutbox
):
    # Tried in the admin: giveaway × long-term → the nurture cycle, a track with no first-day step.
    RoutingRule.objects.create(
        source="giveaway",
        intent="long_term",
        track=Track.objects.get(key="nurture_cycle"),
        first_contact_mode="soft_nurture",
    )
    lead = submit("giveaway", timeline="just_curious")
    assert lead.nurture_track.key == "nurture_cycle"
    (text,) = texts_to(sms_outbox)
    assert "you're entered" in text.lower()
    (email,) = mailoutbox
    assert "you're in" in email.body.lower()
    assert set(lead.messages.values_list("purpose", flat=True)) == {"acknowledgment"}
    assert lead.enrollments.get().track.key == "nurture_cycle"  # it still follows its track


def test_a_lead_with_no_track_gets_its_sources_acknowledgment(
    submit, clock, sms_outbox, mailoutbox
):
    RoutingRule.objects.all().delete()  # no rule matches: the lead keeps no track
    lead = submit("valuation", timeline="6_to_18_months")
    assert lead.nurture_track is None
    (text,) = texts_to(sms_outbox)
    assert "12 Elm Street, Springfield" in text
    assert len(mailoutbox) == 1
    assert lead.messages.get(channel="sms").purpose == "acknowledgment"


def test_a_track_with_its_own_acknowledgment_sends_it_once(submit, clock, sms_outbox, mailoutbox):
    lead = submit("valuation", timeline="6_to_18_months")
    assert len(texts_to(sms_outbox)) == 1 and len(mailoutbox) == 1
    assert all(message.step_id for message in lead.messages.all())  # the track's own steps

"""A hot lead interrupts the right agent at once; an unanswered alert escalates; nothing repeats."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from alerts import services
from alerts.models import Alert
from alerts.services import (
    alert_acknowledge,
    alert_raise,
    alerts_escalate,
)
from leads.models import AssignmentRule, Lead, LeadEvent
from realtycrm.flows.contacts import contact_log, lead_claim, lead_reassign
from realtycrm.flows.inbound import text_receive
from sequences.backends import PermanentError, TransientError
from sequences.backends.events import DeliveryEvent, DeliveryKind
from sequences.backends.sms import LocmemBackend
from sequences.deliveries import delivery_apply
from sequences.models import Message
from sequences.outbox import message_dispatch
from sequences.services.enrollment import scheduler_tick
from tests.factories import AgentFactory, AssignmentRuleFactory, ClaimOfferFactory, LeadFactory
from tests.helpers import post_intake

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=NY)  # a Wednesday
LATE_EVENING = datetime(2026, 11, 25, 23, 0, tzinfo=NY)
# What a sweep of alerts_escalate reports when it finds nothing to do.
NOTHING_TO_ESCALATE = {"reminded": 0, "broker": 0, "reassigned": 0, "claim_fallback": 0}


@pytest.fixture
def clock_start():
    return NOON


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run a call as its own committed transaction would: what it queued is dispatched."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def team(people):
    """Alex owns every lead (a rule says so); Sam is the colleague; Morgan is the broker."""
    AssignmentRuleFactory(name="Alex first", position=1, members=[people["alex"]])
    return people


def texts_to(sms_outbox, user):
    return [sms.body for sms in sms_outbox if sms.to == user.agent.phone]


def mails_to(mailoutbox, user):
    return [mail for mail in mailoutbox if user.email in mail.to]


def test_a_giveaway_entrant_moving_within_3_months_interrupts_the_owner(
    client, clock, team, sms_outbox, mailoutbox, sent
):
    sent(post_intake, client, "giveaway", timeline="within_3_months", first_name="Grace")
    lead = Lead.objects.get()
    assert lead.owner == team["alex"]
    (text,) = texts_to(sms_outbox, team["alex"])
    assert text.startswith("HOT lead: Grace Lovelace · Giveaway · moving within 3 months.")
    assert "Call (413) 555-0187." in text
    alert = Alert.objects.get(reason=Alert.Reason.HOT_LEAD)
    assert f"/alerts/{alert.pk}/open/" in text
    (mail,) = mails_to(mailoutbox, team["alex"])
    assert mail.subject == "Hot lead: Grace Lovelace"
    assert "tel:+14135550187" in mail.body
    assert not Message.objects.filter(audience="agent").exclude(status="sent").exists()


def test_a_giveaway_entrant_who_is_just_curious_interrupts_nobody(
    client, clock, team, sms_outbox, mailoutbox, sent
):
    sent(post_intake, client, "giveaway", timeline="just_curious")
    assert Lead.objects.get().owner == team["alex"]
    assert not Alert.objects.exists()
    assert texts_to(sms_outbox, team["alex"]) == []
    assert mails_to(mailoutbox, team["alex"]) == []


@pytest.fixture
def quiet_nights(team):
    """Alex asks not to be disturbed from 21:00 to 07:00."""
    alex = team["alex"].agent
    alex.alert_quiet_start, alex.alert_quiet_end = time(21), time(7)
    alex.save()


def test_a_warm_lead_waits_for_the_end_of_the_agents_quiet_hours(
    client, team, quiet_nights, mailoutbox, sent
):
    with time_machine.travel(LATE_EVENING, tick=False):
        sent(post_intake, client, "valuation", timeline="6_to_18_months", phone="")
    message = Message.objects.get(audience="agent")
    assert message.status == "queued"
    assert message.scheduled_for == datetime(2026, 11, 26, 7, 0, tzinfo=NY)
    assert Alert.objects.get().reason == Alert.Reason.WARM_OUTREACH


def test_a_hot_lead_at_night_interrupts_even_in_quiet_hours(
    client, team, quiet_nights, sms_outbox, sent
):
    with time_machine.travel(LATE_EVENING, tick=False):
        sent(post_intake, client, "valuation", timeline="within_3_months")
    assert len(texts_to(sms_outbox, team["alex"])) == 1


class TestEscalation:
    @pytest.fixture
    def hot(self, client, clock, team, sent):
        sent(post_intake, client, "valuation", timeline="within_3_months")
        return Lead.objects.get()

    def test_fires_at_5_15_and_30_minutes(self, clock, team, hot, sms_outbox, mailoutbox, sent):
        alex, sam, broker = team["alex"], team["sam"], team["broker"]
        clock.move_to(NOON + timedelta(minutes=4, seconds=59))
        assert sent(alerts_escalate) == NOTHING_TO_ESCALATE
        assert len(texts_to(sms_outbox, alex)) == 1

        clock.move_to(NOON + timedelta(minutes=5))
        assert sent(alerts_escalate)["reminded"] == 1
        assert len(texts_to(sms_outbox, alex)) == 2
        assert texts_to(sms_outbox, broker) == []

        clock.move_to(NOON + timedelta(minutes=15))
        assert sent(alerts_escalate)["broker"] == 1
        (broker_text,) = texts_to(sms_outbox, broker)
        assert broker_text.startswith("Not acknowledged: Ada Lovelace")
        assert "has not acknowledged after 15 min" in broker_text
        assert hot.owner == alex

        clock.move_to(NOON + timedelta(minutes=30))
        assert sent(alerts_escalate)["reassigned"] == 1
        hot.refresh_from_db()
        assert hot.owner == sam
        (sam_text,) = texts_to(sms_outbox, sam)
        assert sam_text.startswith("Reassigned to you: Ada Lovelace")
        (told,) = [m for m in mails_to(mailoutbox, alex) if "was reassigned" in m.subject]
        assert "reassigned to" in told.body
        assert not Alert.objects.filter(agent=alex, closed_at__isnull=True).exists()
        assert hot.events.filter(kind=LeadEvent.Kind.REASSIGNED).count() == 1

        # Later sweeps find nothing left to do for that alert.
        clock.move_to(NOON + timedelta(minutes=31))
        assert sent(alerts_escalate) == NOTHING_TO_ESCALATE

    def test_stops_as_soon_as_the_owner_acknowledges(
        self, client, clock, team, hot, sms_outbox, sent
    ):
        alert = Alert.objects.get(reason=Alert.Reason.HOT_LEAD)
        client.force_login(team["alex"])
        clock.move_to(NOON + timedelta(minutes=3))
        response = sent(client.post, reverse("alerts:acknowledge", args=[alert.pk]))
        assert response.status_code == 302
        for minutes in (5, 15, 30, 60):
            clock.move_to(NOON + timedelta(minutes=minutes))
            sent(alerts_escalate)
        assert len(texts_to(sms_outbox, team["alex"])) == 1
        assert texts_to(sms_outbox, team["broker"]) == []
        hot.refresh_from_db()
        assert hot.owner == team["alex"]
        assert hot.alert_acknowledged_at == NOON + timedelta(minutes=3)

    def test_logging_a_call_acknowledges_and_stops_it(self, clock, team, hot, sms_outbox, sent):
        clock.move_to(NOON + timedelta(minutes=2))
        sent(contact_log, hot, channel="call", actor=team["alex"])
        clock.move_to(NOON + timedelta(minutes=45))
        sent(alerts_escalate)
        assert len(texts_to(sms_outbox, team["alex"])) == 1
        alert = Alert.objects.get(reason=Alert.Reason.HOT_LEAD)
        assert alert.acknowledged_at == NOON + timedelta(minutes=2)

    def test_a_worker_dying_mid_step_neither_loses_nor_repeats_it(
        self, clock, team, hot, sms_outbox, monkeypatch, sent
    ):
        real_queue = services.message_queue
        calls = {"n": 0}

        def dies_once(**kwargs):
            calls["n"] += 1
            if calls["n"] == 1:
                raise ConnectionError("worker killed")
            return real_queue(**kwargs)

        monkeypatch.setattr(services, "message_queue", dies_once)
        clock.move_to(NOON + timedelta(minutes=6))
        assert sent(alerts_escalate)["reminded"] == 0  # the step rolled back whole
        assert Alert.objects.get(reason=Alert.Reason.HOT_LEAD).escalation_level == 0
        assert (
            sent(alerts_escalate)["reminded"] == 1
        )  # the next sweep (or a restarted worker) does it
        assert sent(alerts_escalate)["reminded"] == 0  # and no sweep after that repeats it
        assert len(texts_to(sms_outbox, team["alex"])) == 2

    def test_a_cluster_down_for_an_hour_takes_each_step_once(
        self, clock, team, hot, sms_outbox, sent
    ):
        clock.move_to(NOON + timedelta(hours=1))
        assert sent(alerts_escalate) == {
            "reminded": 1,
            "broker": 1,
            "reassigned": 1,
            "claim_fallback": 0,
        }
        assert sent(alerts_escalate) == NOTHING_TO_ESCALATE


def test_a_hot_lead_asking_again_realerts_its_owner_once_never_a_storm(
    client, clock, team, sms_outbox, sent
):
    for _ in range(4):
        sent(post_intake, client, "listing-ad", timeline="within_3_months")
    lead = Lead.objects.get()
    assert lead.owner == team["alex"]
    assert Alert.objects.filter(reason=Alert.Reason.HOT_LEAD).count() == 1
    assert Alert.objects.filter(reason=Alert.Reason.REINQUIRY).count() == 1
    assert len(texts_to(sms_outbox, team["alex"])) == 2
    assert not lead.events.filter(kind=LeadEvent.Kind.REASSIGNED).exists()


def test_a_lead_turning_hot_on_a_reinquiry_alerts_its_owner(client, clock, team, sms_outbox, sent):
    sent(post_intake, client, "giveaway", timeline="just_curious")
    assert texts_to(sms_outbox, team["alex"]) == []
    sent(post_intake, client, "giveaway", timeline="within_3_months")
    assert Alert.objects.get().reason == Alert.Reason.HOT_LEAD
    assert len(texts_to(sms_outbox, team["alex"])) == 1


def test_an_agent_never_receives_an_alert_for_a_lead_they_cannot_see(clock, team, sms_outbox):
    lead = LeadFactory(owner=team["alex"], hot=True)
    assert alert_raise(lead, team["sam"], Alert.Reason.HOT_LEAD) is None
    assert alert_raise(lead, team["sam"], Alert.Reason.CLAIM) is None  # owned: not claimable
    assert texts_to(sms_outbox, team["sam"]) == []
    assert alert_raise(lead, team["broker"], Alert.Reason.ESCALATION) is not None  # brokers see all


def test_a_lead_reply_alerts_its_owner(clock, team, sms_outbox, sent):
    lead = LeadFactory(owner=team["alex"], texting=True, phone="+14135550199")
    sent(text_receive, from_number="+14135550199", body="Can we see it Saturday?")
    alert = Alert.objects.get(reason=Alert.Reason.REPLY)
    assert alert.agent == team["alex"]
    (text,) = texts_to(sms_outbox, team["alex"])
    assert text.startswith(f'Lead replied: {lead.full_name} "Can we see it Saturday?"')


def test_a_broker_reassigning_a_hot_lead_interrupts_the_new_owner(clock, team, sms_outbox, sent):
    lead = LeadFactory(owner=team["alex"], hot=True)
    sent(alert_raise, lead, team["alex"], Alert.Reason.HOT_LEAD)
    sent(lead_reassign, lead, team["sam"], actor=team["broker"])
    assert Alert.objects.get(agent=team["alex"]).closed_at is not None
    assert Alert.objects.get(agent=team["sam"]).reason == Alert.Reason.REASSIGNMENT
    assert len(texts_to(sms_outbox, team["sam"])) == 1


class TestFirstToClaim:
    @pytest.fixture
    def offered(self, client, clock, team, sent):
        AssignmentRule.objects.all().delete()
        AssignmentRuleFactory(
            name="Open house pool",
            position=1,
            policy=AssignmentRule.Policy.FIRST_TO_CLAIM,
            members=[team["alex"], team["sam"]],
            fallback=team["broker"],
            claim_minutes=5,
        )
        sent(post_intake, client, "open-house", timeline="within_3_months")
        return Lead.objects.get()

    def test_the_whole_group_is_alerted_and_can_see_the_offer(self, team, offered, sms_outbox):
        assert offered.owner is None
        assert {a.agent for a in Alert.objects.filter(reason="claim")} == {
            team["alex"],
            team["sam"],
        }
        assert (
            len(texts_to(sms_outbox, team["alex"])) == len(texts_to(sms_outbox, team["sam"])) == 1
        )

    def test_the_first_to_claim_owns_it_and_the_second_is_told(self, client, team, offered):
        assert lead_claim(offered, agent=team["sam"]) is True
        assert lead_claim(offered, agent=team["alex"]) is False
        offered.refresh_from_db()
        assert offered.owner == team["sam"]
        assert not Alert.objects.filter(reason="claim", closed_at__isnull=True).exists()
        client.force_login(team["alex"])
        alex_alert = Alert.objects.get(reason="claim", agent=team["alex"])
        assert client.post(reverse("alerts:claim", args=[alex_alert.pk])).status_code == 404

    def test_unclaimed_after_the_window_goes_to_the_fallback(
        self, clock, team, offered, sms_outbox, sent
    ):
        clock.move_to(NOON + timedelta(minutes=4))
        assert sent(alerts_escalate)["claim_fallback"] == 0
        clock.move_to(NOON + timedelta(minutes=5))
        assert sent(alerts_escalate)["claim_fallback"] == 1
        offered.refresh_from_db()
        assert offered.owner == team["broker"]
        assert Alert.objects.get(agent=team["broker"]).reason == Alert.Reason.HOT_LEAD
        assert sent(alerts_escalate)["claim_fallback"] == 0


def test_a_lead_offered_to_claim_is_visible_to_the_group_until_someone_claims_it(client, team):
    from leads.selectors import lead_visible_to

    lead = LeadFactory(owner=None, hot=True)
    for agent in (team["alex"], team["sam"]):
        ClaimOfferFactory(lead=lead, agent=agent)
        alert_raise(lead, agent, Alert.Reason.CLAIM, channels=())
    outsider = AgentFactory().user
    assert lead_visible_to(team["alex"]).filter(pk=lead.pk).exists()
    assert not lead_visible_to(outsider).filter(pk=lead.pk).exists()
    lead_claim(lead, agent=team["sam"])
    assert not lead_visible_to(team["alex"]).filter(pk=lead.pk).exists()
    assert lead_visible_to(team["sam"]).filter(pk=lead.pk).exists()


# --- A hot alert's text that cannot go --------------------------------------------------------


class TestTextFallback:
    """An outage (or a bad number) at the SMS provider: the hot alert reaches the agent by email."""

    @pytest.fixture
    def hot(self, client, clock, team, sent):
        sent(post_intake, client, "valuation", timeline="within_3_months")
        return Lead.objects.get()

    @pytest.fixture
    def texts_fail(self, monkeypatch):
        def fail(self, sms):
            raise failure["error"]

        failure = {"error": TransientError("Twilio 503 error 20500: Service unavailable")}
        monkeypatch.setattr(LocmemBackend, "send", fail)
        return failure

    def reminder(self, alert, channel):
        return Message.objects.get(idempotency_key=f"alert:{alert.pk}:reminder:{channel}")

    def test_a_reminder_text_that_expires_goes_by_email_once(
        self, clock, settings, team, hot, texts_fail, mailoutbox, sent
    ):
        settings.MESSAGE_RETRY_HORIZON_HOURS = 1
        alex = team["alex"]
        alert = Alert.objects.get(reason=Alert.Reason.HOT_LEAD)
        assert len(mails_to(mailoutbox, alex)) == 1  # the alert itself, by text and email
        clock.move_to(NOON + timedelta(minutes=5))
        assert sent(alerts_escalate)["reminded"] == 1  # the reminder is a text only
        text = self.reminder(alert, "sms")
        while text.status == Message.Status.QUEUED:
            clock.move_to(text.scheduled_for)
            sent(scheduler_tick)
            text.refresh_from_db()
        assert text.status == Message.Status.EXPIRED
        email = self.reminder(alert, "email")
        assert (email.status, email.to) == (Message.Status.SENT, alex.email)
        assert email.sent_at == NOON + timedelta(minutes=5)  # at the first failure, not a day on
        reminders = [m for m in mails_to(mailoutbox, alex) if m.subject == email.subject]
        assert len(reminders) == 2 and len(mails_to(mailoutbox, alex)) == 2
        assert hot.events.filter(summary__contains="could not go").count() == 1

    def test_a_text_the_provider_rejects_goes_by_email(
        self, clock, team, hot, texts_fail, mailoutbox, sent
    ):
        texts_fail["error"] = PermanentError("Twilio 400 error 21211: invalid number")
        alert = Alert.objects.get(reason=Alert.Reason.HOT_LEAD)
        clock.move_to(NOON + timedelta(minutes=5))
        sent(alerts_escalate)
        assert self.reminder(alert, "sms").status == Message.Status.FAILED
        assert self.reminder(alert, "email").status == Message.Status.SENT

    def test_an_alert_already_emailed_is_not_emailed_twice(
        self, client, clock, team, texts_fail, mailoutbox, sent
    ):
        sent(post_intake, client, "valuation", timeline="within_3_months")
        alert = Alert.objects.get(reason=Alert.Reason.HOT_LEAD)
        text = Message.objects.get(idempotency_key=f"alert:{alert.pk}:raised:sms")
        assert text.status == Message.Status.QUEUED  # waiting for a retry
        assert len(mails_to(mailoutbox, team["alex"])) == 1
        assert Message.objects.filter(audience="agent", channel="email").count() == 1

    def test_nothing_more_once_the_agent_is_on_it(self, clock, team, texts_fail, mailoutbox):
        lead = LeadFactory(owner=team["alex"], intent="hot")
        alert = alert_raise(lead, team["alex"], Alert.Reason.REASSIGNMENT, channels=("sms",))
        alert_acknowledge(alert, by=team["alex"], how="opened the lead")
        text = Message.objects.get(idempotency_key=f"alert:{alert.pk}:raised:sms")
        assert message_dispatch(text.pk) == "retry"
        assert not Message.objects.filter(channel="email").exists()

    def test_a_text_reported_undelivered_goes_by_email(self, clock, team, hot, mailoutbox, sent):
        alert = Alert.objects.get(reason=Alert.Reason.HOT_LEAD)
        clock.move_to(NOON + timedelta(minutes=5))
        sent(alerts_escalate)
        text = self.reminder(alert, "sms")
        assert text.status == Message.Status.SENT
        receipt = DeliveryEvent(
            kind=DeliveryKind.FAILED,
            provider_id=text.provider_id,
            status="undelivered",
            detail="30003",
        )
        sent(delivery_apply, receipt, text, channel="sms")
        text.refresh_from_db()
        assert text.status == Message.Status.FAILED
        assert self.reminder(alert, "email").status == Message.Status.SENT

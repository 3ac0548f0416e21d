"""The outbox: queued once, sent once, deferred in quiet hours, retried, failed visibly."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from leads.models import LeadEvent
from realtycrm.flows.inbound import text_receive
from sequences import outbox
from sequences.messaging import Sender
from sequences.models import Message, Suppression
from sequences.outbox import message_dispatch, message_queue, messages_dispatch_due
from sequences.services.enrollment import scheduler_tick
from tests.factories import EnrollmentFactory, LeadFactory, MessageFactory, UserFactory
from tests.moments import NEW_YORK, NOON
from tests.sequences.conftest import twilio_message

pytestmark = pytest.mark.django_db

LATE_EVENING = datetime(2026, 5, 4, 23, 0, tzinfo=NEW_YORK)  # 20:00 in Los Angeles


def queue(lead, *, channel="sms", key="k1", purpose="nurture", audience="lead", **kwargs):
    to = kwargs.pop("to", lead.phone if channel == "sms" else lead.email)
    return message_queue(
        channel=channel,
        to=to,
        body=kwargs.pop("body", "Homes near you sold fast this month."),
        subject=kwargs.pop("subject", "Market update" if channel == "email" else ""),
        idempotency_key=key,
        purpose=purpose,
        audience=audience,
        lead=lead,
        **kwargs,
    )


def test_queueing_the_same_key_twice_makes_one_message(clock):
    lead = LeadFactory(texting=True)
    first = queue(lead, key="enrollment:1:step:1:sms")
    second = queue(lead, key="enrollment:1:step:1:sms", body="Something else entirely")
    assert second.pk == first.pk
    assert Message.objects.count() == 1
    assert second.body == first.body


def test_a_message_due_now_is_dispatched_after_commit(
    clock, sms_outbox, django_capture_on_commit_callbacks
):
    lead = LeadFactory(texting=True)
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(lead)
    message.refresh_from_db()
    assert (message.status, message.sent_at) == ("sent", NOON)
    assert message.provider_id.startswith("locmem-")
    assert [sms.to for sms in sms_outbox] == [lead.phone]


def test_dispatching_twice_sends_once(clock, sms_outbox):
    message = MessageFactory()
    assert message_dispatch(message.pk) == "sent"
    assert message_dispatch(message.pk) is None
    assert messages_dispatch_due() == 0
    assert len(sms_outbox) == 1


@pytest.mark.parametrize("status", ["sending", "sent", "failed", "suppressed"])
def test_a_message_past_queued_is_never_sent(clock, sms_outbox, status):
    message = MessageFactory(status=status)
    message_dispatch(message.pk)
    messages_dispatch_due()
    assert sms_outbox == []
    message.refresh_from_db()
    assert message.status == status


def test_a_message_scheduled_for_later_waits(clock, sms_outbox):
    message = MessageFactory(scheduled_for=NOON + timedelta(hours=2))
    assert message_dispatch(message.pk) is None
    clock.move_to(NOON + timedelta(hours=2))
    scheduler_tick()
    assert len(sms_outbox) == 1


def test_quiet_hours_follow_the_recipients_clock(sms_outbox):
    with time_machine.travel(LATE_EVENING, tick=False) as clock:
        boston = MessageFactory(lead__phone="+16175550123")
        los_angeles = MessageFactory(lead__phone="+12135550123")
        assert message_dispatch(boston.pk) == "deferred"
        assert message_dispatch(los_angeles.pk) == "sent"
        boston.refresh_from_db()
        assert boston.status == "queued"
        assert boston.scheduled_for == datetime(2026, 5, 5, 8, 0, tzinfo=NEW_YORK)
        assert boston.status_reason.startswith("Quiet hours where the recipient is")
        clock.move_to(datetime(2026, 5, 5, 7, 59, tzinfo=NEW_YORK))
        scheduler_tick()
        assert [sms.to for sms in sms_outbox] == ["+12135550123"]
        clock.move_to(datetime(2026, 5, 5, 8, 0, tzinfo=NEW_YORK))
        scheduler_tick()
        assert [sms.to for sms in sms_outbox] == ["+12135550123", "+16175550123"]


def test_a_stricter_state_window_holds_a_florida_text_after_eight_pm(sms_outbox):
    with time_machine.travel(datetime(2026, 5, 4, 20, 30, tzinfo=NEW_YORK), tick=False):
        miami = MessageFactory(lead__phone="+13055550123")
        assert message_dispatch(miami.pk) == "deferred"
    assert sms_outbox == []


CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("phone", "zone", "purpose"),
    [
        # Exchanges phonenumbers' geocoder calls "Miami, FL", "Oklahoma City, OK" and
        # "Baltimore, MD": no state's window matched them, so they got the 21:00 default.
        ("+13052221234", NEW_YORK, "acknowledgment"),
        ("+14052351234", CHICAGO, "nurture"),
        ("+14103321234", NEW_YORK, "nurture"),
    ],
)
def test_florida_oklahoma_and_maryland_texts_wait_from_eight_pm_until_eight_am(
    sms_outbox, phone, zone, purpose
):
    with time_machine.travel(datetime(2026, 5, 4, 20, 30, tzinfo=zone), tick=False) as clock:
        message = MessageFactory(lead__phone=phone, purpose=purpose)
        assert message_dispatch(message.pk) == "deferred"
        message.refresh_from_db()
        assert message.scheduled_for == datetime(2026, 5, 5, 8, 0, tzinfo=zone)
        clock.move_to(datetime(2026, 5, 5, 8, 0, tzinfo=zone))
        assert message_dispatch(message.pk) == "sent"
    assert [sms.to for sms in sms_outbox] == [phone]


def test_a_text_claimed_just_before_eight_is_held_if_it_would_reach_florida_after(sms_outbox):
    # A drain claims 50 texts at once and sends them one after another; the last may be
    # handed to the provider seconds or minutes after the claim checked the clock.
    with time_machine.travel(
        datetime(2026, 5, 4, 19, 59, 58, tzinfo=NEW_YORK), tick=False
    ) as clock:
        message = MessageFactory(lead__phone="+13052221234")  # Miami
        (claimed,), _ = outbox._claim(
            Message.objects.filter(pk=message.pk), timezone.now(), limit=1
        )
        clock.move_to(datetime(2026, 5, 4, 20, 0, 3, tzinfo=NEW_YORK))
        assert outbox._deliver(claimed, Sender()) == "deferred"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 0)  # holding it was no attempt
    assert message.scheduled_for == datetime(2026, 5, 5, 8, 0, tzinfo=NEW_YORK)
    assert message.status_reason.startswith("Quiet hours where the recipient is: held until")
    assert sms_outbox == []


def test_a_lead_arriving_at_night_gets_the_email_at_once_and_the_text_in_the_morning(
    client, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.helpers import post_intake

    with time_machine.travel(LATE_EVENING, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            post_intake(client, "valuation", sms_consent="on")
        assert len(mailoutbox) == 1 and sms_outbox == []
        clock.move_to(datetime(2026, 5, 5, 8, 0, 30, tzinfo=NEW_YORK))
        scheduler_tick()
    (text,) = sms_outbox
    assert "12 Elm Street" in text.body
    assert text.handed_at == datetime(2026, 5, 5, 8, 0, 30, tzinfo=NEW_YORK)


def test_automated_texts_are_capped_per_number_but_a_persons_one_off_is_not(clock, sms_outbox):
    lead = LeadFactory(texting=True)
    for index in range(3):
        clock.move_to(NOON + timedelta(hours=index))
        assert message_dispatch(queue(lead, key=f"nurture-{index}").pk) == "sent"
    clock.move_to(NOON + timedelta(hours=5))
    fourth = queue(lead, key="nurture-3")
    assert message_dispatch(fourth.pk) == "deferred"
    fourth.refresh_from_db()
    assert fourth.scheduled_for == NOON + timedelta(hours=24)  # when the first drops out
    ack = queue(lead, key="ack-again", purpose="acknowledgment")
    assert message_dispatch(ack.pk) == "suppressed"
    agent = UserFactory()
    one_off = queue(lead, key="one-off", purpose="one_off", created_by=agent)
    assert message_dispatch(one_off.pk) == "sent"
    assert len(sms_outbox) == 4


def test_texts_without_consent_are_suppressed_with_the_reason(clock, sms_outbox):
    message = MessageFactory(lead__sms_consent_at=None)
    assert message_dispatch(message.pk) == "suppressed"
    message.refresh_from_db()
    assert message.status_reason == "No SMS consent on record"
    assert sms_outbox == []


def test_messages_to_agents_skip_the_lead_rules(sms_outbox):
    with time_machine.travel(datetime(2026, 5, 5, 2, 0, tzinfo=NEW_YORK), tick=False):
        alert = MessageFactory(to_agent=True, to="+16175550199")
        assert message_dispatch(alert.pk) == "sent"
    assert sms_outbox[0].to == "+16175550199"


def test_a_suppressed_number_gets_nothing_whoever_it_is_for(clock, sms_outbox):
    Suppression.objects.create(channel="sms", address="+16175550199", reason="sms_stop")
    alert = MessageFactory(to_agent=True, to="+16175550199")
    assert message_dispatch(alert.pk) == "suppressed"
    alert.refresh_from_db()
    assert alert.status_reason == "Replied STOP"


def test_only_the_first_text_to_a_number_carries_the_opt_out_line(clock):
    lead = LeadFactory(texting=True)
    first = queue(lead, key="a")
    second = queue(lead, key="b")
    assert first.body == "Homes near you sold fast this month. Reply STOP to opt out."
    assert second.body == "Homes near you sold fast this month."


def test_every_email_to_a_lead_has_the_postal_address_and_a_one_click_unsubscribe(
    clock, mailoutbox
):
    lead = LeadFactory(email="ada@example.com")
    message_dispatch(queue(lead, channel="email").pk)
    (email,) = mailoutbox
    assert "100 Main Street, Suite 200, Springfield, MA 01103" in email.body
    link = email.extra_headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://testserver/email/unsubscribe/")
    assert link in email.body
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and f'href="{link}"' in html


def test_an_email_to_an_agent_is_internal(clock, mailoutbox):
    alert = MessageFactory(
        to_agent=True, channel="email", to="alex@harborandmain.example", subject="Hot lead"
    )
    message_dispatch(alert.pk)
    (email,) = mailoutbox
    assert "List-Unsubscribe" not in email.extra_headers
    assert "Unsubscribe" not in email.body


# --- Workers that die --------------------------------------------------------------------------


def test_a_worker_killed_between_claim_and_send_neither_loses_nor_duplicates(clock, sms_outbox):
    message = MessageFactory()
    (claimed,), _ = outbox._claim(Message.objects.filter(pk=message.pk), NOON, limit=1)
    assert claimed.status == "sending"  # …and then the worker process is killed
    assert message_dispatch(message.pk) is None  # nobody else may send it meanwhile
    clock.move_to(NOON + timedelta(minutes=4))
    scheduler_tick()
    assert sms_outbox == []  # the lease has not expired yet
    clock.move_to(NOON + timedelta(minutes=6))
    scheduler_tick()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(sms_outbox) == 1


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_a_worker_killed_after_the_provider_took_it_does_not_send_it_again(
    clock, sms_outbox, mailoutbox, channel
):
    message = MessageFactory(channel=channel, subject="Hello" if channel == "email" else "")
    with (
        mock.patch.object(outbox, "_record_sent", side_effect=SystemExit("worker killed")),
        pytest.raises(SystemExit),
    ):
        message_dispatch(message.pk)
    message.refresh_from_db()
    assert message.status == "sending"
    clock.move_to(NOON + timedelta(minutes=6))
    scheduler_tick()
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.status_reason == "An earlier attempt had reached the provider."
    assert len(sms_outbox) + len(mailoutbox) == 1


def test_a_message_whose_worker_keeps_dying_is_retried_until_the_horizon_then_expires(
    clock, settings
):
    settings.MESSAGE_RETRY_HORIZON_HOURS = 1
    message = MessageFactory()
    for minutes in range(0, 60, 10):
        clock.move_to(NOON + timedelta(minutes=minutes))
        outbox._claim(Message.objects.filter(pk=message.pk), outbox.timezone.now(), limit=1)
        clock.move_to(NOON + timedelta(minutes=minutes + 6))
        outbox.messages_recover()
        message.refresh_from_db()
        assert (message.status, message.outcome_unknown) == ("queued", True)
    clock.move_to(NOON + timedelta(minutes=60))
    outbox._claim(Message.objects.filter(pk=message.pk), outbox.timezone.now(), limit=1)
    clock.move_to(NOON + timedelta(minutes=66))
    outbox.messages_recover()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("expired", 7)
    assert "the worker stopped mid-send" in message.status_reason
    assert message.outcome_unknown  # a resend asks the provider first
    assert message.lead.events.filter(kind=LeadEvent.Kind.MESSAGE_FAILED).exists()


# --- Provider errors, through the real Twilio SDK against a local fake -------------------------


SERVICE_UNAVAILABLE = (503, {}, {"code": 20500, "message": "Service unavailable", "status": 503})


def retry_until_settled(clock, message, *, provider_back_at=None, provider=None, limit=200):
    """Follow a message's retries on the clock (the scheduler ticking at each one); the
    provider answers again from `provider_back_at`. Returns the delays between attempts."""
    delays = []
    for _ in range(limit):
        message.refresh_from_db()
        if message.status != "queued":
            return delays
        delays.append(message.scheduled_for - outbox.timezone.now())
        clock.move_to(message.scheduled_for)
        if provider_back_at is not None and outbox.timezone.now() >= provider_back_at:
            provider.default = (201, {}, twilio_message("SMback"))
        scheduler_tick()
    raise AssertionError("still queued")


def test_a_60_minute_outage_delays_the_acknowledgment_but_it_is_sent_once(clock, twilio):
    """Transient failures never end a message: backoff 1, 2, 4, 8, 16, then every 30 minutes."""
    twilio.default = SERVICE_UNAVAILABLE
    message = MessageFactory(purpose="acknowledgment")
    assert message_dispatch(message.pk) == "retry"
    delays = retry_until_settled(
        clock, message, provider_back_at=NOON + timedelta(minutes=60), provider=twilio
    )
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 30)]
    assert (message.status, message.provider_id, message.attempts) == ("sent", "SMback", 7)
    assert message.sent_at == NOON + timedelta(minutes=61)
    assert [request["method"] for request in twilio.requests] == ["POST"] * 7
    assert not message.lead.events.filter(kind=LeadEvent.Kind.MESSAGE_FAILED).exists()


def test_the_backoff_unit_compresses_time_for_the_fault_harness(settings):
    """MESSAGE_RETRY_BASE_SECONDS is the backoff's minute: 60 by default, 1 in bench/faults.py,
    where the same ladder runs in seconds (a 90-second outage stands for 90 minutes)."""
    assert [outbox.retry_delay(n) for n in (1, 2, 5, 6, 40)] == [
        timedelta(minutes=m) for m in (1, 2, 16, 30, 30)
    ]
    settings.MESSAGE_RETRY_BASE_SECONDS = 1
    assert [outbox.retry_delay(n) for n in (1, 2, 5, 6, 40)] == [
        timedelta(seconds=s) for s in (1, 2, 16, 30, 30)
    ]


def test_an_outage_past_the_horizon_expires_the_message_visibly(clock, twilio):
    twilio.default = SERVICE_UNAVAILABLE
    message = MessageFactory(purpose="acknowledgment")
    message_dispatch(message.pk)
    delays = retry_until_settled(clock, message)
    overnight = [delay for delay in delays if delay > timedelta(minutes=30)]
    assert len(overnight) == 1  # held for the lead's quiet hours, 21:00 to 08:00
    assert message.status == "expired"
    assert outbox.timezone.now() == NOON + timedelta(hours=24)  # the last try is on the horizon
    assert (
        message.status_reason
        == f"Could not be sent in 24 h of trying ({message.attempts} attempts)"
    )
    assert "503" in message.last_error
    assert len(twilio.requests) == message.attempts
    expired = message.lead.events.get(kind=LeadEvent.Kind.MESSAGE_FAILED)
    assert "Could not be sent in 24 h" in expired.summary


def test_a_permanent_provider_error_fails_at_once(clock, twilio):
    twilio.respond(400, {"code": 21211, "message": "The 'To' number is not valid.", "status": 400})
    message = MessageFactory()
    assert message_dispatch(message.pk) == "failed"
    message.refresh_from_db()
    assert message.status_reason == "The provider rejected it"
    assert "21211" in message.last_error
    assert len(twilio.requests) == 1


def test_twilio_21610_suppresses_the_number_and_is_never_retried(clock, twilio):
    twilio.respond(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"})
    message = MessageFactory()
    later = MessageFactory(lead=message.lead, idempotency_key="later")
    assert message_dispatch(message.pk) == "suppressed"
    message.lead.refresh_from_db()
    assert message.lead.sms_opted_out_at == NOON
    assert Suppression.objects.get().reason == "carrier_opt_out"
    later.refresh_from_db()
    assert later.status == "suppressed"
    assert len(twilio.requests) == 1


def test_a_timeout_is_checked_with_the_provider_before_sending_again(clock, twilio, settings):
    """A read timeout may mean Twilio took the text: the retry asks Twilio first."""
    message = MessageFactory(body="Your comps are ready.")
    with mock.patch(
        "twilio.http.http_client.TwilioHttpClient.request",
        side_effect=__import__("requests").exceptions.ReadTimeout("read timed out"),
    ):
        assert message_dispatch(message.pk) == "retry"
    message.refresh_from_db()
    assert message.outcome_unknown
    # Twilio did take it: the list of recent messages to that number shows it.
    twilio.respond(
        200,
        {
            "messages": [
                twilio_message(
                    "SMfound", to=message.to, body="Your comps are ready. Reply STOP to opt out."
                )
            ],
            "next_page_uri": None,
        },
    )
    message.body = "Your comps are ready. Reply STOP to opt out."
    message.save(update_fields=["body"])
    clock.move_to(message.scheduled_for)
    scheduler_tick()
    message.refresh_from_db()
    assert (message.status, message.provider_id) == ("sent", "SMfound")
    assert [request["method"] for request in twilio.requests] == ["GET"]  # looked, did not send


# --- Asking Twilio before a resend: every earlier attempt, until it answers --------------------


def twilio_list(*messages):
    return {"messages": list(messages), "next_page_uri": None}


def rfc2822(moment):
    return format_datetime(moment.astimezone(UTC))


def test_after_two_lease_recoveries_the_lookup_reaches_back_to_the_first_attempt(clock, twilio):
    message = MessageFactory(body="Your comps are ready.")
    # Attempt 1: Twilio takes the text, then the worker dies before recording it.
    with (
        mock.patch.object(outbox, "_record_sent", side_effect=SystemExit("worker killed")),
        pytest.raises(SystemExit),
    ):
        message_dispatch(message.pk)
    # Attempt 2: recovered and claimed again, and that worker dies too, before asking.
    clock.move_to(NOON + timedelta(minutes=6))
    outbox.messages_recover()
    outbox._claim(Message.objects.filter(pk=message.pk), outbox.timezone.now(), limit=1)
    # Attempt 3 asks Twilio about everything since the first attempt, and finds it.
    first = twilio_message("SMfirst", to=message.to, body=message.body, date_created=rfc2822(NOON))
    twilio.respond(200, twilio_list(first))
    clock.move_to(NOON + timedelta(minutes=12))
    scheduler_tick()
    message.refresh_from_db()
    assert (message.status, message.provider_id, message.attempts) == ("sent", "SMfirst", 3)
    assert message.first_claimed_at == NOON
    assert [request["method"] for request in twilio.requests] == ["POST", "GET"]
    assert "To=%2B" in twilio.requests[1]["path"]


def test_an_unknown_outcome_stays_unknown_until_twilio_answers(clock, twilio):
    """Timeout after Twilio took it → Twilio unreachable → the third attempt still asks first."""
    message = MessageFactory(body="Your comps are ready.")
    requests_lib = __import__("requests")
    with mock.patch(
        "twilio.http.http_client.TwilioHttpClient.request",
        side_effect=requests_lib.exceptions.ReadTimeout("read timed out"),
    ):
        assert message_dispatch(message.pk) == "retry"
    clock.move_to(NOON + timedelta(minutes=1))
    with mock.patch(
        "twilio.http.http_client.TwilioHttpClient.request",
        side_effect=requests_lib.exceptions.ConnectTimeout("unreachable"),
    ) as unreachable:
        assert message_dispatch(message.pk) == "retry"
    assert [call.args[0] for call in unreachable.call_args_list] == ["GET"]  # asked, never sent
    message.refresh_from_db()
    assert message.outcome_unknown
    assert "Could not ask Twilio" in message.last_error
    sms = twilio_message("SMfirst", to=message.to, body=message.body, date_created=rfc2822(NOON))
    twilio.respond(200, twilio_list(sms))
    clock.move_to(message.scheduled_for)
    assert message_dispatch(message.pk) == "sent (found at the provider)"
    message.refresh_from_db()
    assert (message.status, message.provider_id) == ("sent", "SMfirst")
    assert [request["method"] for request in twilio.requests] == ["GET"]


def test_twilio_answering_not_found_clears_the_unknown_and_the_text_goes_once(clock, twilio):
    message = MessageFactory(outcome_unknown=True, first_claimed_at=NOON - timedelta(hours=3))
    older = twilio_message(
        "SMold", to=message.to, body=message.body, date_created="Mon, 04 May 2026 10:00:00 +0000"
    )
    twilio.respond(200, twilio_list(older))  # the same words, but before the first attempt
    assert message_dispatch(message.pk) == "sent"
    message.refresh_from_db()
    assert (message.status, message.outcome_unknown, message.possible_duplicate) == (
        "sent",
        False,
        False,
    )
    assert [request["method"] for request in twilio.requests] == ["GET", "POST"]


# --- Email: acceptance recorded first; a resend nobody could check is counted -------------------


def test_a_worker_dying_after_the_sent_mark_never_sends_again_and_recovery_records_the_rest(
    clock, mailoutbox
):
    message = MessageFactory(email=True, purpose="acknowledgment")
    with (
        mock.patch.object(outbox, "_effects_record_once", side_effect=SystemExit("killed")),
        pytest.raises(SystemExit),
    ):
        message_dispatch(message.pk)
    message.refresh_from_db()
    assert (message.status, message.effects_pending) == ("sent", True)
    clock.move_to(NOON + timedelta(minutes=6))
    scheduler_tick()
    scheduler_tick()
    message.refresh_from_db()
    assert not message.effects_pending
    assert message.lead.events.filter(kind=LeadEvent.Kind.MESSAGE_SENT).count() == 1
    message.lead.refresh_from_db()
    assert message.lead.first_automated_contact_at == NOON
    assert len(mailoutbox) == 1


def test_an_email_sent_again_without_a_way_to_ask_is_counted_as_a_possible_duplicate(
    clock, settings, mailoutbox, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # cannot be asked
    message = MessageFactory(email=True)
    with (
        mock.patch.object(outbox, "_record_sent", side_effect=SystemExit("worker killed")),
        pytest.raises(SystemExit),
    ):
        message_dispatch(message.pk)
    clock.move_to(NOON + timedelta(minutes=6))
    scheduler_tick()
    message.refresh_from_db()
    assert (message.status, message.possible_duplicate) == ("sent", True)
    assert len(mailoutbox) == 2  # the documented at-least-once trade-off…
    assert Message.objects.filter(possible_duplicate=True).count() == 1  # …counted
    assert f"outbox.possible_duplicate message={message.pk} channel=email" in caplog.text


def test_a_message_whose_lease_ran_out_mid_batch_is_not_sent_by_the_slow_worker(clock, sms_outbox):
    """A slow provider can outlast the lease a batch was claimed with: once recovery has given
    the row to another worker, the first one must not send it as well."""
    message = MessageFactory()
    (claimed,), _ = outbox._claim(Message.objects.filter(pk=message.pk), NOON, limit=1)
    clock.move_to(NOON + timedelta(minutes=6))  # still busy with the batch's earlier messages
    outbox.messages_recover()  # the lease expired: the row goes back to the queue
    assert outbox._deliver(claimed, Sender()) == "lease lost"
    assert sms_outbox == []
    assert message_dispatch(message.pk) == "sent"  # the worker that has it now sends it, once
    assert len(sms_outbox) == 1


def test_a_stop_that_arrives_after_the_claim_still_stops_the_text(clock, sms_outbox):
    lead = LeadFactory(texting=True)
    message = queue(lead)
    (claimed,), _ = outbox._claim(Message.objects.filter(pk=message.pk), NOON, limit=1)
    text_receive(from_number=lead.phone, body="STOP")  # while the batch is being sent
    assert outbox._deliver(claimed, Sender()) == "suppressed"
    assert sms_outbox == []
    message.refresh_from_db()
    assert (message.status, message.status_reason) == ("suppressed", "Replied STOP")


def test_a_reply_that_pauses_automation_after_the_claim_holds_the_nurture_text(clock, sms_outbox):
    lead = LeadFactory(texting=True)
    enrollment = EnrollmentFactory(lead=lead)
    message = queue(lead, enrollment=enrollment)
    (claimed,), _ = outbox._claim(Message.objects.filter(pk=message.pk), NOON, limit=1)
    text_receive(from_number=lead.phone, body="Can you call me tomorrow?")
    assert outbox._deliver(claimed, Sender()) == "suppressed"
    assert sms_outbox == []

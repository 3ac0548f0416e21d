"""Call-connect: "Call" rings the agent's phone through Twilio (the real SDK, a local fake API),
says who the lead is, dials the lead on 1 from the brokerage's number, and logs the call by
itself as a personal contact; the agent taps the outcome afterwards."""

from datetime import time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from alerts import calls
from alerts.calls import call_announcement, call_link_token, call_place
from alerts.models import Alert, Call
from alerts.services import alert_raise
from leads.models import Lead, LeadEvent
from realtycrm.flows.calls import call_start
from sequences.backends.voice import ConsoleVoiceBackend, OutgoingCall
from sequences.checks import sequences_settings
from tests.factories import (
    AgentFactory,
    AlertFactory,
    AssignmentRuleFactory,
    CallFactory,
    LeadFactory,
)
from tests.helpers import post_intake
from tests.voice import TwilioPhone, client_poster, signature, twilio_call

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

HTMX = {"HX-Request": "true", "HX-Target": "lead"}
ANNOUNCEMENT = "Hot valuation lead, Dana Whitfield, 48 Harbor View Drive: press 1 to connect."
OFFICE_LINE = "+14135550100"  # TWILIO_VOICE_NUMBER in the test settings


@pytest.fixture
def dana(alex):
    return LeadFactory(
        first_name="Dana",
        last_name="Whitfield",
        phone="+14135550187",
        source=Lead.Source.VALUATION,
        hot=True,
        property_address="48 Harbor View Drive",
        owner=alex,
    )


@pytest.fixture
def start(client, django_capture_on_commit_callbacks):
    """Tap "Connect call" on the lead page, as a committed request: the call is placed."""

    def tap(lead, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("leads:lead-call", args=[lead.pk]), data, headers=HTMX)

    return tap


def placed(twilio_voice) -> dict:
    """The calls.create request the SDK made to the fake Twilio API."""
    (request,) = [r for r in twilio_voice.requests if r["path"].endswith("/Calls.json")]
    return request


@pytest.fixture
def phone(client, twilio_voice):
    """Twilio's side of the call the test just placed."""
    return lambda: TwilioPhone(placed(twilio_voice)["data"], client_poster(client))


def contacts(lead):
    return list(lead.events.filter(kind=LeadEvent.Kind.PERSONAL_CONTACT))


# --- Placing the call ----------------------------------------------------------------------------


def test_call_rings_the_agents_phone_first_through_twilio(agent, dana, start, twilio_voice):
    response = start(dana)
    assert response.status_code == 200
    assert "Ringing your phone" in response.content.decode()
    call = Call.objects.get()
    request = placed(twilio_voice)
    assert request["method"] == "POST"
    assert request["path"] == "/2010-04-01/Accounts/AC00000000000000000000000000000000/Calls.json"
    assert request["data"]["To"] == "+14135550102"  # Alex's own phone, not the lead's
    assert request["data"]["From"] == OFFICE_LINE
    assert request["data"]["Url"] == f"http://testserver/alerts/calls/{call.pk}/voice/answer/"
    assert request["data"]["StatusCallback"] == (
        f"http://testserver/alerts/calls/{call.pk}/voice/status/"
    )
    assert request["data"]["Method"] == "POST"
    assert call.status == Call.Status.RINGING
    assert call.provider_id == twilio_call()["sid"]
    assert (call.agent, call.lead, call.origin) == (agent, dana, Call.Origin.LEAD)


def test_the_call_waits_for_the_commit(
    agent, dana, client, twilio_voice, django_capture_on_commit_callbacks
):
    """Twilio is asked after the request's transaction commits, by the worker's task."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("leads:lead-call", args=[dana.pk]), headers=HTMX)
    assert twilio_voice.requests == []
    assert Call.objects.get().status == Call.Status.QUEUED
    for callback in callbacks:
        callback()
    assert len(twilio_voice.requests) == 1
    assert call_place(Call.objects.get().pk) == "already placed"  # a second run rings nothing
    assert len(twilio_voice.requests) == 1


def test_an_agent_without_a_phone_is_asked_to_add_it(agent, dana, start, twilio_voice):
    agent.agent.phone = ""
    agent.agent.save()
    response = start(dana)
    assert response.status_code == 422
    assert "Add your mobile number in My availability" in response.content.decode()
    assert not Call.objects.exists()
    assert twilio_voice.requests == []


def test_the_agent_can_add_their_phone_in_my_availability(client, agent):
    week = {"work_days": ["0", "1", "2", "3", "4"]}
    response = client.post(reverse("alerts:availability"), {"phone": "(413) 555-0142", **week})
    assert response.status_code == 302
    agent.agent.refresh_from_db()
    assert agent.agent.phone == "+14135550142"
    response = client.post(reverse("alerts:availability"), {"phone": "555", **week})
    assert response.status_code == 200
    assert "Enter a phone number" in response.content.decode()


def test_one_call_at_a_time_until_the_last_one_is_given_up(agent, dana, start, twilio_voice, clock):
    assert start(dana).status_code == 200
    second = start(dana)
    assert second.status_code == 422
    assert "already have a call under way" in second.content.decode()
    clock.move_to(timezone.now() + timedelta(minutes=6))  # no word from Twilio since
    assert start(dana).status_code == 200
    assert Call.objects.filter(status=Call.Status.NOT_CONNECTED).count() == 1


def test_a_twilio_refusal_fails_the_call_with_its_reason(agent, dana, start, twilio_voice, client):
    twilio_voice.respond(400, {"code": 21215, "message": "Geo permission", "status": 400})
    start(dana)
    call = Call.objects.get()
    assert call.status == Call.Status.FAILED
    assert "21215" in call.detail
    page = client.get(reverse("leads:lead-detail", args=[dana.pk])).content.decode()
    assert "Could not place the call" in page


def test_only_the_owner_or_a_broker_calls_a_lead(
    sam, dana, broker, call_outbox, django_capture_on_commit_callbacks
):
    with pytest.raises(calls.CallRefused, match="claim the lead first"):
        call_start(dana, agent=sam, origin=Call.Origin.LEAD)
    with django_capture_on_commit_callbacks(execute=True):
        call_start(dana, agent=broker, origin=Call.Origin.LEAD)
    assert [c.to for c in call_outbox] == [broker.agent.phone]


# --- What the agent hears, and the lead dialed on 1 ----------------------------------------------


def test_the_agent_hears_who_it_is_and_presses_1_to_dial_the_lead(agent, dana, start, phone):
    start(dana)
    call = Call.objects.get()
    twilio = phone()
    answer = twilio.pick_up()
    gather = answer.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == f"http://testserver/alerts/calls/{call.pk}/voice/connect/"
    assert [say.text for say in gather.findall("Say")] == [ANNOUNCEMENT, ANNOUNCEMENT]
    assert answer.find("Say").text == "We did not hear a 1. Goodbye."
    call.refresh_from_db()
    assert call.status == Call.Status.ANSWERED

    connect = twilio.press(answer, "1")
    dial = connect.find("Dial")
    assert dial.get("callerId") == OFFICE_LINE
    assert dial.get("record") == "do-not-record"
    assert dial.get("action") == f"http://testserver/alerts/calls/{call.pk}/voice/dialed/"
    number = dial.find("Number")
    assert number.text == "+14135550187"
    assert number.get("statusCallback") == (
        f"http://testserver/alerts/calls/{call.pk}/voice/lead-status/"
    )
    assert number.get("url") is None  # no recording: nothing is played to the lead first
    assert connect.find("Say") is None
    call.refresh_from_db()
    assert call.status == Call.Status.CONNECTING


def test_pressing_another_key_does_not_dial_the_lead(agent, dana, start, phone):
    start(dana)
    twilio = phone()
    goodbye = twilio.press(twilio.pick_up(), "2")
    assert goodbye.find("Dial") is None
    assert goodbye.find("Hangup") is not None
    twilio.hang_up()
    call = Call.objects.get()
    assert (call.status, call.detail) == (Call.Status.NOT_CONNECTED, "You pressed 2, not 1.")
    assert contacts(dana) == []


def test_an_agent_who_does_not_pick_up_logs_nothing(agent, dana, start, phone, client):
    start(dana)
    phone().status("no-answer")
    call = Call.objects.get()
    assert (call.status, call.detail) == (Call.Status.NOT_CONNECTED, "Your phone did not answer.")
    assert contacts(dana) == []
    page = client.get(reverse("leads:lead-detail", args=[dana.pk])).content.decode()
    assert "Not connected: Your phone did not answer. Nothing was logged." in page


def test_the_announcement_uses_human_words():
    assert (
        call_announcement(
            LeadFactory.build(
                first_name="Dana",
                last_name="Whitfield",
                source="listing_ad",
                intent="warm",
                property_address="",
                open_house="",
                neighbourhood="Forest Park",
            )
        )
        == "Warm listing ad lead, Dana Whitfield, Forest Park: press 1 to connect."
    )
    nameless = LeadFactory.build(
        first_name="", last_name="", source="open_house", intent="unknown", property_address=""
    )
    assert call_announcement(nameless) == "New open house lead, no name given: press 1 to connect."


# --- The call logged by itself -------------------------------------------------------------------


def test_the_call_is_logged_as_a_personal_contact_with_its_length(agent, dana, start, phone, clock):
    alert = AlertFactory(lead=dana, agent=agent)
    start(dana)
    twilio = phone()
    connect = twilio.press(twilio.pick_up(), "1")
    dialed_at = timezone.now()
    clock.move_to(dialed_at + timedelta(minutes=5))
    goodbye = twilio.lead_answers(connect, seconds=252)
    assert goodbye.find("Hangup") is not None

    (event,) = contacts(dana)
    assert event.channel == LeadEvent.Channel.CALL
    assert event.actor == agent
    assert event.summary == "Call: answered, 4 min 12 s (call-connect)"
    assert event.data["duration_seconds"] == 252
    assert event.data["attempt"] is False
    assert event.occurred_at == dialed_at  # speed to lead counts from the moment it was dialed
    dana.refresh_from_db()
    assert dana.first_personal_contact_at == dialed_at
    assert dana.stage == Lead.Stage.CONTACTED
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None  # pressing 1 answered the alert
    call = Call.objects.get()
    assert (call.status, call.lead_answered, call.duration_seconds) == ("ended", True, 252)
    assert call.contact_event == event
    assert call.lead_leg_id == twilio.lead_sid


def test_the_dial_and_the_status_callback_log_the_call_once(agent, dana, start, phone):
    start(dana)
    twilio = phone()
    connect = twilio.press(twilio.pick_up(), "1")
    twilio.lead_answers(connect, seconds=60)
    twilio.lead_answers(connect, seconds=60)  # Twilio retrying every request
    assert len(contacts(dana)) == 1


def test_a_busy_line_is_logged_as_a_busy_attempt(agent, dana, start, phone):
    start(dana)
    twilio = phone()
    twilio.lead_does_not_answer(twilio.press(twilio.pick_up(), "1"), word="busy")
    (event,) = contacts(dana)
    assert event.summary == "Call: busy, attempt (call-connect)"


def test_a_lead_who_does_not_answer_is_logged_as_an_attempt(agent, dana, start, phone, client):
    start(dana)
    twilio = phone()
    twilio.lead_does_not_answer(twilio.press(twilio.pick_up(), "1"))
    (event,) = contacts(dana)
    assert event.summary == "Call: no answer, attempt (call-connect)"
    assert event.data["attempt"] is True
    assert event.data["duration_seconds"] == 0
    call = Call.objects.get()
    assert (call.outcome, call.lead_answered) == (Call.Outcome.NO_ANSWER, False)
    page = client.get(reverse("leads:lead-detail", args=[dana.pk])).content.decode()
    assert "did not answer (no answer): logged as a call attempt." in page
    assert 'name="outcome"' not in page  # nothing to ask


# --- The outcome, one tap ------------------------------------------------------------------------


def test_the_agent_taps_the_outcome_and_the_logged_contact_says_it(
    agent, dana, start, phone, client
):
    start(dana)
    twilio = phone()
    twilio.lead_answers(twilio.press(twilio.pick_up(), "1"), seconds=95)
    page = client.get(reverse("leads:lead-detail", args=[dana.pk])).content.decode()
    assert "Call ended after 1 min 35 s. How did it go?" in page
    call = Call.objects.get()
    url = reverse("leads:call-outcome", args=[dana.pk, call.pk])

    assert client.post(url, {"outcome": "maybe"}, headers=HTMX).status_code == 422
    response = client.post(url, {"outcome": "voicemail"}, headers=HTMX)
    assert response.status_code == 200
    assert "Call logged: left voicemail." in response.content.decode()
    (event,) = contacts(dana)
    assert event.summary == "Call: left voicemail, 1 min 35 s (call-connect)"
    assert event.data["outcome"] == "voicemail"
    assert "How did it go?" not in response.content.decode()
    # Changing their mind rewrites the same contact; the contact dates stay put.
    client.post(url, {"outcome": "wrong_number"}, headers=HTMX)
    (event,) = contacts(dana)
    assert event.summary == "Call: wrong number, 1 min 35 s (call-connect)"


def test_an_outcome_needs_a_call_that_reached_the_lead(agent, dana, client):
    call = CallFactory(lead=dana, status=Call.Status.RINGING)
    url = reverse("leads:call-outcome", args=[dana.pk, call.pk])
    response = client.post(url, {"outcome": "talked"}, headers=HTMX)
    assert response.status_code == 422
    assert "has not reached the lead" in response.content.decode()


def test_the_card_follows_the_call_and_brings_back_the_lead_when_it_ends(agent, dana, client):
    call = CallFactory(lead=dana, status=Call.Status.CONNECTING)
    url = reverse("leads:call-card", args=[dana.pk, call.pk])
    card = client.get(url, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in card.content.decode()
    assert "Call-connect:" not in card.content.decode()  # the template's comment stays one
    assert "Calling Dana Whitfield at (413) 555-0187 from the office line" in card.content.decode()
    Call.objects.filter(pk=call.pk).update(
        status=Call.Status.ENDED, lead_answered=True, duration_seconds=30, ended_at=timezone.now()
    )
    over = client.get(url, headers={"HX-Request": "true"})
    assert over["HX-Retarget"] == "#lead"
    assert 'id="lead"' in over.content.decode()
    assert 'hx-trigger="every 2s"' not in over.content.decode()


# --- Recording -----------------------------------------------------------------------------------


def test_recording_is_announced_to_both_sides_when_the_brokerage_turns_it_on(
    agent, dana, start, phone, settings
):
    settings.CALL_RECORDING = True
    start(dana)
    call = Call.objects.get()
    assert call.recorded
    twilio = phone()
    connect = twilio.press(twilio.pick_up(), "1")
    notice, dial = list(connect)
    assert (notice.tag, notice.text) == ("Say", "This call may be recorded.")  # to the agent
    assert dial.get("record") == "record-from-answer-dual"
    whisper_url = dial.find("Number").get("url")
    assert whisper_url == f"http://testserver/alerts/calls/{call.pk}/voice/whisper/"
    code, body = twilio._send(
        whisper_url, twilio._lead_leg(call.lead_number, CallStatus="in-progress")
    )
    assert code == 200
    assert '<Say language="en-US">This call may be recorded.</Say>' in body  # to the lead


# --- Signatures ----------------------------------------------------------------------------------

WEBHOOKS = [
    "alerts:call-answer",
    "alerts:call-connect",
    "alerts:call-whisper",
    "alerts:call-dialed",
    "alerts:call-status",
    "alerts:call-lead-status",
]


@pytest.mark.parametrize("name", WEBHOOKS)
def test_an_unsigned_or_forged_voice_webhook_is_refused(client, dana, name, settings):
    call = CallFactory(lead=dana, status=Call.Status.CONNECTING, dialed_at=timezone.now())
    other = CallFactory(lead=LeadFactory(owner=AgentFactory().user))
    path = reverse(name, args=[call.pk])
    url = f"http://testserver{path}"
    data = {
        "CallSid": call.provider_id,
        "CallStatus": "completed",
        "Digits": "1",
        "DialCallStatus": "completed",
        "DialCallDuration": "60",
        "CallDuration": "60",
    }
    refusals = [
        client.post(path, data),  # unsigned
        client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature(url, data, "another-token")),
        # signed for another call's URL
        client.post(
            path,
            data,
            HTTP_X_TWILIO_SIGNATURE=signature(
                f"http://testserver{reverse(name, args=[other.pk])}", data
            ),
        ),
        # signed, then changed on the way
        client.post(
            path, {**data, "DialCallDuration": "6000"}, HTTP_X_TWILIO_SIGNATURE=signature(url, data)
        ),
    ]
    assert [response.status_code for response in refusals] == [403, 403, 403, 403]
    settings.DEBUG = True  # no bypass for development either
    assert client.post(path, data).status_code == 403
    assert client.get(path).status_code == 405
    call.refresh_from_db()
    assert call.status == Call.Status.CONNECTING
    assert contacts(dana) == []


def test_a_signed_request_about_another_call_is_refused(client, dana):
    call = CallFactory(lead=dana)
    path = reverse("alerts:call-answer", args=[call.pk])
    data = {"CallSid": "CA999", "CallStatus": "in-progress"}
    response = client.post(
        path, data, HTTP_X_TWILIO_SIGNATURE=signature(f"http://testserver{path}", data)
    )
    assert response.status_code == 400
    missing = reverse("alerts:call-answer", args=[call.pk + 100])
    response = client.post(
        missing, data, HTTP_X_TWILIO_SIGNATURE=signature(f"http://testserver{missing}", data)
    )
    assert response.status_code == 404


def test_an_answer_after_the_call_is_over_hangs_up(client, dana):
    call = CallFactory(lead=dana, over=True)
    twilio = TwilioPhone(
        {
            "To": call.agent_number,
            "From": OFFICE_LINE,
            "Url": f"http://testserver{reverse('alerts:call-answer', args=[call.pk])}",
            "StatusCallback": f"http://testserver{reverse('alerts:call-status', args=[call.pk])}",
        },
        client_poster(client),
        sid=call.provider_id,
    )
    code, body = twilio._send(twilio.created["Url"], twilio._agent_leg(CallStatus="in-progress"))
    assert code == 200
    assert "<Hangup />" in body and "Gather" not in body


# --- From Today and from an alert ----------------------------------------------------------------


def test_call_from_todays_hot_queue_goes_to_the_lead_page(
    agent, dana, client, call_outbox, django_capture_on_commit_callbacks
):
    today = client.get(reverse("leads:today")).content.decode()
    assert f'action="{reverse("leads:lead-call", args=[dana.pk])}"' in today
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("leads:lead-call", args=[dana.pk]), {"from": "today"})
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:lead-detail", args=[dana.pk])
    assert Call.objects.get().origin == Call.Origin.TODAY
    assert [c.to for c in call_outbox] == ["+14135550102"]


def test_call_from_an_alert(agent, dana, client, call_outbox, django_capture_on_commit_callbacks):
    alert = AlertFactory(lead=dana, agent=agent)
    inbox = client.get(reverse("alerts:inbox")).content.decode()
    assert f'action="{reverse("alerts:call", args=[alert.pk])}"' in inbox
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("alerts:call", args=[alert.pk]))
    assert response["Location"] == reverse("leads:lead-detail", args=[dana.pk])
    call = Call.objects.get()
    assert (call.origin, call.alert) == (Call.Origin.ALERT, alert)
    assert len(call_outbox) == 1


def test_an_offer_to_claim_is_claimed_before_it_is_called(agent, client, call_outbox):
    offer = AlertFactory(lead=LeadFactory(owner=None), agent=agent, reason=Alert.Reason.CLAIM)
    offer.lead.claim_offers.create(agent=agent)
    today = client.get(reverse("leads:today")).content.decode()
    assert reverse("alerts:call", args=[offer.pk]) not in today
    response = client.post(reverse("alerts:call", args=[offer.pk]))
    assert response.status_code == 422
    assert "claim the lead first" in response.content.decode()
    assert not Call.objects.exists()


# --- The link in the alert's text ----------------------------------------------------------------


def link_path(alert) -> str:
    return reverse("alerts:call-link", args=[call_link_token(alert)])


def test_the_alert_text_carries_a_link_that_calls_for_its_owner(
    agent, dana, client, sms_outbox, call_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alert = alert_raise(dana, agent, Alert.Reason.HOT_LEAD)
    (text,) = [sms.body for sms in sms_outbox]
    link = f"http://testserver{link_path(alert)}"
    assert text.endswith(f" Connect a call: {link}")
    page = client.get(link_path(alert))
    assert page.status_code == 200
    assert "Ring my phone and connect" in page.content.decode()
    assert call_outbox == []  # opening the link rings nothing (a link preview, a prefetch)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link_path(alert))
    assert response["Location"] == reverse("leads:lead-detail", args=[dana.pk])
    call = Call.objects.get()
    assert (call.origin, call.alert, call.agent) == (Call.Origin.LINK, alert, agent)
    assert [c.to for c in call_outbox] == ["+14135550102"]


def test_the_link_works_for_nobody_else(dana, alex, sam, broker, client):
    alert = AlertFactory(lead=dana, agent=alex)
    for someone in (sam, broker):
        client.force_login(someone)
        assert client.get(link_path(alert)).status_code == 404
        assert client.post(link_path(alert)).status_code == 404
    client.logout()
    response = client.post(link_path(alert))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(alex)
    forged = link_path(alert).replace(f"/{alert.pk}-", f"/{alert.pk + 1}-")
    assert client.get(forged).status_code == 404
    # Another agent's alert about the same lead does not open with Alex's session.
    sams = AlertFactory(lead=dana, agent=sam, reason=Alert.Reason.REPLY)
    assert client.get(link_path(sams)).status_code == 404
    assert not Call.objects.exists()


def test_the_link_stops_working_once_the_lead_is_someone_elses(dana, alex, sam, client):
    alert = AlertFactory(lead=dana, agent=alex)
    client.force_login(alex)
    Lead.objects.filter(pk=dana.pk).update(owner=sam)
    assert client.post(link_path(alert)).status_code == 404
    assert not Call.objects.exists()


def test_the_link_expires(dana, alex, client, settings):
    alert = AlertFactory(lead=dana, agent=alex)
    path = link_path(alert)
    client.force_login(alex)
    with time_machine.travel(timezone.now() + timedelta(hours=settings.CALL_LINK_HOURS, minutes=1)):
        response = client.post(path)
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert not Call.objects.exists()


def test_an_offer_to_claim_carries_no_call_link(
    agent, sms_outbox, django_capture_on_commit_callbacks
):
    lead = LeadFactory(owner=None)
    lead.claim_offers.create(agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        alert_raise(lead, agent, Alert.Reason.CLAIM)
    (text,) = [sms.body for sms in sms_outbox]
    assert "Connect a call" not in text


# --- Hot leads called at once (AssignmentRule.auto_call_hot) -------------------------------------


@pytest.fixture
def calls_hot_leads(alex):
    """Alex's team rings its owner the moment a hot lead arrives."""
    return AssignmentRuleFactory(name="Alex's team", members=[alex], auto_call_hot=True)


def test_a_hot_lead_rings_its_owner_the_moment_it_arrives(
    client, calls_hot_leads, alex, twilio_voice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_intake(client, "valuation", timeline="within_3_months", first_name="Dana")
    # Written with the lead, in the intake's transaction; Twilio is asked only after it commits.
    call = Call.objects.get()
    assert (call.agent, call.origin, call.status) == (alex, Call.Origin.AUTO, Call.Status.QUEUED)
    assert twilio_voice.requests == []
    for callback in callbacks:
        callback()
    assert placed(twilio_voice)["data"]["To"] == "+14135550102"
    call.refresh_from_db()
    assert call.status == Call.Status.RINGING
    assert call.alert.reason == Alert.Reason.HOT_LEAD
    lead = Lead.objects.get()
    assert lead.events.filter(
        kind=LeadEvent.Kind.ALERT,
        summary="Ringing Alex Rivera to connect a call (Alex's team: hot leads are called at once)",
    ).exists()
    twilio = TwilioPhone(placed(twilio_voice)["data"], client_poster(client))
    answer = twilio.pick_up()
    say = answer.find("Gather").find("Say").text
    assert (
        say == "Hot valuation lead, Dana Lovelace, 12 Elm Street, Springfield: press 1 to connect."
    )
    twilio.lead_answers(twilio.press(answer, "1"), seconds=75)
    (event,) = contacts(lead)
    assert event.actor == alex


def test_a_warm_lead_rings_nobody(
    client, calls_hot_leads, call_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_intake(client, "valuation", timeline="6_to_18_months")
    assert Lead.objects.get().intent == Lead.Intent.WARM
    assert not Call.objects.exists()
    assert call_outbox == []


def test_without_the_rule_setting_a_hot_lead_alerts_but_does_not_call(
    client, alex, call_outbox, django_capture_on_commit_callbacks
):
    AssignmentRuleFactory(name="Alex's team", members=[alex])
    with django_capture_on_commit_callbacks(execute=True):
        post_intake(client, "valuation", timeline="within_3_months")
    assert Alert.objects.get().reason == Alert.Reason.HOT_LEAD
    assert not Call.objects.exists()
    assert call_outbox == []


def test_the_hot_call_ignores_quiet_hours_as_the_hot_alert_does(
    client, calls_hot_leads, alex, call_outbox, django_capture_on_commit_callbacks
):
    alex.agent.alert_quiet_start, alex.agent.alert_quiet_end = time(0), time(23, 59)
    alex.agent.save()
    with django_capture_on_commit_callbacks(execute=True):
        post_intake(client, "valuation", timeline="within_3_months")
    assert [c.to for c in call_outbox] == ["+14135550102"]


def test_an_owner_without_a_phone_is_not_rung_and_the_timeline_says_why(
    client, calls_hot_leads, alex, call_outbox, django_capture_on_commit_callbacks
):
    alex.agent.phone = ""
    alex.agent.save()
    with django_capture_on_commit_callbacks(execute=True):
        post_intake(client, "valuation", timeline="within_3_months")
    assert not Call.objects.exists()
    assert Lead.objects.get().events.filter(summary__startswith="Did not ring Alex Rivera").exists()


# --- Without a phone company (the console backend in `make run`) ---------------------------------


def test_the_console_backend_logs_the_call(capsys):
    ConsoleVoiceBackend().place(
        OutgoingCall(to="+14135550102", caller_id=OFFICE_LINE, answer_url="", status_callback="")
    )
    assert "CALL to +14135550102 from +14135550100" in capsys.readouterr().out


def test_the_demo_plays_the_answer_on_the_lead_page(agent, dana, start, client, settings):
    settings.DEBUG = True  # development, as in `make run`
    start(dana)  # the in-memory backend: nobody will call back
    page = client.get(reverse("leads:lead-detail", args=[dana.pk])).content.decode()
    assert "Play: I press 1, they answer" in page
    call = Call.objects.get()
    response = client.post(
        reverse("leads:call-play", args=[dana.pk, call.pk]), {"lead": "answers"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Call ended after 1 min 35 s. How did it go?" in response.content.decode()
    (event,) = contacts(dana)
    assert event.summary == "Call: answered, 1 min 35 s (call-connect)"


@pytest.mark.parametrize("backend", ["twilio", "console in production"])
def test_a_call_is_played_only_in_development_without_a_phone_company(
    agent, dana, start, twilio_voice, client, settings, backend
):
    """A played call in production would be a made-up contact on the timeline."""
    settings.DEBUG = backend == "twilio"
    if backend != "twilio":
        settings.VOICE_BACKEND = "sequences.backends.voice.LocmemVoiceBackend"
    start(dana)
    call = Call.objects.get()
    page = client.get(reverse("leads:lead-detail", args=[dana.pk])).content.decode()
    assert "Play:" not in page
    response = client.post(reverse("leads:call-play", args=[dana.pk, call.pk]), {"lead": "answers"})
    assert response.status_code == 404
    assert contacts(dana) == []


def test_a_call_that_waited_too_long_for_a_worker_rings_nobody(
    agent, dana, client, call_outbox, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("leads:lead-call", args=[dana.pk]), headers=HTMX)
    clock.move_to(timezone.now() + timedelta(minutes=6))  # a backlog of tasks
    for callback in callbacks:
        callback()
    call = Call.objects.get()
    assert call.status == Call.Status.NOT_CONNECTED
    assert call_outbox == []


def test_a_timeout_leaves_the_call_to_its_webhooks(
    agent, dana, start, twilio_voice, phone, settings
):
    """Twilio may have taken a call whose answer never came back: its webhooks still work."""
    settings.PROVIDER_TIMEOUT_SECONDS = 0.2
    twilio_voice.delay = 1
    start(dana)
    call = Call.objects.get()
    assert call.status == Call.Status.RINGING
    assert call.provider_id == ""
    twilio_voice.delay = 0
    phone().pick_up()
    call.refresh_from_db()
    assert (call.status, call.provider_id) == (Call.Status.ANSWERED, twilio_call()["sid"])


def test_a_voice_backend_that_cannot_be_imported_fails_the_system_check(settings):
    settings.VOICE_BACKEND = "sequences.backends.voice.NoSuchBackend"
    assert "sequences.E009" in [error.id for error in sequences_settings(None)]

"""Call-connect in a real browser, against the local fake Twilio API: the agent taps "Connect
call" (on a lead, on an alert, behind the link in an alert's text), the test plays Twilio's side
by following the TwiML the live server answers with, and the call ends up on the timeline."""

import pytest

from alerts.calls import call_link_url
from alerts.models import Alert, Call
from tests.factories import PASSWORD, AlertFactory, LeadFactory
from tests.sequences.conftest import FakeProvider
from tests.voice import TwilioPhone, http_poster, twilio_call

from .test_dashboard_flows import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def twilio_voice(settings, live_server):
    """The live server places calls through the real SDK to a fake Twilio API, and signs our
    webhook URLs with its own address (what Twilio would call)."""
    with FakeProvider() as fake:
        settings.SITE_URL = live_server.url
        settings.VOICE_BACKEND = "sequences.backends.twilio_voice.TwilioVoiceBackend"
        settings.TWILIO_API_URL = fake.url
        fake.default = (201, {}, twilio_call())
        yield fake


@pytest.fixture
def dana(alex):
    return LeadFactory(
        first_name="Dana",
        last_name="Whitfield",
        phone="+14135550187",
        source="valuation",
        hot=True,
        property_address="48 Harbor View Drive",
        owner=alex,
    )


def the_phone(twilio_voice) -> TwilioPhone:
    """Twilio's side of the one call the page placed."""
    (request,) = [r for r in twilio_voice.requests if r["path"].endswith("/Calls.json")]
    return TwilioPhone(request["data"], http_poster)


def test_a_call_from_the_lead_page_is_connected_and_logged(page, live_server, twilio_voice, dana):
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/leads/{dana.pk}/")
    page.get_by_role("button", name="Connect call").click()
    card = page.locator("#call-card")
    card.get_by_text("Ringing your phone, (413) 555-0102").wait_for()

    phone = the_phone(twilio_voice)
    call = Call.objects.get()
    assert phone.created["To"] == "+14135550102"
    assert phone.created["Url"] == f"{live_server.url}/alerts/calls/{call.pk}/voice/answer/"
    answer = phone.pick_up()
    assert answer.find("Gather").find("Say").text == (
        "Hot valuation lead, Dana Whitfield, 48 Harbor View Drive: press 1 to connect."
    )
    connect = phone.press(answer, "1")
    assert connect.find("Dial").get("callerId") == "+14135550100"
    card.get_by_text("Calling Dana Whitfield at (413) 555-0187").wait_for()  # the card follows
    number = connect.find("Dial").find("Number")
    phone._send(
        number.get("statusCallback"), phone._lead_leg(number.text, CallStatus="in-progress")
    )
    card.get_by_text("On the line with Dana Whitfield.").wait_for()
    phone.lead_answers(connect, seconds=95)

    timeline = page.locator("#timeline")
    timeline.get_by_text("Call: answered, 1 min 35 s (call-connect)").wait_for()
    page.locator("#call-card").get_by_text("How did it go?").wait_for()
    page.get_by_role("button", name="Talked").click()
    timeline.get_by_text("Call: talked, 1 min 35 s (call-connect)").wait_for()
    assert page.locator("[data-testid=notice]").inner_text() == "Call logged: talked."
    dana.refresh_from_db()
    assert dana.first_personal_contact_at is not None


def test_a_call_from_an_alert_is_logged_even_when_the_lead_does_not_answer(
    page, live_server, twilio_voice, dana, alex
):
    AlertFactory(lead=dana, agent=alex, reason=Alert.Reason.HOT_LEAD)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/alerts/")
    page.get_by_role("button", name="Connect call").click()
    page.wait_for_url(f"**/leads/{dana.pk}/")
    page.locator("#call-card").get_by_text("Ringing your phone").wait_for()
    assert Call.objects.get().origin == Call.Origin.ALERT

    phone = the_phone(twilio_voice)
    phone.lead_does_not_answer(phone.press(phone.pick_up(), "1"))
    page.locator("#timeline").get_by_text("Call: no answer, attempt (call-connect)").wait_for()
    assert "logged as a call attempt" in page.locator("#call-card").inner_text()
    alert = Alert.objects.get()
    assert alert.acknowledged_at is not None


def test_the_link_in_an_alert_text_connects_a_call_from_the_phone(
    phone_page, live_server, twilio_voice, dana, alex
):
    alert = AlertFactory(lead=dana, agent=alex, reason=Alert.Reason.HOT_LEAD)
    link = call_link_url(alert)
    assert link.startswith(f"{live_server.url}/alerts/call/")
    phone_page.goto(link)  # signed out: sign in first, then back to the link
    phone_page.fill("#id_username", "alex")
    phone_page.fill("#id_password", PASSWORD)
    phone_page.click("button[type=submit]")
    phone_page.get_by_role("button", name="Ring my phone and connect").click()
    phone_page.wait_for_url(f"**/leads/{dana.pk}/")
    assert Call.objects.get().origin == Call.Origin.LINK

    phone = the_phone(twilio_voice)
    phone.lead_answers(phone.press(phone.pick_up(), "1"), seconds=40)
    phone_page.locator("#timeline").get_by_text("Call: answered, 40 s (call-connect)").wait_for()
    phone_page.get_by_role("button", name="Left voicemail").click()
    phone_page.locator("#timeline").get_by_text("Call: left voicemail, 40 s").wait_for()

"""An agent books an appointment from a lead's page in a real browser: the stage moves, the
reminders are queued, and the event is in the calendar feed the agent subscribes to."""

import urllib.request
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from leads.models import Lead
from sequences.models import Appointment, Message
from tests.factories import LeadFactory
from tests.moments import NEW_YORK

from .test_dashboard_flows import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_agent_books_an_appointment_and_it_is_in_their_calendar(page, live_server, alex):
    lead = LeadFactory(
        owner=alex,
        first_name="Dana",
        last_name="Whitfield",
        email="dana@example.com",
        phone="+14135550187",
        stage=Lead.Stage.CONTACTED,
        property_address="48 Harbor View Drive",
        sms_consent_at=timezone.now(),
    )
    day = timezone.localdate(timezone=NEW_YORK) + timedelta(days=3)
    starts_at = datetime.combine(day, time(10, 0), tzinfo=NEW_YORK)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")

    page.click("#plan-appointment")  # the Plan card's forms load, the appointment's first
    page.locator("#appointment-form").wait_for()
    page.select_option("#id_appointment_kind", "listing_presentation")
    assert page.input_value("#id_appointment_place") == "48 Harbor View Drive"
    page.fill("#id_appointment_date", day.isoformat())
    page.fill("#id_appointment_time", "10:00")
    page.select_option("#id_appointment_duration", "90")
    page.fill("#id_appointment_notes", "Bring the comps")
    page.click("#appointment-form button[type=submit]")

    notice = page.locator("[data-testid=notice]")
    notice.wait_for()
    when = f"{day:%a}, {day:%b} {day.day}, 10:00 a.m."
    assert notice.inner_text().startswith(f"Listing presentation booked for {when}")
    assert "Reminders: you at 9:00 a.m. and Dana on" in notice.inner_text()
    assert page.inner_text("header .badge.border") == "Appointment"  # the stage
    card = page.locator("#appointments-card [data-appointment]")
    assert "Listing presentation" in card.inner_text()
    assert "10:00 a.m. to 11:30 a.m." in card.inner_text()
    assert "Listing presentation booked" in page.inner_text("#timeline")

    appointment = Appointment.objects.get()
    assert appointment.starts_at == starts_at
    reminder = Message.objects.get(audience="agent", idempotency_key__contains=":reminder:")
    assert (reminder.to, reminder.scheduled_for) == ("+14135550102", starts_at - timedelta(hours=1))
    lead_reminders = Message.objects.filter(audience="lead", idempotency_key__contains=":reminder:")
    assert {m.channel: m.scheduled_for for m in lead_reminders} == {
        "email": starts_at - timedelta(days=1),
        "sms": starts_at - timedelta(days=1),
    }
    # The lead's messages panel shows the reminders waiting for their time.
    assert page.locator("#messages [data-status=queued]").count() >= 2

    page.click("nav >> text=Account")
    page.click("text=Make my calendar address")
    url = page.input_value("[data-testid=calendar-url]")
    assert url.startswith(f"{live_server.url}/calendar/{alex.pk}/")
    # Fetched as a calendar app does: no session, no cookie.
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the live server
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        calendar = Calendar.from_ical(response.read())
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Listing presentation: Dana Whitfield"
    assert event.start == starts_at
    assert event.end == starts_at + timedelta(minutes=90)
    assert str(event["LOCATION"]) == "48 Harbor View Drive"
    assert str(event["UID"]) == f"appointment-{appointment.pk}@testserver"
    assert f"/leads/{lead.pk}/" in str(event["DESCRIPTION"])


def test_a_mistake_is_said_on_its_field_and_plan_works_from_today(page, live_server, alex):
    lead = LeadFactory(owner=alex, first_name="Noah", last_name="Patel", hot=True)
    sign_in(page, live_server.url)

    page.locator(f"#hot-queue [data-lead='{lead.pk}']").get_by_role("button", name="Plan…").click()
    box = page.locator("#quick-plan")
    box.locator("#follow-up-form").wait_for()
    yesterday = timezone.localdate(timezone=NEW_YORK) - timedelta(days=1)
    box.locator("#id_follow_up_date").fill(yesterday.isoformat())
    box.locator("#id_follow_up_time").fill("10:00")
    box.locator("#follow-up-form button[type=submit]").click()
    error = box.locator("#id_follow_up_date ~ .invalid-feedback, .invalid-feedback")
    error.first.wait_for()
    assert "That day has passed" in box.inner_text()

    tomorrow = yesterday + timedelta(days=2)
    box.locator("#id_follow_up_date").fill(tomorrow.isoformat())
    box.locator("#id_follow_up_title").fill("Call back about the offer")
    box.locator("#follow-up-form button[type=submit]").click()
    box.locator("[data-testid=plan-notice]").wait_for()
    assert "Follow-up set for" in box.inner_text()
    assert lead.tasks.get().title == "Call back about the offer"

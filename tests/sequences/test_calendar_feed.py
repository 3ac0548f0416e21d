"""An agent's private calendar feed: valid iCalendar with their appointments (and their own
follow-ups), stable UIDs, SEQUENCE bumped by a change, cancelled ones STATUS:CANCELLED; no
session needed, a wrong token is a 404, and nobody sees anyone else's."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from icalendar import Calendar

from realtycrm.flows.appointments import appointment_book
from sequences.models import CalendarFeed
from sequences.services.agent_tasks import task_follow_up_create
from sequences.services.appointments import (
    appointment_cancel,
    appointment_reschedule,
    calendar_feed_rotate,
)
from tests.factories import LeadFactory, TaskFactory
from tests.moments import NEW_YORK, NOON

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

WEDNESDAY_10 = datetime(2026, 5, 6, 10, 0, tzinfo=NEW_YORK)


def book(lead, agent, starts_at=WEDNESDAY_10, kind="listing_presentation", place="48 Harbor View"):
    return appointment_book(
        lead,
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        time_zone="America/New_York",
        place=place,
        notes="Bring the comps.",
        actor=agent,
    )


def feed_of(client, feed, token=None):
    url = reverse("sequences:calendar-feed", args=[feed.agent_id, token or feed.token])
    return client.get(url)


def events(response) -> dict:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def dana(alex):
    return LeadFactory(owner=alex, first_name="Dana", last_name="Whitfield")


def test_the_feed_is_valid_icalendar_with_the_agents_appointment(client, alex, dana):
    appointment = book(dana, alex)
    feed = calendar_feed_rotate(alex)
    response = feed_of(client, feed)  # no session: calendar apps fetch it on their own
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == "RealtyCRM: Alex Rivera"
    # Calendars are asked to read it again every 15 minutes (Google decides for itself).
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT15M" in response.content
    assert b"X-PUBLISHED-TTL:PT15M" in response.content
    (event,) = events(response).values()
    assert str(event["UID"]) == f"appointment-{appointment.pk}@testserver"
    assert event.start == WEDNESDAY_10.astimezone(UTC)
    assert event.end == (WEDNESDAY_10 + timedelta(hours=1)).astimezone(UTC)
    assert event.start.tzinfo is not None and event.start.utcoffset() == timedelta(0)
    assert str(event["SUMMARY"]) == "Listing presentation: Dana Whitfield"
    assert str(event["LOCATION"]) == "48 Harbor View"
    lead_url = f"http://testserver/leads/{dana.pk}/"
    assert str(event["DESCRIPTION"]) == f"Bring the comps.\n\nThe lead: {lead_url}"
    assert str(event["URL"]) == lead_url
    assert (event["SEQUENCE"], str(event["STATUS"])) == (0, "CONFIRMED")
    assert response["Cache-Control"] == "private, no-store"


def test_a_move_bumps_the_sequence_and_a_cancellation_is_cancelled_with_the_same_uid(
    client, alex, dana
):
    appointment = book(dana, alex)
    feed = calendar_feed_rotate(alex)
    uid = f"appointment-{appointment.pk}@testserver"
    later = WEDNESDAY_10 + timedelta(hours=3)
    appointment_reschedule(
        appointment, starts_at=later, ends_at=later + timedelta(hours=1), place="Office", actor=alex
    )
    event = events(feed_of(client, feed))[uid]
    assert (event["SEQUENCE"], event.start, str(event["LOCATION"])) == (
        1,
        later.astimezone(UTC),
        "Office",
    )
    appointment_cancel(appointment, actor=alex)
    event = events(feed_of(client, feed))[uid]
    assert (event["SEQUENCE"], str(event["STATUS"])) == (2, "CANCELLED")
    assert str(event["SUMMARY"]) == "Cancelled: Listing presentation: Dana Whitfield"


def test_an_agent_sees_only_their_own_appointments(client, alex, sam, dana):
    mine = book(dana, alex)
    theirs = book(LeadFactory(owner=sam), sam, starts_at=WEDNESDAY_10 + timedelta(hours=2))
    alex_feed, sam_feed = calendar_feed_rotate(alex), calendar_feed_rotate(sam)
    assert set(events(feed_of(client, alex_feed))) == {f"appointment-{mine.pk}@testserver"}
    assert set(events(feed_of(client, sam_feed))) == {f"appointment-{theirs.pk}@testserver"}
    # Sam's id with Alex's token opens nothing.
    url = reverse("sequences:calendar-feed", args=[sam.pk, alex_feed.token])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("token", ["wrong", "x" * 43, "%00", "a b"])
def test_a_wrong_token_is_a_404(client, alex, dana, token):
    book(dana, alex)
    feed = calendar_feed_rotate(alex)
    url = f"/calendar/{alex.pk}/{token}.ics"
    response = client.get(url)
    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.content
    assert feed_of(client, feed).status_code == 200


def test_an_agent_without_a_feed_or_signed_out_for_good_gets_a_404(client, alex, sam, dana):
    assert client.get(f"/calendar/{sam.pk}/anything.ics").status_code == 404
    feed = calendar_feed_rotate(alex)
    alex.is_active = False
    alex.save()
    assert feed_of(client, feed).status_code == 404


def test_a_new_address_stops_the_old_one(client, alex, dana):
    book(dana, alex)
    old = calendar_feed_rotate(alex)
    old_token = old.token
    new = calendar_feed_rotate(alex)
    assert new.pk == old.pk and new.token != old_token
    assert feed_of(client, new, token=old_token).status_code == 404
    assert feed_of(client, new).status_code == 200
    assert CalendarFeed.objects.count() == 1


def test_the_feed_holds_a_window_of_time(client, alex, dana, settings):
    settings.CALENDAR_FEED_PAST_DAYS, settings.CALENDAR_FEED_FUTURE_DAYS = 30, 365
    inside = [book(dana, alex, starts_at=NOON + timedelta(days=days)) for days in (-29, 364)]
    for days in (-31, 366):
        book(dana, alex, starts_at=NOON + timedelta(days=days))
    feed = calendar_feed_rotate(alex)
    assert set(events(feed_of(client, feed))) == {
        f"appointment-{appointment.pk}@testserver" for appointment in inside
    }


def test_the_agents_own_open_follow_ups_are_short_events(client, alex, dana):
    tuesday = datetime(2026, 5, 5, 10, 0, tzinfo=NEW_YORK)
    follow_up = task_follow_up_create(
        dana, actor=alex, kind="call", title="Call back Dana", due_at=tuesday, notes="Offer?"
    )
    TaskFactory(lead=dana, agent=alex, due_at=tuesday)  # automation's: not in the calendar
    done = task_follow_up_create(dana, actor=alex, kind="text", title="Text Dana", due_at=tuesday)
    done.status = "done"
    done.save()
    feed = calendar_feed_rotate(alex)
    found = events(feed_of(client, feed))
    assert set(found) == {f"task-{follow_up.pk}@testserver"}
    event = found[f"task-{follow_up.pk}@testserver"]
    assert str(event["SUMMARY"]) == "Call back Dana"
    assert event.start == tuesday.astimezone(UTC)
    assert event.end - event.start == timedelta(minutes=15)
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_the_account_page_shows_the_address_and_makes_a_new_one(client, agent):
    page = client.get(reverse("sequences:account"))
    assert page.status_code == 200
    assert b"Make my calendar address" in page.content
    response = client.post(reverse("sequences:calendar-rotate"))
    assert response.status_code == 302
    feed = CalendarFeed.objects.get(agent=agent)
    page = client.get(reverse("sequences:account")).content.decode()
    url = f"http://testserver/calendar/{agent.pk}/{feed.token}.ics"
    assert f'value="{url}"' in page
    assert f"webcal://testserver/calendar/{agent.pk}/{feed.token}.ics" in page
    assert "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2Ftestserver" in page
    client.post(reverse("sequences:calendar-rotate"))
    feed.refresh_from_db()
    assert url not in client.get(reverse("sequences:account")).content.decode()


def test_the_account_pages_need_a_sign_in_and_a_post(client, alex):
    assert client.get(reverse("sequences:account")).status_code == 302
    assert client.post(reverse("sequences:calendar-rotate")).status_code == 302
    assert not CalendarFeed.objects.exists()
    client.force_login(alex)
    assert client.get(reverse("sequences:calendar-rotate")).status_code == 405
    assert not CalendarFeed.objects.exists()

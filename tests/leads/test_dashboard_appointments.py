"""Planning from the lead page and from Today: a follow-up task or an appointment, in the
agent's own time zone; moving, cancelling and closing one; every mistake answered on its field
(422), never a 500; CSRF as everywhere. And Today's appointments section."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from leads.models import Lead, LeadEvent
from sequences.models import Appointment, Task
from sequences.services.appointments import appointment_messages
from tests.factories import AppointmentFactory, LeadFactory
from tests.moments import NEW_YORK, NOON

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

HTMX = {"HX-Request": "true", "HX-Target": "lead"}
FROM_TODAY = {"HX-Request": "true", "HX-Target": "quick-plan"}
TOKEN = "0123456789abcdef0123456789abcdef"
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def lead(agent):
    return LeadFactory(
        owner=agent,
        first_name="Dana",
        last_name="Whitfield",
        stage=Lead.Stage.CONTACTED,
        texting=True,
        property_address="48 Harbor View Drive",
    )


def booking(**changes):
    data = {
        "kind": "listing_presentation",
        "date": "2026-05-06",
        "time": "10:00",
        "duration": "60",
        "place": "48 Harbor View Drive",
        "notes": "Bring the comps",
        "token": TOKEN,
    }
    return {**data, **changes}


def follow_up(**changes):
    data = {"kind": "call", "title": "", "date": "2026-05-05", "time": "10:00", "token": TOKEN}
    return {**data, **changes}


def book_url(lead):
    return reverse("leads:lead-appointment-book", args=[lead.pk])


def errors_of(response) -> str:
    return response.content.decode()


# --- The lead page -----------------------------------------------------------------------------


def test_the_lead_page_offers_both_plans_and_lists_appointments(client, lead):
    booked = AppointmentFactory(lead=lead, starts_at=NOON + timedelta(days=1), place="Our office")
    url = reverse("leads:lead-detail", args=[lead.pk])
    page = client.get(url).content.decode()
    # The Plan card's forms load when asked: a tap (htmx), or ?plan= without JavaScript.
    assert 'id="plan-card"' in page and 'id="appointment-form"' not in page
    assert "Book an appointment" in page and "Add a follow-up" in page
    plan = reverse("leads:lead-plan", args=[lead.pk])
    forms = client.get(plan, {"on": "lead", "tab": "appointment"}, headers={"HX-Request": "true"})
    html = forms.content.decode()
    assert 'id="appointment-form"' in html and 'id="follow-up-form"' in html
    assert 'hx-target="#lead"' in html
    assert 'aria-selected="true">Appointment' in html
    assert 'value="48 Harbor View Drive"' in html  # the place starts as the lead's address
    assert 'id="appointment-form"' in client.get(url, {"plan": "appointment"}).content.decode()
    assert 'id="appointments-card"' in page and "Our office" in page
    assert "Tue, May 5, 12:00 p.m. to 1:00 p.m." in page
    # Its reschedule form starts at its own day and time, as date and time inputs read them.
    prefix = f"id_reschedule_{booked.pk}"
    assert f'type="date" name="date" id="{prefix}_date" value="2026-05-05"' in page
    assert f'type="time" name="time" id="{prefix}_time" value="12:00"' in page


def test_booking_from_the_lead_page_moves_the_stage_and_says_who_is_reminded(client, lead):
    response = client.post(book_url(lead), booking(), headers=HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Listing presentation booked for Wed, May 6, 10:00 a.m. Reminders: you at 9:00 a.m. "
        "and Dana on Tue, May 5, 10:00 a.m." in page
    )
    assert response["HX-Trigger"] == f'{{"lead-changed": {{"lead": {lead.pk}}}}}'
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.APPOINTMENT
    appointment = Appointment.objects.get()
    assert appointment.starts_at == datetime(2026, 5, 6, 10, 0, tzinfo=NEW_YORK)
    assert (appointment.kind, appointment.notes) == ("listing_presentation", "Bring the comps")
    assert appointment.time_zone == "America/New_York"
    assert "Listing presentation booked: Wed, May 6, 10:00 a.m." in page  # the timeline


def test_the_time_typed_is_on_the_agents_own_clock(client, lead, agent):
    agent.agent.time_zone = "America/Los_Angeles"
    agent.agent.save()
    client.post(book_url(lead), booking(time="09:30"), headers=HTMX)
    appointment = Appointment.objects.get()
    assert appointment.starts_at == datetime(2026, 5, 6, 9, 30, tzinfo=LOS_ANGELES)
    assert appointment.time_zone == "America/Los_Angeles"
    event = lead.events.get(kind=LeadEvent.Kind.APPOINTMENT)
    assert event.summary.startswith("Listing presentation booked: Wed, May 6, 9:30 a.m. PDT")


def test_a_double_submit_books_once(client, lead):
    client.post(book_url(lead), booking(), headers=HTMX)
    client.post(book_url(lead), booking(), headers=HTMX)
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"date": ""}, "date", "Choose the day."),
        ({"time": ""}, "time", "Choose the time."),
        ({"date": "May 6th"}, "date", "Enter a day like 2026-05-05."),
        ({"time": "25:99"}, "time", "Enter a time like 10:00."),
        ({"date": "2026-05-01"}, "date", "That day has passed: choose today or a later day."),
        ({"date": "2026-05-04", "time": "09:00"}, "time", "That time has passed"),
        ({"date": "2031-01-01"}, "date", "Choose a day within the next two years."),
        ({"kind": "party"}, "kind", "Choose the kind of appointment."),
        ({"duration": "600"}, "duration", "Choose how long it takes."),
        ({"place": "x" * 300}, "place", "Keep the place under 255 characters."),
        ({"token": "not-a-token"}, "token", "This form is out of date"),
        ({"date": "2026-02-30"}, "date", "Enter a day like 2026-05-05."),
    ],
)
def test_a_booking_mistake_is_said_on_its_field(client, lead, changes, field, message):
    response = client.post(book_url(lead), booking(**changes), headers=HTMX)
    assert response.status_code == 422
    page = errors_of(response)
    assert message in page
    assert page.count(message) == 1  # once, on the field it belongs to
    if field not in ("token",):
        assert f'id="id_appointment_{field}"' in page
        assert "is-invalid" in page
    assert not Appointment.objects.exists()
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.CONTACTED


def test_an_hour_booked_across_the_fall_back_change_lasts_an_hour(client, lead):
    # Nov 1, 2026: New York's clocks go back at 2:00 a.m. (1:30 a.m. is EDT, the first time).
    response = client.post(book_url(lead), booking(date="2026-11-01", time="01:30"), headers=HTMX)
    assert response.status_code == 200
    appointment = Appointment.objects.get()
    assert appointment.ends_at - appointment.starts_at == timedelta(hours=1)
    assert appointment.starts_at == datetime(2026, 11, 1, 5, 30, tzinfo=ZoneInfo("UTC"))


def test_a_time_the_clocks_skip_is_said_on_the_time_field(client, lead):
    # Mar 14, 2027: New York's clocks jump from 2:00 to 3:00 a.m.; 2:30 a.m. never happens.
    response = client.post(book_url(lead), booking(date="2027-03-14", time="02:30"), headers=HTMX)
    assert response.status_code == 422
    assert "2:30 a.m. does not exist on Mar 14" in errors_of(response)
    assert not Appointment.objects.exists()
    follow_up_url = reverse("leads:lead-follow-up", args=[lead.pk])
    response = client.post(follow_up_url, follow_up(date="2027-03-14", time="02:30"), headers=HTMX)
    assert response.status_code == 422
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": ["a", "b"], "date": "\x00", "time": "\x00"},
        {"date": "9" * 5000, "time": "1" * 5000, "duration": "-1", "token": "g" * 32},
        {"notes": "\x07bell", "kind": "showing", "date": "2026-05-06", "time": "10:00"},
    ],
)
def test_garbage_is_a_422_never_a_500(client, lead, data):
    for url in (book_url(lead), reverse("leads:lead-follow-up", args=[lead.pk])):
        assert client.post(url, data, headers=HTMX).status_code == 422
        assert client.post(url, data).status_code == 422  # without JavaScript too
    assert not Appointment.objects.exists() and not Task.objects.exists()


def test_the_forms_need_the_csrf_token(lead, agent):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(book_url(lead), booking()).status_code == 403
    url = reverse("leads:lead-follow-up", args=[lead.pk])
    assert strict.post(url, follow_up()).status_code == 403
    assert not Appointment.objects.exists() and not Task.objects.exists()


def test_without_javascript_a_booking_redirects_back(client, lead):
    response = client.post(book_url(lead), booking())
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Listing presentation booked for Wed, May 6, 10:00 a.m." in page


def test_a_follow_up_from_the_lead_page_is_a_task_due_then(client, lead, agent):
    url = reverse("leads:lead-follow-up", args=[lead.pk])
    response = client.post(url, follow_up(notes="Ask about the offer"), headers=HTMX)
    assert response.status_code == 200
    task = Task.objects.get()
    assert (task.kind, task.title, task.agent, task.created_by) == (
        "call",
        "Call Dana Whitfield",
        agent,
        agent,
    )
    assert task.due_at == datetime(2026, 5, 5, 10, 0, tzinfo=NEW_YORK)
    assert task.notes == "Ask about the offer"
    assert "Follow-up set for Tue, May 5, 10:00 a.m.: Call Dana Whitfield." in (
        response.content.decode()
    )
    client.post(url, follow_up(), headers=HTMX)  # the same form again
    assert Task.objects.count() == 1
    client.post(url, follow_up(kind="check_in", token="1" * 32), headers=HTMX)
    assert Task.objects.filter(title="Check in with Dana Whitfield").exists()


def test_a_follow_up_mistake_is_said_on_its_field(client, lead):
    url = reverse("leads:lead-follow-up", args=[lead.pk])
    response = client.post(url, follow_up(kind="reply", time="08:00", date=""), headers=HTMX)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose call, text, email or check in." in page
    assert "Choose the day." in page
    assert 'id="id_follow_up_date"' in page
    assert not Task.objects.exists()


# --- Moving, cancelling, closing ---------------------------------------------------------------


@pytest.fixture
def appointment(client, lead):
    client.post(book_url(lead), booking(), headers=HTMX)
    return Appointment.objects.get()


def test_moving_it_from_the_lead_page(client, lead, appointment):
    url = reverse("leads:appointment-reschedule", args=[lead.pk, appointment.pk])
    data = {"date": "2026-05-07", "time": "14:00", "duration": "90", "place": "Office"}
    response = client.post(url, data, headers=HTMX)
    assert response.status_code == 200
    assert "Listing presentation moved to Thu, May 7, 2:00 p.m." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.ends_at == datetime(2026, 5, 7, 15, 30, tzinfo=NEW_YORK)
    assert (appointment.sequence, appointment.place) == (1, "Office")


def test_a_bad_new_time_is_said_on_that_appointments_form(client, lead, appointment):
    url = reverse("leads:appointment-reschedule", args=[lead.pk, appointment.pk])
    response = client.post(url, {"date": "2026-05-01", "time": "14:00", "duration": "60"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "That day has passed: choose today or a later day." in page
    assert f'id="id_reschedule_{appointment.pk}_date"' in page
    appointment.refresh_from_db()
    assert appointment.sequence == 0


def test_cancelling_it_and_again(client, lead, appointment):
    url = reverse("leads:appointment-cancel", args=[lead.pk, appointment.pk])
    response = client.post(url, {"notify_lead": "on", "reason": "Sold"}, headers=HTMX)
    assert response.status_code == 200
    assert "Listing presentation of Wed, May 6, 10:00 a.m. cancelled." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert not appointment_messages(appointment).filter(status="queued").exists()
    again = client.post(url, {}, headers=HTMX)
    assert again.status_code == 422
    assert "This listing presentation is already cancelled." in again.content.decode()


def test_how_it_went_is_asked_once_it_has_begun(client, lead, appointment, clock):
    url = reverse("leads:appointment-outcome", args=[lead.pk, appointment.pk])
    early = client.post(url, {"status": "done"}, headers=HTMX)
    assert early.status_code == 422
    assert "It has not begun yet" in early.content.decode()
    clock.move_to(datetime(2026, 5, 6, 11, 5, tzinfo=NEW_YORK))
    assert "How did it go?" in client.get(reverse("leads:lead-detail", args=[lead.pk])).text
    response = client.post(url, {"status": "done"}, headers=HTMX)
    assert response.status_code == 200
    assert "Listing presentation done: logged as a meeting." in response.content.decode()
    lead.refresh_from_db()
    assert lead.last_personal_contact_at == datetime(2026, 5, 6, 10, 0, tzinfo=NEW_YORK)
    assert client.post(url, {"status": "maybe"}, headers=HTMX).status_code == 422


# --- Today -------------------------------------------------------------------------------------


def test_today_plans_for_a_lead_in_its_quick_box(client, lead):
    today = client.get(reverse("leads:today")).content.decode()
    assert 'id="quick-plan"' in today
    box = client.get(reverse("leads:lead-plan", args=[lead.pk]), headers={"HX-Request": "true"})
    assert box.status_code == 200
    html = box.content.decode()
    assert 'hx-target="#quick-plan"' in html and "Plan for" in html
    response = client.post(book_url(lead), booking(), headers=FROM_TODAY)
    assert response.status_code == 200
    assert 'data-testid="plan-notice"' in response.content.decode()
    assert "lead-changed" in response["HX-Trigger"]  # Today's sections refresh themselves
    assert Appointment.objects.count() == 1


def test_a_mistake_in_todays_box_comes_back_in_the_box(client, lead):
    response = client.post(book_url(lead), booking(time=""), headers=FROM_TODAY)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Choose the time." in html and 'hx-target="#quick-plan"' in html
    assert 'id="lead"' not in html  # the box, not the lead page
    assert 'aria-selected="true">Appointment' in html  # the tab that failed stays open
    response = client.post(
        reverse("leads:lead-follow-up", args=[lead.pk]), follow_up(date=""), headers=FROM_TODAY
    )
    assert response.status_code == 422 and "Choose the day." in response.content.decode()


def test_today_lists_the_days_appointments_where_the_agent_is(client, agent, lead, clock):
    agent.agent.time_zone = "America/Los_Angeles"
    agent.agent.save()
    # 9:00 on the agent's Monday (noon in New York), and 23:30 on their Monday (Tuesday in
    # New York): both today for them; 00:30 their Tuesday is not, nor yesterday's.
    monday = datetime(2026, 5, 4, 9, 0, tzinfo=LOS_ANGELES)
    late = datetime(2026, 5, 4, 23, 30, tzinfo=LOS_ANGELES)
    shown = [AppointmentFactory(lead=lead, starts_at=at) for at in (monday, late)]
    for at in (datetime(2026, 5, 5, 0, 30, tzinfo=LOS_ANGELES), monday - timedelta(days=1)):
        AppointmentFactory(lead=lead, starts_at=at)
    AppointmentFactory(lead=lead, starts_at=monday + timedelta(hours=2), status="cancelled")
    response = client.get(reverse("leads:today-section", args=["appointments"]))
    html = response.content.decode()
    rows = [line for line in html.splitlines() if "data-appointment=" in line]
    assert all(f'data-appointment="{a.pk}"' in row for a, row in zip(shown, rows, strict=True))
    assert len(rows) == 2
    assert "9:00 a.m.–10:00 a.m." in html and "11:30 p.m.–12:30 a.m." in html
    assert 'data-testid="appointment-count">2<' in html


def test_todays_appointments_are_only_the_agents_own_and_a_broker_sees_everyones(
    client, agent, lead, sam, broker
):
    theirs = AppointmentFactory(lead=LeadFactory(owner=sam), starts_at=NOON)
    mine = AppointmentFactory(lead=lead, starts_at=NOON + timedelta(hours=1))
    url = reverse("leads:today-section", args=["appointments"])
    html = client.get(url).content.decode()
    assert f'data-appointment="{mine.pk}"' in html
    assert f'data-appointment="{theirs.pk}"' not in html
    client.force_login(broker)
    html = client.get(url).content.decode()
    assert f'data-appointment="{mine.pk}"' in html and f'data-appointment="{theirs.pk}"' in html
    assert "Sam Chen" in html  # with whose it is


def test_a_busy_days_appointments_are_all_reachable_a_page_at_a_time(client, agent, lead):
    # A broker's day, or a busy agent's: more than one page of appointments.
    booked = [
        AppointmentFactory(lead=lead, starts_at=NOON + timedelta(minutes=20 * n)) for n in range(12)
    ]
    url = reverse("leads:today-section", args=["appointments"])
    first = client.get(url).content.decode()
    assert 'data-testid="appointment-count">12<' in first
    assert all(f'data-appointment="{a.pk}"' in first for a in booked[:10])
    assert f'data-appointment="{booked[10].pk}"' not in first
    assert "Page 1 of 2" in first and f"{url}?page=2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert [f'data-appointment="{a.pk}"' in second for a in booked] == [False] * 10 + [True] * 2
    assert 'data-testid="appointment-count">12<' in second
    assert client.get(url, {"page": 9}).content.decode().count("data-appointment=") == 2


def test_plan_is_offered_on_todays_rows(client, agent, lead):
    LeadFactory(owner=agent, hot=True)
    html = client.get(reverse("leads:today")).content.decode()
    assert "Plan…" in html

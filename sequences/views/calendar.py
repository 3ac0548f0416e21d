"""An agent's account page with their private calendar feed, and the feed itself.

account            signed in: the feed's URL (https for Google, webcal for Apple), made or
                   replaced by one click
calendar_rotate    POST: a new secret; the old URL stops working at once
calendar_feed      no session (calendar apps fetch it on their own): the agent's appointments
                   and own follow-ups as iCalendar, or 404 for a wrong or revoked token, the
                   same 404 as for an agent who has no feed
"""

from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from leads.names import person_name
from leads.views.base import dashboard_view

from ..calendar import calendar_ical, feed_window
from ..models import CalendarFeed
from ..selectors import calendar_feed_find, calendar_feed_items
from ..services.appointments import calendar_feed_rotate

GOOGLE_ADD_BY_URL = "https://calendar.google.com/calendar/r?cid="


def feed_url(request, feed: CalendarFeed) -> str:
    path = reverse("sequences:calendar-feed", args=[feed.agent_id, feed.token])
    return request.build_absolute_uri(path)


@require_GET
@dashboard_view
def account(request):
    feed = CalendarFeed.objects.filter(agent=request.user).first()
    context = {"feed": feed}
    if feed is not None:
        url = feed_url(request, feed)
        webcal = "webcal://" + url.split("://", 1)[1]
        context |= {
            "feed_url": url,
            "webcal_url": webcal,
            "google_url": GOOGLE_ADD_BY_URL + quote(webcal, safe=""),
        }
    return render(request, "sequences/account.html", context)


@require_POST
@dashboard_view
def calendar_rotate(request):
    had_one = CalendarFeed.objects.filter(agent=request.user).exists()
    calendar_feed_rotate(request.user)
    if had_one:
        messages.success(
            request, "New calendar link made. The old one no longer works: subscribe again."
        )
    else:
        messages.success(request, "Your calendar link is ready. Subscribe to it below.")
    return redirect("sequences:account")


@require_GET
def calendar_feed(request, agent_id, token):
    """The feed as Google and Apple calendars read it: no session, the token is the key."""
    feed = calendar_feed_find(agent_id, token)
    if feed is None:
        raise Http404("No such calendar")
    now = timezone.now()
    since, until = feed_window(now)
    appointments, tasks = calendar_feed_items(feed.agent, since=since, until=until)
    body = calendar_ical(
        owner_id=feed.agent_id,
        name=f"RealtyCRM: {person_name(feed.agent)}",
        appointments=appointments,
        tasks=tasks,
        lead_url=lambda lead_id: request.build_absolute_uri(
            reverse("leads:lead-detail", args=[lead_id])
        ),
        now=now,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="realtycrm.ics"'
    return response

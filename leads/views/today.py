"""Today, the home page: what needs a human now, most urgent first.

Today is a list of sections. Each is a partial template and a function that builds its context;
each refreshes itself (htmx) when a lead changes and every few minutes. Alerts join as a section
of their own, first (see docs/dashboard.md, "Alerts on the dashboard").
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from alerts.selectors import alert_open_for
from realtycrm.flows.intake import submission_release
from sequences.selectors import appointments_between, replies_unanswered, tasks_due_for

from ..dashboard_forms import SNOOZE_CHOICES
from ..selectors import (
    hot_queue,
    inbound_emails_waiting,
    saved_filters_for,
    submissions_quarantined,
    user_is_broker,
)
from .base import dashboard_view

HOT_QUEUE_ROWS = 25
ALERT_ROWS = 10
TASK_ROWS = 10
REPLY_ROWS = 10
QUARANTINE_ROWS = 5
QUARANTINE_DAYS = 30
APPOINTMENT_ROWS = 10


@dataclass(frozen=True)
class Section:
    key: str  # the element id, and the URL slug of its refresh: today/<key>/
    template: str
    context: Callable  # (request) -> dict


def alerts_context(request) -> dict:
    alerts = alert_open_for(request.user)
    shown = list(alerts[:ALERT_ROWS])
    return {
        "alerts": shown,
        "total": len(shown) if len(shown) < ALERT_ROWS else alerts.count(),
        "now": timezone.now(),
    }


def hot_queue_context(request) -> dict:
    leads, total = hot_queue(request.user, limit=HOT_QUEUE_ROWS)
    return {
        "leads": leads,
        "total": total,
        "now": timezone.now(),
        "is_broker": user_is_broker(request.user),
    }


def _page_number(request, name: str) -> int:
    try:
        return min(max(int(request.GET.get(name, 1)), 1), 1000)
    except ValueError:
        return 1


def end_of_today(now: datetime, zone) -> datetime:
    """Midnight at the end of the user's day, on their wall clock."""
    return datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(), tzinfo=zone)


def tasks_context(request) -> dict:
    """The personal tasks due today and the overdue ones, oldest due first, a page at a time."""
    now = timezone.now()
    tasks = tasks_due_for(request.user, before=end_of_today(now, timezone.get_current_timezone()))
    counts = tasks.aggregate(total=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
    pages = max((counts["total"] + TASK_ROWS - 1) // TASK_ROWS, 1)
    page = min(_page_number(request, "page"), pages)
    start = (page - 1) * TASK_ROWS
    return {
        "tasks": list(tasks[start : start + TASK_ROWS]) if counts["total"] else [],
        "total": counts["total"],
        "overdue": counts["overdue"],
        "page": page,
        "pages": pages,
        "now": now,
        "is_broker": user_is_broker(request.user),
        "snooze_choices": SNOOZE_CHOICES,
    }


def start_of_today(now: datetime, zone) -> datetime:
    """Midnight at the start of the user's day, on their wall clock."""
    return datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone)


def appointments_context(request) -> dict:
    """The appointments of the user's day (midnight to midnight where they are), in order,
    the ones already over included; cancelled ones left out; a page at a time (a broker's day
    can hold dozens)."""
    now, zone = timezone.now(), timezone.get_current_timezone()
    appointments = appointments_between(
        request.user, start=start_of_today(now, zone), end=end_of_today(now, zone)
    )
    page, total = _page_number(request, "page"), None
    if page > 1:
        total = appointments.count()
        page = min(page, max((total + APPOINTMENT_ROWS - 1) // APPOINTMENT_ROWS, 1))
    start = (page - 1) * APPOINTMENT_ROWS
    shown = list(appointments[start : start + APPOINTMENT_ROWS])
    if total is None:  # the first page: a short one is all of them, with no count to ask
        total = len(shown) if len(shown) < APPOINTMENT_ROWS else appointments.count()
    return {
        "appointments": shown,
        "total": total,
        "page": page,
        "pages": max((total + APPOINTMENT_ROWS - 1) // APPOINTMENT_ROWS, 1),
        "now": now,
        "is_broker": user_is_broker(request.user),
    }


def replies_context(request) -> dict:
    """Leads who texted back and have not been answered by a personal contact since."""
    page = _page_number(request, "page")
    replies, total = replies_unanswered(
        request.user, limit=REPLY_ROWS, offset=(page - 1) * REPLY_ROWS
    )
    return {
        "replies": replies,
        "total": total,
        "page": page,
        "pages": max((total + REPLY_ROWS - 1) // REPLY_ROWS, 1),
        "now": timezone.now(),
        "is_broker": user_is_broker(request.user),
    }


def quarantine_context(request) -> dict:
    """Brokers: the submissions quarantined as spam lately, newest first, each one click from
    becoming a lead (a person the honeypot or a missing token caught by mistake)."""
    since = timezone.now() - timedelta(days=QUARANTINE_DAYS)
    quarantined = submissions_quarantined(request.user, since=since)
    shown = list(quarantined[:QUARANTINE_ROWS])
    return {
        "submissions": shown,
        "total": len(shown) if len(shown) < QUARANTINE_ROWS else quarantined.count(),
        "days": QUARANTINE_DAYS,
        "is_broker": user_is_broker(request.user),
    }


def inbound_emails_context(request) -> dict:
    """Brokers: how many portal emails no parser could read are waiting, one click from the
    screen that makes leads of them (integrations)."""
    is_broker = user_is_broker(request.user)
    total = inbound_emails_waiting(request.user).count() if is_broker else 0
    return {"total": total, "is_broker": is_broker}


def lists_context(request) -> dict:
    return {"saved_filters": [f for f in saved_filters_for(request.user) if f.pinned]}


# Most urgent first.
SECTIONS = (
    Section("alerts", "alerts/_today.html", alerts_context),
    Section("hot-queue", "leads/today/_hot_queue.html", hot_queue_context),
    Section("appointments", "leads/today/_appointments.html", appointments_context),
    Section("tasks", "leads/today/_tasks.html", tasks_context),
    Section("replies", "leads/today/_replies.html", replies_context),
    Section("quarantine", "leads/today/_quarantine.html", quarantine_context),
    Section("inbound-emails", "leads/today/_inbound_emails.html", inbound_emails_context),
    Section("my-lists", "leads/today/_lists.html", lists_context),
)
SECTIONS_BY_KEY = {section.key: section for section in SECTIONS}


def render_section(request, section: Section) -> str:
    return render_to_string(
        section.template, {"section": section, **section.context(request)}, request=request
    )


@require_GET
@dashboard_view
def today(request):
    sections = [render_section(request, section) for section in SECTIONS]
    return render(request, "leads/today.html", {"sections": sections})


@require_GET
@dashboard_view
def today_section(request, key):
    """One section alone: how a section refreshes itself without reloading the page."""
    section = SECTIONS_BY_KEY.get(key)
    if section is None:
        raise Http404("No such section")
    return render(request, section.template, {"section": section, **section.context(request)})


@require_POST
@dashboard_view
def quarantine_release(request, pk):
    """A broker releases a quarantined submission: it goes through intake like any other."""
    if not user_is_broker(request.user):
        raise Http404("No such submission")
    submission = get_object_or_404(submissions_quarantined(request.user, since=None), pk=pk)
    lead, why_not = submission_release(submission, actor=request.user)
    if lead is None:
        messages.warning(request, f"Not released: {why_not}")
    else:
        url = reverse("leads:lead-detail", args=[lead.pk])
        messages.success(request, format_html('Released: <a href="{}">{}</a>.', url, lead))
    return redirect("leads:today")

"""Today, the home page: what needs a human now, most urgent first.

Today is a list of sections. Each is a partial template and a function that builds its context;
each refreshes itself (htmx) when a lead changes and every few minutes. Tasks due, replies and
alerts join as sections of their own (see docs/dashboard.md, "Plugging in").
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from alerts.selectors import alert_open_for

from ..selectors import hot_queue, saved_filters_for, user_is_broker
from .base import dashboard_view

HOT_QUEUE_ROWS = 25
ALERT_ROWS = 10


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


def lists_context(request) -> dict:
    return {"saved_filters": [f for f in saved_filters_for(request.user) if f.pinned]}


# Most urgent first. Tasks due and replies (sequences app) go here.
SECTIONS = (
    Section("alerts", "alerts/_today.html", alerts_context),
    Section("hot-queue", "leads/today/_hot_queue.html", hot_queue_context),
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

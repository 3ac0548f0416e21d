"""Small helpers for the dashboard's templates."""

from datetime import date, time, timedelta

from django import template
from django.conf import settings
from django.utils import timezone

from leads.names import person_name
from leads.phones import phone_display
from realtycrm.clock import duration_text

register = template.Library()


def waited_text(delta: timedelta) -> str:
    """How long someone has waited: "just now", then 4 min, 2 h 5 min, 3 d 4 h."""
    return "just now" if delta < timedelta(minutes=1) else duration_text(delta)


@register.filter
def waited(since, now=None) -> str:
    return waited_text((now or timezone.now()) - since) if since else ""


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (None removes one) and the page
    number dropped unless given: for sort headers and pagination links."""
    params = context["request"].GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def user_name(user) -> str:
    return person_name(user, nobody="")


@register.simple_tag
def brokerage_name() -> str:
    """For templates rendered without a request (emails): the brokerage's name."""
    return settings.BROKERAGE_NAME


register.filter("phone", phone_display)


@register.filter
def as_list(values) -> list:
    """Evaluate choices in one query: `{% for %}` (and list()) over a model field's choices asks
    their length first, which costs a COUNT query of its own."""
    return [value for value in values]


@register.filter
def input_value(value) -> str:
    """A form value as an <input> holds it: a day as 2026-05-06, a time as 10:00 (what a
    date or time input reads, whatever the page's date format); nothing for None."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)

"""{% push_devices %}: the "Notifications on this device" card (static/js/push.js drives it)."""

from django import template
from django.conf import settings

from ..push import push_enabled

register = template.Library()


@register.inclusion_tag("alerts/_push_devices.html", takes_context=True)
def push_devices(context, compact=False):
    """The card, where push is set up: in full on the agent's availability page (with the list
    of their devices), compact on Today (shown only while this browser could enable it)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    enabled = push_enabled() and user is not None and user.is_authenticated
    return {
        "push_enabled": enabled,
        "public_key": settings.VAPID_PUBLIC_KEY,
        "compact": compact,
        "devices": list(user.push_subscriptions.all()) if enabled and not compact else [],
        "csrf_token": context.get("csrf_token"),
    }

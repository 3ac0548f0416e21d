"""An agent's alerts: the live feed every open tab polls, acknowledging, claiming, availability,
and the browsers that get them as notifications (Web Push)."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from leads.phones import phone_display
from leads.selectors import lead_visible_to, user_is_broker
from leads.views.base import LEAD_CHANGED
from realtycrm.flows.contacts import lead_claim

from .forms import AvailabilityForm
from .models import Alert
from .push import (
    InvalidSubscription,
    push_enabled,
    push_session_remember,
    push_subscription_delete,
    push_subscription_save,
)
from .selectors import alert_history_for, alert_open_for
from .services import alert_acknowledge

FEED_LIMIT = 20


def _own_open_alert(request, pk) -> Alert:
    alert = alert_open_for(request.user).filter(pk=pk).first()
    if alert is None:
        raise Http404("No such alert")
    return alert


@login_required
@require_GET
def feed(request):
    """Open alerts as JSON, newest first. Every open tab polls it for the badge and the toasts."""
    alerts = list(alert_open_for(request.user)[:FEED_LIMIT])
    return JsonResponse(
        {
            "count": alert_open_for(request.user).count(),
            "alerts": [
                {
                    "id": alert.pk,
                    "reason": alert.get_reason_display(),
                    "urgent": alert.is_urgent,
                    "claim": alert.reason == Alert.Reason.CLAIM,
                    "created_at": alert.created_at.isoformat(),
                    "lead": {
                        "name": alert.lead.full_name or alert.lead.email or alert.lead.phone,
                        "source": alert.lead.get_source_display(),
                        "where": alert.lead.property_address or alert.lead.open_house,
                        "timeline": alert.lead.get_timeline_display(),
                        "intent": alert.lead.get_intent_display(),
                        "phone": alert.lead.phone,
                        "phone_display": phone_display(alert.lead.phone),
                    },
                    "detail": alert.detail,
                    "open_url": reverse("alerts:open", args=[alert.pk]),
                    "ack_url": reverse("alerts:acknowledge", args=[alert.pk]),
                    "claim_url": reverse("alerts:claim", args=[alert.pk]),
                }
                for alert in alerts
            ],
        }
    )


@login_required
@require_GET
def open_alert(request, pk):
    """The link in every alert: opening the lead from it acknowledges the alert (a claim offer
    stays open until someone claims it)."""
    alert = Alert.objects.filter(pk=pk, agent=request.user).select_related("lead").first()
    if alert is None or not lead_visible_to(request.user).filter(pk=alert.lead_id).exists():
        raise Http404("No such alert")
    if alert.reason != Alert.Reason.CLAIM:
        alert_acknowledge(alert, by=request.user, how="opened the lead")
    return redirect(reverse("leads:lead-detail", args=[alert.lead_id]))


@login_required
@require_POST
def acknowledge(request, pk):
    alert = _own_open_alert(request, pk)
    if alert.reason == Alert.Reason.CLAIM:
        raise Http404("Claim this lead instead")
    alert_acknowledge(alert, by=request.user, how="I'm on it")
    if request.htmx:
        # The sections showing the alert refresh themselves (Today, the lead page).
        return trigger_client_event(HttpResponse(status=204), LEAD_CHANGED, {"lead": alert.lead_id})
    messages.success(request, f"Got it: {alert.lead} is yours to work.")
    return _done(request, reverse("leads:lead-detail", args=[alert.lead_id]))


@login_required
@require_POST
def claim(request, pk):
    alert = _own_open_alert(request, pk)
    if lead_claim(alert.lead, agent=request.user):
        messages.success(request, f"{alert.lead} is yours. Call them now.")
        return _done(request, reverse("leads:lead-detail", args=[alert.lead_id]))
    messages.warning(request, "Someone else claimed this lead first.")
    return _done(request, reverse("alerts:inbox"))


def _done(request, next_url: str):
    """Where the agent goes next. A notification's Claim button (the service worker, asking for
    JSON) is told the address instead of being redirected, so the message above waits for the
    page it opens rather than being spent on a page nobody sees."""
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"next": next_url})
    return redirect(next_url)


@login_required
@require_GET
def inbox(request):
    """Open alerts, and the history with how fast each was answered (everyone's for brokers)."""
    history = Paginator(alert_history_for(request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/inbox.html",
        {
            "open_alerts": alert_open_for(request.user)[:50],
            "history": history,
            "is_broker": user_is_broker(request.user),
        },
    )


@login_required
def availability(request):
    agent = getattr(request.user, "agent", None)
    if agent is None:
        raise Http404("Only agents have availability")
    form = AvailabilityForm(request.POST or None, instance=agent)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your availability is saved.")
        return redirect("alerts:availability")
    return render(request, "alerts/availability.html", {"form": form})


# --- Notifications on this device (Web Push; static/js/push.js, templates/webapp/sw.js) ----------


def _json_body(request):
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


@login_required
@require_POST
def push_subscribe(request):
    """This browser's PushSubscription (JSON, CSRF header): its agent's urgent alerts arrive on
    it from now on. 201 with the device's id; 400 with what was wrong; 409 while push is off."""
    if not push_enabled():
        return JsonResponse({"errors": {"push": "Notifications are not set up here."}}, status=409)
    data = _json_body(request)
    try:
        subscription = push_subscription_save(
            request.user, data, user_agent=request.headers.get("User-Agent", "")
        )
    except InvalidSubscription as error:
        return JsonResponse({"errors": error.errors}, status=400)
    push_session_remember(request.session, subscription.endpoint)  # signing out forgets it
    return JsonResponse({"id": subscription.pk, "device": subscription.device}, status=201)


@login_required
@require_POST
def push_unsubscribe(request):
    """Forget a browser: JSON {"endpoint"} from the browser itself, or the form on the device
    list ("id"). Only the user's own; answering the same for a device that is not theirs."""
    if request.content_type == "application/json":
        data = _json_body(request)
        endpoint = data.get("endpoint") if isinstance(data, dict) else None
        if not isinstance(endpoint, str) or not endpoint:
            return JsonResponse(
                {"errors": {"endpoint": "Send the endpoint to forget."}}, status=400
            )
        removed = push_subscription_delete(request.user, endpoint=endpoint)
        return JsonResponse({"removed": removed})
    try:
        pk = int(request.POST.get("id", ""))
    except ValueError:
        pk = None
    if pk is not None and push_subscription_delete(request.user, pk=pk):
        messages.success(request, "That device gets no more notifications.")
    return redirect("alerts:availability")


@login_required
@require_GET
def push_csrf(request):
    """A CSRF token for the service worker, which has no page to read one from: a tap on a
    notification's Claim posts the claim (or "I'm on it") with it. Same-origin only, like every
    JSON answer here: another site cannot read it."""
    return JsonResponse({"csrf_token": get_token(request)})

"""Call-connect from the dashboard (docs/dashboard.md, "Calling a lead"): "Call" on a lead, on
Today's hot queue, on an alert and behind the link in an alert's text rings the agent's own phone
first; the lead page follows the call and asks how it went.

A refusal (no phone of the agent's own, a call already under way, not their lead) answers 422
with the sentence, on the lead page; a lead, call or alert that is not theirs is 404.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from alerts.calls import CallLinkExpired, call_link_alert, call_play_allowed, calls_give_up
from alerts.models import Alert, Call
from leads.selectors import lead_visible_to
from realtycrm.flows.calls import CallRefused, call_outcome, call_play, call_start

from ..selectors import lead_for_dashboard
from .base import dashboard_view
from .lead import _lead_context, action_done, action_invalid

RINGING = "Ringing your phone: answer it and press 1 to be connected."


def _own_call(request, lead, call_pk) -> Call:
    """One of the signed-in agent's own calls to this lead (a broker does not take theirs)."""
    return get_object_or_404(
        Call.objects.select_related("lead"), pk=call_pk, lead=lead, agent=request.user
    )


@require_POST
@dashboard_view
def lead_call(request, pk):
    """From the lead page (htmx, the lead re-rendered) or Today (a plain form: to the lead page,
    where the call is followed)."""
    lead = lead_for_dashboard(request.user, pk)
    origin = Call.Origin.TODAY if request.POST.get("from") == "today" else Call.Origin.LEAD
    try:
        call_start(lead, agent=request.user, origin=origin)
    except CallRefused as refused:
        return action_invalid(request, lead, message=str(refused))
    return action_done(request, lead, RINGING)


@require_GET
@dashboard_view
def lead_call_card(request, pk, call_pk):
    """The call card polls this while the call is under way; once it is over the whole lead
    comes back (the timeline now shows the logged call)."""
    lead = lead_for_dashboard(request.user, pk)
    call = _own_call(request, lead, call_pk)
    calls_give_up(request.user)  # a call Twilio never reported on stops being followed
    call.refresh_from_db()
    context = {"lead": lead, "lead_call": call, "call_playable": call_play_allowed()}
    if call.is_active or not request.htmx:
        return render(request, "alerts/_lead_call.html", context)
    response = render(request, "leads/lead/_lead.html", _lead_context(request, lead))
    return retarget(reswap(response, "outerHTML"), "#lead")


@require_POST
@dashboard_view
def lead_call_outcome(request, pk, call_pk):
    """The one tap after the call: talked, left voicemail, no answer, wrong number."""
    lead = lead_for_dashboard(request.user, pk)
    call = _own_call(request, lead, call_pk)
    outcome = request.POST.get("outcome", "")
    if outcome not in Call.Outcome.values:
        return action_invalid(request, lead, message="Choose how the call went.")
    if call.status != Call.Status.ENDED:
        return action_invalid(request, lead, message="This call has not reached the lead.")
    call_outcome(call, outcome)
    return action_done(request, lead, f"Call logged: {Call.Outcome(outcome).label.lower()}.")


@require_POST
@dashboard_view
def lead_call_play(request, pk, call_pk):
    """Development and the demo: play the call's answer where no phone company will (the
    console backend, with DEBUG). 404 with a real provider, and in production."""
    if not call_play_allowed():
        raise Http404("Calls are answered by the phone company")
    lead = lead_for_dashboard(request.user, pk)
    call = _own_call(request, lead, call_pk)
    if call.status not in (Call.Status.RINGING, Call.Status.ANSWERED):
        return action_invalid(request, lead, message="This call is not ringing.")
    answers = request.POST.get("lead") == "answers"
    call_play(call, lead_answers=answers)
    notice = "Played: you pressed 1 and " + (
        "they answered." if answers else "they did not answer."
    )
    return action_done(request, lead, notice)


# --- From an alert -------------------------------------------------------------------------------


def _alert_call(request, alert: Alert, origin: str):
    try:
        call_start(alert.lead, agent=request.user, origin=origin, alert=alert)
    except CallRefused as refused:
        return action_invalid(request, alert.lead, message=str(refused))
    messages.success(request, RINGING)
    return redirect(reverse("leads:lead-detail", args=[alert.lead_id]))


@require_POST
@dashboard_view
def alert_call(request, pk):
    """Connect call on an alert (Today, the alerts inbox): one of the agent's own alerts, about a
    lead they may still see."""
    alert = Alert.objects.filter(pk=pk, agent=request.user).select_related("lead").first()
    if alert is None or not lead_visible_to(request.user).filter(pk=alert.lead_id).exists():
        raise Http404("No such alert")
    return _alert_call(request, alert, Call.Origin.ALERT)


@require_http_methods(["GET", "POST"])
@dashboard_view
def call_link(request, token):
    """The link in an alert's text and email. Only the agent it was sent to, signed in, while
    they may see the lead, and for CALL_LINK_HOURS; anyone else gets 404. Opening it shows one
    button: a link preview or a browser's prefetch (a GET) must never ring a phone."""
    try:
        alert = call_link_alert(token, request.user)
    except CallLinkExpired:
        return render(request, "alerts/call_link.html", {"expired": True}, status=410)
    if alert is None or not lead_visible_to(request.user).filter(pk=alert.lead_id).exists():
        raise Http404("No such link")
    if request.method == "POST":
        return _alert_call(request, alert, Call.Origin.LINK)
    return render(request, "alerts/call_link.html", {"alert": alert, "lead": alert.lead})

"""An agent plans what comes next with a lead: a follow-up of their own ("call back Tuesday
10:00") or an appointment (booked, moved, cancelled, done or a no-show).

From the lead page each action follows its pattern (leads/views/lead.py): the lead comes from
`lead_for_dashboard` (404 for anyone else's), one flow or service does the work, and the answer
is `action_done` (the lead re-rendered, with a notice, and `lead-changed`) or `action_invalid`
(422 with the message on the field it belongs to, never a 500). From Today, the Plan button
loads the same two forms into the page's quick-plan box (`lead_plan`); their answers replace
that box (the forms again with their errors, 422; or what was done) and fire `lead-changed`, so
Today's sections refresh.
"""

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from realtycrm.flows.appointments import appointment_book, appointment_done
from sequences.forms import (
    FOLLOW_UP_TITLES,
    AppointmentForm,
    CancelForm,
    FollowUpForm,
    OutcomeForm,
    RescheduleForm,
)
from sequences.models import Appointment
from sequences.selectors import appointment_list_for
from sequences.services.agent_tasks import task_follow_up_create
from sequences.services.appointments import (
    AppointmentClosed,
    appointment_cancel,
    appointment_close,
    appointment_reschedule,
)

from ..names import person_name
from ..selectors import lead_for_dashboard, user_time_zone
from .base import LEAD_CHANGED, dashboard_view
from .lead import (
    APPOINTMENT,
    FOLLOW_UP,
    action_done,
    action_invalid,
    appointment_rows,
    plan_forms,
)

QUICK_PLAN = "quick-plan"  # Today's box the Plan forms load into (its element id)
WHEN = "D, M j, g:i a"  # Tue, May 5, 10:00 a.m.


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), WHEN)


def _sentence(text: str) -> str:
    """A full stop at the end, unless the text ends with one already ("10:00 a.m.")."""
    return text if text.endswith(".") else f"{text}."


def _from_today(request) -> bool:
    return bool(request.htmx and request.htmx.target == QUICK_PLAN)


def _done(request, lead, notice: str):
    if _from_today(request):
        response = render(request, "leads/today/_quick_plan_done.html", {"notice": notice})
        return trigger_client_event(response, LEAD_CHANGED, {"lead": lead.pk})
    return action_done(request, lead, notice)


def _invalid(request, lead, **forms):
    """The Plan forms again with their errors: in Today's box, or on the lead page."""
    context = {**plan_forms(lead), **forms}
    if _from_today(request):
        context["lead"] = lead
        return render(request, "leads/today/_quick_plan.html", context, status=422)
    return action_invalid(request, lead, **context)


@require_GET
@dashboard_view
def lead_plan(request, pk):
    """The Plan forms for one lead: for Today's quick-plan box, or (?on=lead) for the lead
    page's Plan card, `?tab=appointment` to show that one first."""
    lead = lead_for_dashboard(request.user, pk)
    context = {"lead": lead, **plan_forms(lead, request.GET.get("tab", FOLLOW_UP))}
    if request.GET.get("on") == "lead":
        context |= {"target": "#lead", "swap": "outerHTML"}
        return render(request, "leads/plan/_forms.html", context)
    return render(request, "leads/today/_quick_plan.html", context)


@require_POST
@dashboard_view
def lead_follow_up(request, pk):
    """An agent's own follow-up task, due at a day and time on their wall clock."""
    lead = lead_for_dashboard(request.user, pk)
    form = FollowUpForm(request.POST, now=timezone.now(), zone=timezone.get_current_timezone())
    if not form.is_valid():
        return _invalid(request, lead, follow_up_form=form, plan_tab=FOLLOW_UP)
    data = form.cleaned_data
    title = data["title"] or FOLLOW_UP_TITLES[data["kind"]].format(lead=lead)
    task = task_follow_up_create(
        lead,
        actor=request.user,
        kind=data["kind"],
        title=title,
        due_at=data["at"],
        notes=data["notes"],
        key=f"follow-up:{lead.pk}:{data['token']}",  # a double submit makes one task
    )
    return _done(request, lead, f"Follow-up set for {_when(task.due_at)}: {task.title}.")


@require_POST
@dashboard_view
def lead_appointment_book(request, pk):
    """Book an appointment: the lead moves to the appointment stage, is confirmed and reminded,
    and the agent is reminded (realtycrm.flows.appointments.appointment_book)."""
    lead = lead_for_dashboard(request.user, pk)
    now, zone = timezone.now(), timezone.get_current_timezone()
    form = AppointmentForm(request.POST, lead=lead, now=now, zone=zone)
    if not form.is_valid():
        return _invalid(request, lead, appointment_form=form, plan_tab=APPOINTMENT)
    data = form.cleaned_data
    agent = lead.owner or request.user
    appointment = appointment_book(
        lead,
        agent=agent,
        kind=data["kind"],
        starts_at=data["at"],
        ends_at=data["ends_at"],
        time_zone=user_time_zone(agent).key,  # the lead is told the time where the agent is
        place=data["place"],
        notes=data["notes"],
        actor=request.user,
        booking_key=f"book:{lead.pk}:{data['token']}",  # a double submit books once
    )
    lead = lead_for_dashboard(request.user, pk)  # its stage moved
    return _done(request, lead, _booked_notice(appointment, user=request.user))


def _booked_notice(appointment: Appointment, *, user) -> str:
    """What booking did, in a sentence: when, and who is reminded when."""
    notice = _sentence(
        f"{appointment.get_kind_display()} booked for {_when(appointment.starts_at)}"
    )
    reminders = []
    if appointment.agent_reminder_at:
        who = "you" if appointment.agent_id == user.pk else person_name(appointment.agent)
        at = date_format(timezone.localtime(appointment.agent_reminder_at), "g:i a")
        reminders.append(f"{who} at {at}")
    if appointment.lead_reminder_at:
        who = appointment.lead.first_name or "the lead"
        reminders.append(f"{who} on {_when(appointment.lead_reminder_at)}")
    if reminders:
        notice += " " + _sentence(f"Reminders: {' and '.join(reminders)}")
    return notice


def _appointment(request, pk, appointment_pk):
    """The lead (404 unless the user may see it) and one of its appointments (404 otherwise)."""
    lead = lead_for_dashboard(request.user, pk)
    appointment = get_object_or_404(
        appointment_list_for(request.user).filter(lead=lead), pk=appointment_pk
    )
    return lead, appointment


@require_POST
@dashboard_view
def appointment_reschedule_view(request, pk, appointment_pk):
    """A new day, time, length or place: the lead is told, and reminded of the new time."""
    lead, appointment = _appointment(request, pk, appointment_pk)
    form = RescheduleForm(
        request.POST,
        appointment=appointment,
        now=timezone.now(),
        zone=timezone.get_current_timezone(),
    )
    if not form.is_valid():
        rows = appointment_rows(request, lead, failed=(appointment.pk, form))
        return action_invalid(request, lead, appointment_rows=rows)
    data = form.cleaned_data
    try:
        moved = appointment_reschedule(
            appointment,
            starts_at=data["at"],
            ends_at=data["ends_at"],
            place=data["place"],
            actor=request.user,
        )
    except AppointmentClosed as closed:
        return action_invalid(request, lead, message=closed.reason)
    if not moved:
        return action_done(request, lead, "Nothing changed.")
    kind = appointment.get_kind_display()
    return action_done(request, lead, _sentence(f"{kind} moved to {_when(data['at'])}"))


@require_POST
@dashboard_view
def appointment_cancel_view(request, pk, appointment_pk):
    """Cancel it; its reminders are withdrawn and (unless unticked) the lead is told."""
    lead, appointment = _appointment(request, pk, appointment_pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        message = " ".join(" ".join(errors) for errors in form.errors.values())
        return action_invalid(request, lead, message=message)
    try:
        appointment_cancel(
            appointment,
            actor=request.user,
            notify_lead=form.cleaned_data["notify_lead"],
            reason=form.cleaned_data["reason"],
        )
    except AppointmentClosed as closed:
        return action_invalid(request, lead, message=closed.reason)
    kind = appointment.get_kind_display()
    return action_done(request, lead, f"{kind} of {_when(appointment.starts_at)} cancelled.")


@require_POST
@dashboard_view
def appointment_outcome_view(request, pk, appointment_pk):
    """How it went, once it has begun: done (a personal contact, in person) or a no-show."""
    lead, appointment = _appointment(request, pk, appointment_pk)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return action_invalid(request, lead, message="Choose done or no-show.")
    if appointment.starts_at > timezone.now():
        return action_invalid(
            request, lead, message="It has not begun yet: say how it went once it has."
        )
    status = form.cleaned_data["status"]
    try:
        if status == Appointment.Status.DONE:
            appointment_done(appointment, actor=request.user)
        else:
            appointment_close(appointment, status=status, actor=request.user)
    except AppointmentClosed as closed:
        return action_invalid(request, lead, message=closed.reason)
    lead = lead_for_dashboard(request.user, pk)  # a contact moves its dates (and stage)
    kind = appointment.get_kind_display()
    if status == Appointment.Status.DONE:
        return action_done(request, lead, f"{kind} done: logged as a meeting.")
    return action_done(request, lead, f"{kind}: marked as a no-show.")

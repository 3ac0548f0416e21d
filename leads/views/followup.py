"""Follow-up on a lead, through the sequences app: one-off texts and emails, the lead's tasks
(done, snooze) and its automation (pause, resume); and the older pages of its messages and tasks.

Each action follows the lead page's pattern (leads/views/lead.py): the lead comes from
`lead_for_dashboard` (404 for anyone else's), one service does the work, and the answer is
`action_done` (the lead re-rendered, or 204 from Today, and `lead-changed`) or `action_invalid`
(422 with the message next to the form, never a 500).
"""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from realtycrm import formats
from realtycrm.flows.inbound import opt_out_confirm
from sequences.models import Message
from sequences.selectors import task_list_for
from sequences.services.agent_tasks import task_complete, task_snooze
from sequences.services.automation import automation_pause, automation_resume
from sequences.services.enrollment import STOP_STAGES
from sequences.services.one_off import MessageBlocked, message_send_one_off

from ..dashboard_forms import (
    ASKED_TO_STOP,
    SNOOZE_CHOICES,
    OneOffForm,
    OptOutAnswerForm,
    PauseForm,
    SnoozeForm,
)
from ..selectors import lead_for_dashboard
from .base import dashboard_view
from .lead import action_done, action_invalid, messages_in_flight, messages_page, tasks_page

# A one-off due later than this is being held for the lead's quiet hours: say until when.
HELD = timezone.timedelta(minutes=1)


@require_POST
@dashboard_view
def lead_send(request, pk):
    """An agent's own text or email, through the outbox. Refused with the reason (no consent,
    opted out, no address, bounced …) next to the form."""
    lead = lead_for_dashboard(request.user, pk)
    form = OneOffForm(request.POST)
    failed = {f"{form.chosen_channel}_form": form, "one_off_channel": form.chosen_channel}
    if not form.is_valid():
        return action_invalid(request, lead, **failed)
    data = form.cleaned_data
    try:
        message = message_send_one_off(
            lead,
            channel=data["channel"],
            body=data["body"],
            subject=data["subject"],
            actor=request.user,
            idempotency_key=f"one-off:{lead.pk}:{data['token']}",  # a double submit sends once
            confirmed_not_stop=data["confirmed_not_stop"],
        )
    except MessageBlocked as blocked:
        form.add_error(None, blocked.reason)
        return action_invalid(request, lead, **failed)
    # A worker may have sent it already; once sent it is a personal contact, so the lead's
    # stage and contact dates may have moved too.
    message.refresh_from_db(fields=["status", "scheduled_for"])
    lead = lead_for_dashboard(request.user, pk)
    return action_done(request, lead, _sent_notice(message))


@require_POST
@dashboard_view
def lead_opt_out_answer(request, pk):
    """The owner's answer to "did they ask to stop?": "They asked to stop" opts the number out
    for every sender; "They did not" lets texts go again."""
    lead = lead_for_dashboard(request.user, pk)
    form = OptOutAnswerForm(request.POST)
    if not form.is_valid():
        return action_invalid(request, lead, message="Choose whether they asked to stop.")
    asked = form.cleaned_data["answer"] == ASKED_TO_STOP
    opt_out_confirm(lead, asked_to_stop=asked, actor=request.user)
    lead = lead_for_dashboard(request.user, pk)
    if asked:
        return action_done(request, lead, "Opted out: no more texts go to this number.")
    return action_done(request, lead, "Noted: they did not ask to stop. Texts may go.")


def _sent_notice(message: Message) -> str:
    what = message.get_channel_display()
    if message.status == Message.Status.SENT:
        return f"{what} sent."
    if message.scheduled_for > timezone.now() + HELD:
        when = formats.when(message.scheduled_for)
        return f"{what} written. It is quiet hours where they are: it goes {when}."
    return f"{what} queued: it goes out in a moment."


@require_POST
@dashboard_view
def lead_automation_pause(request, pk):
    lead = lead_for_dashboard(request.user, pk)
    form = PauseForm(request.POST)
    if not form.is_valid():
        return action_invalid(request, lead, pause_form=form)
    enrollment = automation_pause(lead, actor=request.user, reason=form.cleaned_data["reason"])
    if enrollment is None:
        return action_invalid(request, lead, message="No automation is running for this lead.")
    return action_done(request, lead, f"Automation paused: {enrollment.track} sends nothing more.")


@require_POST
@dashboard_view
def lead_automation_resume(request, pk):
    lead = lead_for_dashboard(request.user, pk)
    if lead.stage in STOP_STAGES:
        return action_invalid(
            request,
            lead,
            message=f"Automation stays off for a lead at stage {lead.get_stage_display()}.",
        )
    enrollment = automation_resume(lead, actor=request.user)
    if enrollment is None:
        return action_invalid(request, lead, message="This lead has no nurture track to restart.")
    return action_done(request, lead, f"Automation on: {enrollment.track} carries on.")


def _task(request, pk, task_pk):
    """The lead (404 unless the user may see it) and one of its tasks (404 if not its own)."""
    lead = lead_for_dashboard(request.user, pk)
    task = get_object_or_404(task_list_for(request.user, status=None, lead=lead), pk=task_pk)
    return lead, task


@require_POST
@dashboard_view
def task_done(request, pk, task_pk):
    lead, task = _task(request, pk, task_pk)
    if task.status != task.Status.OPEN:
        return action_done(request, lead, "That task was already closed.")
    task_complete(task, actor=request.user)
    return action_done(request, lead, f"Done: {task.title}.")


@require_POST
@dashboard_view
def task_snooze_view(request, pk, task_pk):
    lead, task = _task(request, pk, task_pk)
    form = SnoozeForm(
        request.POST, now=timezone.now(), zone=timezone.get_current_timezone()
    )  # the user's zone: dashboard_view set it
    if form.is_valid():
        try:
            task_snooze(task, until=form.cleaned_data["until"], actor=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            when = formats.when(task.due_at)
            return action_done(request, lead, f"Snoozed until {when}: {task.title}.")
    message = " ".join(" ".join(errors) for errors in form.errors.values())
    return action_invalid(
        request, lead, message=message, task_error_for=task.pk, task_error=message
    )


# htmx stops polling an element whose request answers 286.
STOP_POLLING = 286


@require_GET
@dashboard_view
def lead_messages(request, pk):
    """Older messages, one page at a time ("Show older"); with ?poll=1 the first page again,
    while a message just written is on its way (the panel polls until it has gone)."""
    lead = lead_for_dashboard(request.user, pk)
    page = messages_page(request, lead, request.GET.get("page"))
    polling = request.GET.get("poll") == "1"
    status = STOP_POLLING if polling and not messages_in_flight(page) else 200
    return render(
        request,
        "leads/lead/_message_items.html",
        {"lead": lead, "messages_page": page},
        status=status,
    )


@require_GET
@dashboard_view
def lead_tasks(request, pk):
    """More of the lead's tasks, one page at a time ("Show more")."""
    lead = lead_for_dashboard(request.user, pk)
    page = tasks_page(request, lead, request.GET.get("page"))
    context = {
        "lead": lead,
        "tasks_page": page,
        "snooze_choices": SNOOZE_CHOICES,
        "now": timezone.now(),
    }
    return render(request, "leads/lead/_task_items.html", context)

"""Reads. Tasks and messages are seen through their lead: leads.selectors.lead_visible_to."""

from django.db.models import QuerySet
from django.utils import timezone

from leads.models import Lead
from leads.selectors import lead_visible_to

from . import schedule
from .models import Enrollment, Message, Step, Task


def task_list_for(
    user,
    *,
    status: str | None = Task.Status.OPEN,
    lead: Lead | None = None,
    overdue: bool = False,
    due_before=None,
) -> QuerySet[Task]:
    """Tasks on the leads this user may see (an agent: their own leads; a broker: all), due
    first. `status=None` for every status; `overdue` for open tasks past their due time."""
    tasks = Task.objects.filter(lead__in=lead_visible_to(user)).select_related(
        "lead", "agent", "lead__owner"
    )
    if status:
        tasks = tasks.filter(status=status)
    if lead is not None:
        tasks = tasks.filter(lead=lead)
    if overdue:
        tasks = tasks.filter(status=Task.Status.OPEN, due_at__lt=timezone.now())
    if due_before is not None:
        tasks = tasks.filter(due_at__lt=due_before)
    return tasks.order_by("due_at", "id")


def message_list_for(user, *, lead: Lead | None = None) -> QuerySet[Message]:
    """Messages to leads this user may see, newest first (agents' alerts: only their own)."""
    visible = Message.objects.filter(lead__in=lead_visible_to(user))
    if user.is_authenticated:
        visible = visible | Message.objects.filter(agent=user)
    if lead is not None:
        visible = visible.filter(lead=lead)
    return visible.select_related("lead", "agent").order_by("-created_at", "-id")


def lead_enrollment(lead: Lead) -> Enrollment | None:
    """The lead's open (active or paused) enrolment, if any."""
    return (
        Enrollment.objects.filter(lead=lead, status__in=Enrollment.OPEN)
        .select_related("track")
        .first()
    )


def track_steps(track_id: int, cache: dict | None = None):
    """A track's steps as plain values for the scheduler, and the rows by id, in one query.
    `cache` memoises them for one scheduler pass over many enrolments."""
    if cache is not None and track_id in cache:
        return cache[track_id]
    steps = {
        step.pk: step
        for step in Step.objects.filter(track_id=track_id).select_related("move_to", "track")
    }
    specs = [
        schedule.StepSpec(
            id=step.pk,
            position=step.position,
            offset_minutes=step.offset_minutes,
            kind=step.kind,
            for_intent=step.for_intent,
            condition=step.condition,
            is_acknowledgment=step.is_acknowledgment,
            template_key=step.template_key,
            task_kind=step.task_kind,
            task_due_minutes=step.task_due_minutes,
            move_to=step.move_to.key if step.move_to_id else "",
            move_intent=step.move_intent,
        )
        for step in steps.values()
    ]
    if cache is not None:
        cache[track_id] = (specs, steps)
    return specs, steps

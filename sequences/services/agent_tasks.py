"""Agents' tasks: an agent's own follow-up, done, snoozed, done by a personal contact, and the
task to answer a reply."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.models import Lead

from ..models import Task

REPLY_TASK_DUE = timedelta(minutes=15)
# A contact this long before an agent's own follow-up is due (or later) does it; one made
# earlier leaves it open: "call back Tuesday 10:00" still stands after Monday's text.
FOLLOW_UP_EARLY = timedelta(hours=1)


def task_follow_up_create(
    lead: Lead, *, actor, kind: str, title: str, due_at, notes: str = "", key: str | None = None
) -> Task:
    """An agent schedules a follow-up of their own ("call back Tuesday 10:00"): a task for the
    lead's owner (the agent themselves, or the owner a broker plans it for). Idempotent on
    `key` (the form's token): submitting the same form twice makes one task."""
    if key:
        existing = Task.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return Task.objects.create(
                lead=lead,
                agent=lead.owner or actor,
                kind=kind,
                title=title[:200],
                notes=notes[:1600],
                due_at=due_at,
                created_by=actor,
                idempotency_key=key or None,
            )
    except IntegrityError:
        if not key:
            raise
        return Task.objects.get(idempotency_key=key)


@transaction.atomic
def task_complete(task: Task, *, actor, outcome: str = "") -> Task:
    """Mark an open task done (doing it twice changes nothing)."""
    if task.status != Task.Status.OPEN:
        return task
    task.status = Task.Status.DONE
    task.done_at = timezone.now()
    task.done_by = actor
    task.outcome = outcome[:200]
    task.save(update_fields=["status", "done_at", "done_by", "outcome"])
    return task


@transaction.atomic
def task_snooze(task: Task, *, until, actor) -> Task:
    """Push an open task's due time later. Raises ValidationError for a time not in the future
    or a task that is no longer open."""
    if task.status != Task.Status.OPEN:
        raise ValidationError("This task is already closed.")
    if until <= timezone.now():
        raise ValidationError("Choose a time in the future.")
    task.due_at = until
    task.snooze_count += 1
    task.save(update_fields=["due_at", "snooze_count"])
    return task


def tasks_complete_for_contact(lead: Lead, *, actor, at=None) -> int:
    """A personal contact does what the lead's open tasks asked for (call, text, check in,
    answer a reply): each task created before the contact is done, except an agent's own
    follow-up that is not due yet (FOLLOW_UP_EARLY). Returns how many."""
    at = at or timezone.now()
    tasks = Task.objects.filter(lead=lead, status=Task.Status.OPEN, created_at__lte=at)
    return tasks.exclude(created_by__isnull=False, due_at__gt=at + FOLLOW_UP_EARLY).update(
        status=Task.Status.DONE,
        done_at=at,
        done_by=actor,
        outcome="Personal contact logged",
    )


def reply_task_open(lead: Lead, *, body: str, received_at, title: str = "") -> Task:
    """The lead texted: its owner has a task to answer within REPLY_TASK_DUE."""
    return Task.objects.create(
        lead=lead,
        agent=lead.owner,
        kind=Task.Kind.REPLY,
        title=title or f"Answer {lead.full_name or lead.phone}'s text",
        notes=body[:1600],
        due_at=received_at + REPLY_TASK_DUE,
        created_at=received_at,
    )


NO_CONSENT_CALL_DUE = timedelta(minutes=60)


def no_consent_call_task_open(lead: Lead, *, now=None) -> Task | None:
    """A lead from another channel than our forms (API, email, Meta) that gave no SMS consent
    evidence may be called, not texted: its owner has a task to call within the hour instead of
    the text it would have had. Opened when the lead gets an owner (at intake, on a claim, at a
    claim's fallback); once."""
    if lead.channel == Lead.Channel.FORM or not lead.phone or lead.can_text or not lead.owner_id:
        return None
    if Task.objects.filter(lead=lead, kind=Task.Kind.CALL, step__isnull=True).exists():
        return None
    now = now or timezone.now()
    via = lead.origin or Lead.Channel(lead.channel).label
    return Task.objects.create(
        lead=lead,
        agent_id=lead.owner_id,
        kind=Task.Kind.CALL,
        title=f"Call {lead.full_name or lead.phone}: no consent to text"[:200],
        notes=f"{via} gave no SMS consent: this lead may be called and emailed, not texted.",
        due_at=now + NO_CONSENT_CALL_DUE,
        created_at=now,
    )

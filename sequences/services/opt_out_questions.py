"""Texts that may have asked to stop ("not interested"): the question to the lead's agent.

opt_out_question_open     an ambiguous text: the owner's task "Confirm: did they ask to stop?"
opt_out_question_pending  the question still waiting for an answer, if any (one-offs ask first)
opt_out_questions_answer  the answer: "They asked to stop" opts the number out (the suppression
                          list), "They did not" clears the question; on the timeline either way

Until it is answered, the lead's automation stays paused (the inbound flow paused it) and an
agent's one-off text asks them to confirm first (services/one_off.py). A STOP that follows
answers it too.
"""

from django.db import transaction
from django.utils import timezone

from leads.models import Lead, LeadEvent
from leads.names import person_name
from leads.services import lead_event_record

from ..models import Message, OptOutQuestion, Suppression, Task
from .agent_tasks import reply_task_open
from .suppressions import address_suppress


def _quote(body: str) -> str:
    return f"“{' '.join(body.split())[:120]}”"


def opt_out_question_open(lead: Lead, *, body: str, received_at) -> OptOutQuestion:
    """The lead texted something that may mean "stop": its owner has a task (due like any
    reply's) to read it and say, and the text is pending until they do."""
    who = lead.full_name or lead.phone
    task = reply_task_open(
        lead, body=body, received_at=received_at, title=f"Confirm: did {who} ask to stop?"
    )
    return OptOutQuestion.objects.create(
        lead=lead, body=body[:1600], received_at=received_at, task=task
    )


def opt_out_question_pending(lead: Lead) -> OptOutQuestion | None:
    """The newest unanswered question about the lead's texts, or None."""
    return (
        OptOutQuestion.objects.filter(lead=lead, answer=OptOutQuestion.Answer.PENDING)
        .order_by("-received_at", "-id")
        .first()
    )


@transaction.atomic
def opt_out_questions_answer(lead: Lead, *, asked_to_stop: bool, actor, how: str = "") -> int:
    """The agent read the lead's texts and says whether they asked to stop. Asked: the number
    is opted out for every sender (what a STOP does). Not: texts may go again (automation stays
    paused until someone resumes it). Every pending question is answered, the timeline says who
    decided, and the confirm tasks close (asked) or become the usual "answer their text" task.
    Returns how many questions were answered; with none pending, "asked" still opts out."""
    now = timezone.now()
    questions = list(
        OptOutQuestion.objects.select_for_update()
        .filter(lead=lead, answer=OptOutQuestion.Answer.PENDING)
        .order_by("received_at", "id")
    )
    answer = OptOutQuestion.Answer.STOP if asked_to_stop else OptOutQuestion.Answer.NOT_STOP
    OptOutQuestion.objects.filter(pk__in=[q.pk for q in questions]).update(
        answer=answer, answered_at=now, answered_by=actor
    )
    tasks = Task.objects.filter(
        pk__in=[q.task_id for q in questions if q.task_id], status=Task.Status.OPEN
    )
    texts = ", ".join(_quote(q.body) for q in questions[-3:])
    data = {"opt_out_questions": [q.pk for q in questions], "answer": answer}
    if asked_to_stop:
        tasks.update(status=Task.Status.DONE, done_at=now, done_by=actor, outcome=answer.label)
        if lead.phone:
            address_suppress(
                Message.Channel.SMS,
                lead.phone,
                reason=Suppression.Reason.CONFIRMED_STOP,
                detail=f"{person_name(actor, nobody='the system')}: {texts}",
            )
        return len(questions)
    if not questions:
        return 0
    tasks.update(title=f"Answer {lead.full_name or lead.phone}'s text")
    lead_event_record(
        lead,
        LeadEvent.Kind.NOTE,
        actor=actor,
        summary=(
            f"{person_name(actor, nobody='The system')} confirmed {texts} did not ask to stop{how}"
        ),
        data=data,
        occurred_at=now,
    )
    return len(questions)


def opt_out_questions_close_on_stop(number: str) -> int:
    """The number texted a revocation after an ambiguous text: that answers the question, for
    every lead with the number."""
    now = timezone.now()
    pending = OptOutQuestion.objects.filter(
        lead__phone=number, answer=OptOutQuestion.Answer.PENDING
    )
    task_ids = list(pending.exclude(task=None).values_list("task_id", flat=True))
    Task.objects.filter(pk__in=task_ids, status=Task.Status.OPEN).update(
        status=Task.Status.DONE, done_at=now, outcome="They texted a request to stop"
    )
    return pending.update(answer=OptOutQuestion.Answer.STOP, answered_at=now)

"""Imports in the background: a batch's dry run, import and undo, chunk by chunk on django-q2.

    batch_check_queue    a dry run of the batch's mapping, in the background
    batch_start_queue    the import itself, in the background (after a dry run)
    batch_undo           undo a whole import, unless someone has worked one of its contacts
    batch_worked         why an import can no longer be undone ("" while it can)
    batch_work           what a worker does: the current phase's chunks until it ends or the
                         time budget runs out (then a fresh task goes on from the cursor)
    batch_run_here       every phase to its end in this process (manage.py import_leads)

Each chunk is one transaction holding the batch's row lock, so two workers given the same batch
(a redelivered task) take turns and never write a row twice. Undo is a flow because "worked"
spans apps: a personal contact or stage change (leads), a message, a task or an enrolment
(sequences), an alert (alerts).
"""

import logging
import time

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

from alerts.models import Alert
from leads.imports import services as imports
from leads.models import ConsentRecord, ImportBatch, Lead, LeadEvent
from sequences.models import Enrollment, Message, Task

logger = logging.getLogger(__name__)
Status = ImportBatch.Status
PHASES = (Status.CHECKING, Status.QUEUED, Status.RUNNING, Status.UNDOING)


def batch_check_queue(batch: ImportBatch) -> None:
    imports.batch_check(batch)
    _queue(batch)


def batch_start_queue(batch: ImportBatch) -> None:
    imports.batch_start(batch)
    _queue(batch)


def batch_retry_queue(batch: ImportBatch) -> None:
    imports.batch_retry(batch)
    _queue(batch)


def _queue(batch: ImportBatch) -> None:
    pk = batch.pk
    transaction.on_commit(lambda: batch_task_queue(pk))


def batch_task_queue(batch_pk: int) -> None:
    async_task("leads.tasks.import_batch_work", batch_pk, task_name=f"import-{batch_pk}")


def batch_worked(batch: ImportBatch) -> str:
    """Why this import can no longer be undone as a whole, or "" while nobody has worked its
    contacts: no personal contact, stage change, re-engagement, note or reassignment by anyone
    (any timeline event the import did not write), no message, task, enrolment or alert; and
    no text has gone to a lead it filled under the SMS consent it recorded (that consent is
    the evidence for the text: undo would delete it)."""
    leads = imports.batch_leads(batch)
    for queryset, why in _work_on(batch, leads):
        found = queryset.first()
        if found is not None:
            lead = found if isinstance(found, Lead) else found.lead
            return f"{lead} (lead #{lead.pk}) {why}"
    texted = _texted_under_consent(batch, _consented(batch)).first()
    if texted is not None:
        return f"{texted.lead} (lead #{texted.lead_id}) was texted under the consent it recorded"
    return ""


def _work_on(batch: ImportBatch, leads) -> tuple:
    return (
        (leads.filter(dormant=False), "has re-engaged or been worked"),
        (leads.exclude(stage=Lead.Stage.NEW), "has moved along the funnel"),
        (
            LeadEvent.objects.filter(lead__in=leads).exclude(data__import=batch.pk),
            "has been worked (see its timeline)",
        ),
        (Message.objects.filter(lead__in=leads), "has been sent a message"),
        (Task.objects.filter(lead__in=leads), "has a task"),
        (Enrollment.objects.filter(lead__in=leads), "is on a nurture track"),
        (Alert.objects.filter(lead__in=leads), "has an alert"),
    )


def _consented(batch: ImportBatch, lead_ids=None):
    """The leads with an SMS consent this import recorded (the filled ones among them)."""
    records = ConsentRecord.objects.filter(wording_version=f"import-{batch.pk}")
    if lead_ids is not None:
        records = records.filter(lead_id__in=lead_ids)
    return records.values("lead_id")


def _texted_under_consent(batch: ImportBatch, lead_ids):
    """Texts that went (or may have) to those leads since the import recorded their consent."""
    return Message.objects.filter(
        lead_id__in=lead_ids,
        channel=Message.Channel.SMS,
        status__in=[Message.Status.SENT, Message.Status.SENDING],
        created_at__gte=batch.started_at or batch.created_at,
    ).select_related("lead")


def leads_worked(batch: ImportBatch, pks: list[int]) -> dict[int, str]:
    """Which of these contacts of the batch someone worked (undo_step asks, chunk by chunk,
    with the chunk's leads locked): lead pk → why."""
    worked = {}
    for queryset, why in _work_on(batch, Lead.objects.filter(pk__in=pks)):
        column = "pk" if queryset.model is Lead else "lead_id"
        for pk in queryset.values_list(column, flat=True):
            worked.setdefault(pk, why)
    return worked


def consent_used(batch: ImportBatch, lead_ids: list[int]) -> set[int]:
    """The filled leads texted under the consent this batch recorded: undo keeps that consent."""
    consented = _consented(batch, lead_ids)
    return set(_texted_under_consent(batch, consented).values_list("lead_id", flat=True))


def batch_undo(batch: ImportBatch) -> str:
    """Undo the whole import in the background: its contacts deleted, its fills reverted.
    Returns why not ("" when undo has begun)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != Status.DONE:
            return f"Only a finished import can be undone (this one is {batch.get_status_display().lower()})."
        worked = batch_worked(batch)
        if worked:
            return (
                f"This import cannot be undone: {worked}. Undo is only for an import nobody has "
                "worked yet; change or delete those contacts one by one instead."
            )
        imports.batch_undo_begin(batch)
        _queue(batch)
    return ""


def batch_work(batch_pk: int, *, budget_seconds: float | None = None) -> bool:
    """The batch's current phase, a chunk at a time, until it ends (False) or the time budget
    runs out (True: more to do). A failure is kept on the batch, never raised to the queue."""
    budget = settings.IMPORT_TASK_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    state = imports.WorkState()
    try:
        while True:
            if not _step(batch_pk, state):
                return False
            if time.monotonic() >= deadline:
                return True
    except Exception as error:
        logger.exception("Import %s failed", batch_pk)
        imports.batch_fail(batch_pk, f"{type(error).__name__}: {error}")
        return False


def _step(batch_pk: int, state) -> bool:
    """One chunk of the current phase, in one transaction; False when there is nothing more."""
    with transaction.atomic():
        # Without the file: saving the batch after each chunk then writes its counts, not the
        # file again (Django saves only the loaded fields).
        batch = ImportBatch.objects.select_for_update().defer("content").filter(pk=batch_pk).first()
        if batch is None or batch.status not in PHASES:
            return False
        if batch.status == Status.CHECKING:
            done = imports.dry_run_step(batch, state)
        elif batch.status == Status.UNDOING:
            done = imports.undo_step(
                batch,
                worked=lambda pks: leads_worked(batch, pks),
                consent_used=lambda pks: consent_used(batch, pks),
            )
        else:
            done = imports.import_step(batch, state)
    return not done


def batch_run_here(batch: ImportBatch) -> ImportBatch:
    """Run the batch's current phase to its end in this process (no queue, no time budget)."""
    batch_work(batch.pk, budget_seconds=float("inf"))
    batch.refresh_from_db()
    return batch

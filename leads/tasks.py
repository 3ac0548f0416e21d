"""django-q2 entry points for leads. Each calls one flow and is safe to run twice."""

from realtycrm.flows import bulk
from realtycrm.flows.imports import batch_task_queue, batch_work
from realtycrm.flows.intake import submissions_process_stranded


def submissions_sweep() -> int:
    """Every minute (setup_schedules): submissions a crash left unprocessed become leads."""
    return submissions_process_stranded()


def import_batch_work(batch_pk: int) -> bool:
    """An import's dry run, import or undo, for a while; a fresh task takes the rest (each
    chunk is locked and resumes from the batch's cursor, so a redelivered task is harmless)."""
    more = batch_work(batch_pk)
    if more:
        batch_task_queue(batch_pk)
    return more


def bulk_job_work(job_pk: int) -> bool:
    """A bulk action on many leads, for a while; a fresh task takes the rest (each chunk is
    locked and resumes from the job's cursor, so a redelivered task changes no lead twice)."""
    more = bulk.bulk_job_work(job_pk)
    if more:
        bulk.bulk_job_queue(job_pk)
    return more

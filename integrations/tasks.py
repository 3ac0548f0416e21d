"""django-q2 entry points for the lead channels. Each takes ids (or nothing), calls one service
and is safe to run twice: a Meta lead is one submission, locked while it is read and processed."""

from django_q.tasks import async_task

from . import meta_intake


def meta_lead_fetch(submission_id: int) -> str:
    """Queued by the webhook for each lead it stored: fetch its details, hand it to intake."""
    return meta_intake.lead_fetch(submission_id)


def meta_leads_retry() -> int:
    """Every minute (setup_schedules): the leads a transient Graph error left waiting."""
    return meta_intake.leads_retry()


def meta_backfill() -> int:
    """Every 15 minutes (setup_schedules): one sync task per active Meta integration, so a
    slow page does not hold up the others."""
    integrations = meta_intake.integrations_to_sync()
    for integration_id in integrations:
        async_task(
            "integrations.tasks.meta_integration_backfill",
            integration_id,
            task_name=f"meta-sync-{integration_id}",
        )
    return len(integrations)


def meta_integration_backfill(integration_id: int) -> dict:
    return meta_intake.integration_backfill(integration_id)

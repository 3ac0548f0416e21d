"""Register the django-q2 schedules, idempotently. `make run` and every deployment call it."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_q.models import Schedule

# The one place the project's schedules are declared: name → (function, minutes between runs).
SCHEDULES = {
    "sequences: due steps, recoveries, dispatch": ("sequences.tasks.sequences_tick", 1),
    # The outbox's safety net, apart from the tick so that a failing step cannot hold it up:
    # anything due and not sent (a dead process's after-commit send, a lost task) goes now.
    "sequences: send what is due and not sent": ("sequences.tasks.messages_sweep", 1),
    "alerts: escalate unacknowledged hot-lead alerts": ("alerts.tasks.escalate_alerts", 1),
    "leads: process submissions a crash left unprocessed": ("leads.tasks.submissions_sweep", 1),
    "integrations: fetch Meta leads a Graph error left waiting": (
        "integrations.tasks.meta_leads_retry",
        1,
    ),
    "integrations: Meta lead ads sync (leads a missed webhook left out)": (
        "integrations.tasks.meta_backfill",
        15,
    ),
}


class Command(BaseCommand):
    help = "Create or update the background schedules (safe to run any number of times)."

    def handle(self, *args, **options):
        for name, (func, minutes) in SCHEDULES.items():
            schedule, created = Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": func,
                    "schedule_type": Schedule.MINUTES,
                    "minutes": minutes,
                    "repeats": -1,
                },
            )
            if created or schedule.next_run is None:
                schedule.next_run = timezone.now()
                schedule.save(update_fields=["next_run"])
            self.stdout.write(f"{'Created' if created else 'Updated'} schedule: {name}")

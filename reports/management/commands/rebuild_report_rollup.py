"""manage.py rebuild_report_rollup: recompute the report's rollup from the leads.

Safe while the app runs: a month at a time, each in a transaction of its own that holds off
writes to the leads only for that month (reports.rollup.rebuild). Also (re)creates the triggers
that keep the rollup current, for the current settings.TIME_ZONE: run it after changing it.
"""

import time

from django.core.management.base import BaseCommand

from reports import rollup


class Command(BaseCommand):
    help = "Recompute the segment report's rollup from the leads (safe while the app runs)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        verbose = options["verbosity"] > 1
        months = rollup.rebuild(
            progress=(lambda month: self.stdout.write(f"  {month:%Y-%m}")) if verbose else None
        )
        self.stdout.write(
            f"Rebuilt the report rollup: {months} months in {time.perf_counter() - started:.1f} s."
        )

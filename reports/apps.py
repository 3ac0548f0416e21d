from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"

    def ready(self):
        post_migrate.connect(_keep_rollup_triggers, sender=self)


def _keep_rollup_triggers(using, **kwargs):
    """After every migrate: SQLite drops a table's triggers when a migration rebuilds the table
    (most AlterField and some AddField on leads), so put them back, and rebuild the rollup
    if they were gone (a migration may have changed leads meanwhile)."""
    from . import rollup

    rollup.ensure_installed(using)

from django.apps import AppConfig


class SequencesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sequences"

    def ready(self):
        from . import checks  # noqa: F401  (registers the settings checks)

from django.apps import AppConfig


class SequencesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sequences"

    def ready(self):
        from django_q.signals import post_spawn  # imports django_q's models: apps must be ready

        from . import checks  # noqa: F401  (registers the settings checks)
        from .outbox import worker_process_started

        # A django-q2 worker process hands what it queues to the drain, not to sender threads
        # of its own (outbox.message_dispatch_later).
        post_spawn.connect(worker_process_started, dispatch_uid="sequences.worker_process")

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """The channels leads arrive by besides the hosted forms: the Events API, the portal-email
    inbox and Meta lead ads. Each is a thin adapter in front of the one intake flow
    (realtycrm.flows.intake); the integrations themselves are leads.Integration rows."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = "Lead channels"

    def ready(self):
        from . import (
            checks,  # noqa: F401  (registers the deploy checks)
            readers,  # noqa: F401  (tells intake how to read a stored payload again)
        )

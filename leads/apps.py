from django.apps import AppConfig

from .names import person_name


class LeadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "leads"

    def ready(self):
        # People by name wherever Django shows a user by itself: the admin's lists, filters,
        # raw-id and autocomplete widgets and foreign-key menus ("Alex Rivera", not "alex"),
        # form choices, `{{ user }}`. The project uses Django's own User, which says its
        # username; person_name is the one rule for a person's name (leads/names.py).
        from django.contrib.auth.models import User

        User.__str__ = person_name

        from . import rulebook  # noqa: F401  (watches the rules it keeps: leads.rulebook)

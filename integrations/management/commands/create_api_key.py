"""manage.py create_api_key "Harbor IDX site" [--origin …] [--source …] [--owner USERNAME]

Creates an Events API integration and prints its key, once, alone on the last line (scripts
read it with `tail -n 1`). Only the key's SHA-256 is stored: a lost key is replaced by a new
integration (or "Issue a new API key" in the admin), and revoked in the admin.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from integrations.api_keys import api_integration_create
from leads.models import Source


class Command(BaseCommand):
    help = "Create an Events API integration and print its key (shown once, on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("name", help='What sends with this key, e.g. "Harbor IDX site".')
        parser.add_argument("--origin", default="", help='The sending brand, e.g. "Zillow".')
        parser.add_argument(
            "--source",
            default=Source.WEBSITE,
            choices=Source.values,
            help="The source of its leads when the event's type does not say (default website).",
        )
        parser.add_argument("--owner", default="", help="Username of the agent who gets them.")
        parser.add_argument(
            "--rate-limit", type=int, default=None, help="Requests a minute (default 120)."
        )

    def handle(self, *args, name, origin, source, owner, rate_limit, **options):
        values = {"origin": origin.strip(), "default_source": source}
        if owner:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"No user named {owner!r}.")
            values["default_owner"] = user
        if rate_limit is not None:
            if rate_limit < 1:
                raise CommandError("--rate-limit must be at least 1.")
            values["rate_limit"] = rate_limit
        if not name.strip():
            raise CommandError("Give the integration a name.")
        integration, key = api_integration_create(name.strip()[:100], **values)
        self.stdout.write(
            f"Created Events API integration #{integration.pk} “{integration.name}” "
            f"(source {integration.default_source}, origin {integration.origin or '-'}, "
            f"owner {owner or 'by the assignment rules'})."
        )
        self.stdout.write(
            "Its key is below, shown this once: paste it as the HTTP Basic username "
            "(blank password) of POST /api/v1/events."
        )
        self.stdout.write(key)

"""Print a new VAPID key pair for Web Push, as the environment lines to set (docs/alerts.md)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from alerts.vapid import vapid_key_pair


class Command(BaseCommand):
    help = (
        "Print a new VAPID key pair (and a subject) for VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and "
        "VAPID_SUBJECT. Set them once: a new pair signs out every browser that enabled "
        "notifications (each must enable them again)."
    )

    def handle(self, *args, **options):
        public, private = vapid_key_pair()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}")
        self.stdout.write(f"VAPID_PRIVATE_KEY={private}")
        self.stdout.write(f"VAPID_SUBJECT=mailto:{settings.BROKERAGE_EMAIL}")

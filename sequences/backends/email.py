"""Email backends without a provider. Console is Django's own; this is the test one."""

from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

REFERENCE_HEADER = "X-RealtyCRM-Message"


class LocmemEmailBackend(EmailBackend):
    """Django's in-memory backend (mail.outbox, pytest-django's `mailoutbox`), which can also
    answer "was this message already handed over?" like a provider with an activity log."""

    def lookup(self, reference: str, *, since) -> str | None:
        for index, message in enumerate(mail.outbox, start=1):
            if message.extra_headers.get(REFERENCE_HEADER) == reference:
                return f"locmem-email-{index}"
        return ""

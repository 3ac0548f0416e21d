"""Email backends without a provider: console (development, readable) and in-memory (tests)."""

from django.core import mail
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend
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


class ConsoleEmailBackend(DjangoConsoleBackend):
    """Writes each email to standard output as a person reads it: who to, the subject, the
    plain-text body. Django's own console backend prints the MIME message, whose UTF-8 body
    ("Zoë", "…") arrives quoted-printable or base64 and whose HTML copy doubles it; in the
    `make run` log that was unreadable. Never touches the network."""

    def write_message(self, message):
        lines = [f"Email to {', '.join(message.to)}", f"From: {message.from_email}"]
        if message.reply_to:
            lines.append(f"Reply-To: {', '.join(message.reply_to)}")
        lines += [f"Subject: {message.subject}", "", message.body.rstrip()]
        if getattr(message, "alternatives", None):
            lines.append("(also sent as HTML)")
        self.stream.write("\n".join(lines) + "\n" + "-" * 60 + "\n")

"""The messaging facade: the one place that talks to the SMS and email backends.

    Sender().send(message)     hand one outbox row to its provider → the provider's id
    Sender().lookup(message)   did any earlier attempt get through? (where the provider can say)

Everything else queues rows with sequences.outbox.message_queue; only the dispatcher sends.
A Sender opens each backend once and reuses it for a whole batch.
"""

import smtplib
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.module_loading import import_string

from leads.names import person_name

from .backends import PermanentError, ProviderError, TransientError
from .backends.email import REFERENCE_HEADER
from .backends.sms import OutgoingSms
from .models import Message
from .unsubscribe import unsubscribe_headers


def status_callback_url() -> str:
    """Where Twilio reports delivery: the public URL, so its signature validates."""
    return f"{settings.SITE_URL}{reverse('sequences:twilio-status')}"


def _message_id_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


class Sender:
    def __init__(self):
        self._sms = None
        self._email = None
        self._status_callback = None

    @property
    def sms(self):
        if self._sms is None:
            self._sms = import_string(settings.SMS_BACKEND)()
        return self._sms

    @property
    def email(self):
        if self._email is None:
            self._email = get_connection(fail_silently=False)
        return self._email

    def send(self, message: Message) -> str:
        if message.channel == Message.Channel.SMS:
            return self.sms.send(self._sms_for(message))
        return self._send_email(message)

    def lookup(self, message: Message, *, since) -> str | None:
        """The provider's id if an attempt since `since` (the message's first attempt) got
        through, "" if none did, None when the provider can never say (SendGrid). Raises a
        ProviderError when the provider could say but cannot be asked right now."""
        if message.channel == Message.Channel.SMS:
            return self.sms.lookup(self._sms_for(message), since=since)
        lookup = getattr(self.email, "lookup", None)
        return lookup(str(message.pk), since=since) if lookup else None

    def _sms_for(self, message: Message) -> OutgoingSms:
        if self._status_callback is None:
            self._status_callback = status_callback_url()
        return OutgoingSms(
            to=message.to,
            body=message.body,
            reference=str(message.pk),
            status_callback=self._status_callback,
        )

    def _send_email(self, message: Message) -> str:
        headers = {
            "Message-ID": make_msgid(f"m{message.pk}", domain=_message_id_domain()),
            REFERENCE_HEADER: str(message.pk),
        }
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers=headers,
            connection=self.email,
        )
        if message.audience == Message.Audience.LEAD:
            email.extra_headers.update(unsubscribe_headers(message.to))
            email.reply_to = [_reply_to(message)]
            html = render_to_string("sequences/email.html", {"body": message.body})
            email.attach_alternative(html, "text/html")
        try:
            email.send()
        except ProviderError:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"Recipient refused: {exc.recipients}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"Email backend error: {exc}") from exc
        return getattr(email, "provider_id", "") or headers["Message-ID"]


def _reply_to(message: Message) -> str:
    """Replies go to the lead's agent when there is one, else to the brokerage."""
    owner = message.lead.owner if message.lead_id and message.lead.owner_id else None
    if owner and owner.email:
        return f"{person_name(owner)} <{owner.email}>"
    return settings.DEFAULT_FROM_EMAIL

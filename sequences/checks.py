"""System checks: sequences settings that would only fail at the first send fail at start-up."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string

from .outbox import SEND_MODES
from .policy import parse_state_windows, parse_window


@register()
def sequences_settings(app_configs, **kwargs):
    errors = []
    try:
        parse_window(settings.SMS_SENDING_HOURS)
        parse_state_windows(settings.SMS_SENDING_HOURS_BY_STATE)
    except ValueError as exc:
        errors.append(Error(f"SMS sending hours: {exc}", id="sequences.E001"))
    try:
        import_string(settings.SMS_BACKEND)
    except ImportError as exc:
        errors.append(Error(f"SMS_BACKEND cannot be imported: {exc}", id="sequences.E002"))
    try:
        import_string(settings.VOICE_BACKEND)
    except ImportError as exc:
        errors.append(Error(f"VOICE_BACKEND cannot be imported: {exc}", id="sequences.E009"))
    if settings.SMS_CAP_PER_NUMBER < 1:
        errors.append(Error("SMS_CAP_PER_NUMBER must be at least 1.", id="sequences.E003"))
    if settings.MESSAGE_LEASE_SECONDS <= settings.PROVIDER_TIMEOUT_SECONDS * 2:
        errors.append(
            Error(
                "MESSAGE_LEASE_SECONDS must be well above PROVIDER_TIMEOUT_SECONDS, or a slow "
                "send could be recovered and sent again.",
                id="sequences.E004",
            )
        )
    if settings.MESSAGE_RETRY_HORIZON_HOURS < 1 or settings.MESSAGE_RETRY_MAX_DELAY_MINUTES < 1:
        errors.append(
            Error(
                "MESSAGE_RETRY_HORIZON_HOURS and MESSAGE_RETRY_MAX_DELAY_MINUTES must be at "
                "least 1.",
                id="sequences.E005",
            )
        )
    if settings.MESSAGE_SEND_AFTER_COMMIT not in SEND_MODES:
        errors.append(
            Error(
                f"MESSAGE_SEND_AFTER_COMMIT must be one of {', '.join(SEND_MODES)}, not "
                f"{settings.MESSAGE_SEND_AFTER_COMMIT!r}.",
                id="sequences.E010",
            )
        )
    return errors


SENDGRID_BACKEND = "sequences.backends.sendgrid.EmailBackend"


@register(Tags.security, deploy=True)
def sendgrid_webhook_signed(app_configs, **kwargs):
    """Unsigned SendGrid events could suppress any address: production takes signed ones only,
    and SendGrid email without them would never hear of a bounce or an unsubscribe."""
    errors = []
    if settings.SENDGRID_WEBHOOK_ALLOW_UNSIGNED:
        errors.append(
            Error(
                "SENDGRID_WEBHOOK_ALLOW_UNSIGNED is on: without a verification key, anyone "
                "could report a bounce or an unsubscribe for any address.",
                hint="Unset SENDGRID_WEBHOOK_ALLOW_UNSIGNED (it is for development only) and "
                "set SENDGRID_WEBHOOK_PUBLIC_KEY.",
                id="sequences.E005",
            )
        )
    if settings.EMAIL_BACKEND == SENDGRID_BACKEND and not settings.SENDGRID_WEBHOOK_PUBLIC_KEY:
        errors.append(
            Error(
                "Email goes through SendGrid but its event webhook has no verification key: "
                "bounces, spam reports and unsubscribes would be refused, and the addresses "
                "emailed again.",
                hint="Turn on the signed event webhook in SendGrid (Mail Settings → Event "
                "Webhook) and set SENDGRID_WEBHOOK_PUBLIC_KEY to its verification key.",
                id="sequences.E006",
            )
        )
    return errors


# Backends that deliver nothing: they print or keep messages in memory, for development and tests.
SMS_BACKENDS_THAT_DO_NOT_SEND = (
    "sequences.backends.sms.ConsoleBackend",
    "sequences.backends.sms.LocmemBackend",
)
EMAIL_BACKENDS_THAT_DO_NOT_SEND = (
    "django.core.mail.backends.console.EmailBackend",
    "sequences.backends.email.ConsoleEmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "sequences.backends.email.LocmemEmailBackend",
)


@register(Tags.security, deploy=True)
def providers_send(app_configs, **kwargs):
    """A deployment on the development defaults would accept leads, show every message as sent
    and deliver none: no acknowledgment, no hot-lead alert, no password reset."""
    errors = []
    if settings.SMS_BACKEND in SMS_BACKENDS_THAT_DO_NOT_SEND:
        errors.append(
            Error(
                f"SMS_BACKEND is {settings.SMS_BACKEND}, which sends no text: every "
                "acknowledgment and every alert to an agent would be marked sent and never "
                "arrive.",
                hint="Set SMS_BACKEND=sequences.backends.twilio.TwilioBackend and its "
                "credentials (docs/deployment.md).",
                id="sequences.E007",
            )
        )
    if settings.EMAIL_BACKEND in EMAIL_BACKENDS_THAT_DO_NOT_SEND:
        errors.append(
            Error(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}, which sends no email: nurture "
                "emails, alert emails and password resets would never arrive.",
                hint="Set EMAIL_BACKEND=sequences.backends.sendgrid.EmailBackend, "
                "SENDGRID_API_KEY and SENDGRID_WEBHOOK_PUBLIC_KEY (docs/deployment.md).",
                id="sequences.E008",
            )
        )
    return errors

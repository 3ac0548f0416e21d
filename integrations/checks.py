"""Deploy checks for the channels: a half-configured channel fails at start-up, not at the first
lead it refuses (or, worse, accepts unsigned)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

MIN_SECRET_LENGTH = 16


@register(Tags.security, deploy=True)
def channel_secrets(app_configs, **kwargs):
    errors = []
    token = settings.INBOUND_EMAIL_TOKEN
    if token and len(token) < MIN_SECRET_LENGTH:
        errors.append(
            Error(
                "INBOUND_EMAIL_TOKEN is short: the inbox URL is its only credential.",
                hint=f"Use at least {MIN_SECRET_LENGTH} random characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(24))').",
                id="integrations.E001",
            )
        )
    if settings.META_VERIFY_TOKEN and not settings.META_APP_SECRET:
        errors.append(
            Error(
                "META_VERIFY_TOKEN is set but META_APP_SECRET is not: Meta's lead notifications "
                "could not be verified, so every one would be refused.",
                hint="Set META_APP_SECRET to the Meta app's secret (App settings → Basic).",
                id="integrations.E002",
            )
        )
    return errors

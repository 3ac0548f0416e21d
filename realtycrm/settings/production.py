"""Production: everything from the environment, HTTPS only, shared cache required.

Required: SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL (PostgreSQL), REDIS_URL, SITE_URL.
Providers: SMS_BACKEND / EMAIL_BACKEND and their credentials (see docs/deployment.md).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    DATABASES,
    EMAIL_BACKEND,
    REDIS_URL,
    SENDGRID_API_KEY,
    SMS_BACKEND,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM_NUMBER,
    TWILIO_MESSAGING_SERVICE_SID,
    TWILIO_VOICE_NUMBER,
    VOICE_BACKEND,
)
from .env import env_bool, env_int, env_list, env_str

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS to the host names this site answers on.")
if not REDIS_URL:
    raise ImproperlyConfigured(
        "Set REDIS_URL: intake rate limits must be shared by every web process."
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not env_bool(
    "ALLOW_SQLITE_IN_PRODUCTION", False
):
    raise ImproperlyConfigured("Set DATABASE_URL to a PostgreSQL database.")

# A provider chosen without its credentials fails here, at start-up, not at the first send.
if SMS_BACKEND == "sequences.backends.twilio.TwilioBackend" and not (
    TWILIO_ACCOUNT_SID
    and TWILIO_AUTH_TOKEN
    and (TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER)
):
    raise ImproperlyConfigured(
        "SMS_BACKEND is Twilio: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
        "TWILIO_MESSAGING_SERVICE_SID (or TWILIO_FROM_NUMBER)."
    )
if VOICE_BACKEND == "sequences.backends.twilio_voice.TwilioVoiceBackend" and not (
    TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and (TWILIO_VOICE_NUMBER or TWILIO_FROM_NUMBER)
):
    raise ImproperlyConfigured(
        "VOICE_BACKEND is Twilio: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
        "TWILIO_VOICE_NUMBER (or TWILIO_FROM_NUMBER)."
    )
if EMAIL_BACKEND == "sequences.backends.sendgrid.EmailBackend" and not SENDGRID_API_KEY:
    raise ImproperlyConfigured("EMAIL_BACKEND is SendGrid: set SENDGRID_API_KEY.")

# Django's own RedisCache increments atomically (INCR); django-ratelimit just does not list it yet.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# HTTPS everywhere. Behind a TLS-terminating proxy, set SECURE_PROXY_SSL_HEADER=1.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# The load balancer's health check, and Prometheus scraping each host directly (its own
# process's figures: docs/deployment.md, "Monitoring"), over the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

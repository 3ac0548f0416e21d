"""Tests: in-memory providers, synchronous tasks, fast hashing. Never touches the network."""

from .base import *  # noqa: F403
from .base import DATABASES, LOGGING, Q_CLUSTER

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-anything-else-0123456789"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "sequences.backends.email.LocmemEmailBackend"
SMS_BACKEND = "sequences.backends.sms.LocmemBackend"
VOICE_BACKEND = "sequences.backends.voice.LocmemVoiceBackend"
TWILIO_VOICE_NUMBER = "+14135550100"  # the brokerage's line, as BROKERAGE_PHONE
# Webhook tests sign their requests with this token; no test reaches Twilio or SendGrid.
TWILIO_AUTH_TOKEN = "test-twilio-auth-token"  # noqa: S105 - signs test webhooks only
TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000000"
TWILIO_MESSAGING_SERVICE_SID = "MG00000000000000000000000000000000"
TWILIO_API_URL = "http://127.0.0.1:9"  # unroutable: a test that forgets its fake server fails
SENDGRID_API_URL = "http://127.0.0.1:9"
SENDGRID_WEBHOOK_PUBLIC_KEY = ""
SENDGRID_WEBHOOK_ALLOW_UNSIGNED = False  # as in production: tests sign their SendGrid events
INBOUND_EMAIL_TOKEN = "test-inbound-email-token"  # noqa: S105 - the tests' inbox URL only
META_VERIFY_TOKEN = "test-meta-verify-token"  # noqa: S105
META_APP_SECRET = "test-meta-app-secret"  # noqa: S105 - signs test webhooks only
META_GRAPH_URL = "http://127.0.0.1:9"  # a test that forgets its fake Graph API fails
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# A second alias for the reports' read replica (realtycrm/routers.py): in tests a mirror of
# default (its own connection to the same test database). The reports read from it only when
# a test sets REPORTS_DATABASE="replica" (tests/reports/test_replica.py).
DATABASES = {**DATABASES, "replica": {**DATABASES["default"], "TEST": {"MIRROR": "default"}}}
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
# Tasks run in the caller, on the ORM broker whatever the environment says (no test needs Redis
# unless it sets it up itself); a message due now is sent in its on-commit hook, so a test sees it
# sent the moment its transaction commits, and a drain is never coalesced away.
Q_CLUSTER = {
    **{key: value for key, value in Q_CLUSTER.items() if key != "redis"},
    "orm": "default",
    "sync": True,
}
MESSAGE_SEND_AFTER_COMMIT = "inline"
MESSAGE_DRAIN_COALESCE_SECONDS = 0
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SITE_URL = "http://testserver"

# Serve static files straight from static/ (browser tests load the real CSS and JS).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# django-axes stays on, as in production: every sign-in a test makes goes through the same
# backends and lockout. Tests sign in with force_login (no authenticate(), so no request needed);
# one that wants client.login() passes request=HttpRequest() with the credentials.

# django-q2 logs every task at INFO, and django-axes every failed sign-in at WARNING; in tests that
# is noise around the failures that matter.
LOGGING = {
    **LOGGING,
    "loggers": {
        **LOGGING["loggers"],
        "django-q": {"level": "WARNING"},
        "axes": {"level": "ERROR"},
    },
}

# Web Push: off unless a test turns it on with its own keys (tests/alerts/conftest.py); a failed
# push is retried at once, not after seconds.
VAPID_PUBLIC_KEY = VAPID_PRIVATE_KEY = VAPID_SUBJECT = ""
PUSH_RETRY_DELAYS_SECONDS = (0, 0)

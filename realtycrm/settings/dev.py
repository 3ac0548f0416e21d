"""Development: no configuration needed. SQLite, console providers, DEBUG on."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
# A SendGrid test webhook pointed at a laptop arrives unsigned; production refuses this setting.
SENDGRID_WEBHOOK_ALLOW_UNSIGNED = env_bool("SENDGRID_WEBHOOK_ALLOW_UNSIGNED", True)

# One runserver process: a process-local cache is enough to hold the intake rate limit here.
# Production requires REDIS_URL so every web process shares the count.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Serve static files straight from static/ (no collectstatic in development).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

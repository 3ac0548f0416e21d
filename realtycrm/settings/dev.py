"""Development: no configuration needed. SQLite, console providers, DEBUG on."""

from .base import *  # noqa: F403
from .env import env_bool, env_int, env_str

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

# Links in messages (alerts' "open the lead", unsubscribe links) point at the server `make run`
# starts and prints: http://127.0.0.1:PORT (bin/run passes PORT to runserver and the worker).
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{env_int('PORT', 8000)}").rstrip("/")

# `make run`'s log: the texts and emails the console backends print, each request a person made
# (pages, POSTs, errors), the worker starting and stopping, warnings. Not: static files and
# polls, the worker's task-by-task lines (realtycrm/logs.py), django-axes' start-up banner.
LOGGING = {
    **LOGGING,  # noqa: F405
    "formatters": {
        **LOGGING["formatters"],  # noqa: F405
        "request": {"format": "[%(server_time)s] %(message)s"},
    },
    "filters": {
        **LOGGING["filters"],  # noqa: F405
        "quiet_requests": {"()": "realtycrm.logs.QuietRequests"},
        "quiet_worker": {"()": "realtycrm.logs.QuietWorker"},
    },
    "handlers": {
        **LOGGING["handlers"],  # noqa: F405
        "requests": {
            "class": "logging.StreamHandler",
            "formatter": "request",
            "filters": ["quiet_requests"],
        },
    },
    "loggers": {
        **LOGGING["loggers"],  # noqa: F405
        "django.server": {"handlers": ["requests"], "level": "INFO", "propagate": False},
        # Django's own console handler would print each warning a second time beside ours.
        "django": {"handlers": [], "level": "INFO"},
        "django-q": {"level": "INFO", "filters": ["quiet_worker"]},
        "axes": {"level": "WARNING"},
        "django.utils.autoreload": {"level": "WARNING"},
    },
}

"""Settings shared by every environment. Anything that differs between machines is an env var."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "django-insecure-development-only-never-deploy-this-key")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Public base URL (scheme and host), used in links inside messages and to validate webhooks.
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "django_q",
    "axes",
    "leads",
    "sequences",
    "alerts",
    "reports",
    "realtycrm.flows",
    "integrations",
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Webhook failures and invalid form POSTs, counted for /metrics (every answer, 429s too).
    "realtycrm.middleware.MetricsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # private, no-store on everything but the public pages; the dashboard's CSP.
    "realtycrm.middleware.PrivatePagesMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last: turns a locked-out sign-in into the locked-out page (templates/registration/).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "realtycrm.urls"
WSGI_APPLICATION = "realtycrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "realtycrm.context_processors.brokerage",
                "realtycrm.context_processors.alerts",
            ],
            # |when, |day, |time_of_day, |duration, |money in every template (realtycrm.formats).
            "builtins": ["realtycrm.template_filters"],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# SQLite by default; PostgreSQL (psycopg 3) when DATABASE_URL says so. On several hosts
# (docs/deployment.md) every process points at the same PostgreSQL, directly or through
# pgbouncer.
#
# DATABASE_CONN_MAX_AGE: seconds a process keeps its connection between requests (0: one per
# request). DATABASE_CONN_HEALTH_CHECKS: check a kept connection before reusing it, so a
# restarted server or pgbouncer costs one failed ping, not one failed request.
#
# DATABASE_POOLING=transaction: DATABASE_URL is a pgbouncer in transaction pooling mode, where
# consecutive transactions of one Django connection may run on different server connections.
# A server-side cursor (what .iterator() uses on PostgreSQL: the imports, the exports, the
# campaigns) lives across transactions and would break, so they are disabled. (Prepared
# statements, the other thing transaction pooling breaks, Django's psycopg 3 backend never
# makes: client-side binding and prepare_threshold=None are its defaults.) Leave it unset when
# connecting to PostgreSQL directly, or through pgbouncer in session mode.
DATABASE_POOLING = env_str("DATABASE_POOLING", "")
if DATABASE_POOLING not in ("", "session", "transaction"):
    raise ImproperlyConfigured("DATABASE_POOLING must be empty, session or transaction.")


def _database(url_env: str, default: str | None = None) -> dict:
    config = dj_database_url.config(
        env=url_env,
        default=default,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
    )
    if (
        config.get("ENGINE") == "django.db.backends.postgresql"
        and DATABASE_POOLING == "transaction"
    ):
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config


DATABASES = {"default": _database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the django-q2 worker write side by side. WAL lets readers run during a
    # write; IMMEDIATE takes the write lock when a transaction starts (no upgrade deadlocks), and
    # the timeout makes a writer wait its turn instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }

# REPORTS_DATABASE_URL: an optional read replica (a PostgreSQL hot standby of DATABASE_URL) for
# the report pages' reads (/reports/, its CSVs, the admin's report). realtycrm/routers.py sends
# only those there; every write and every other read stays on default. A replica lags its
# primary by a moment, which a report over weeks does not notice. In tests it mirrors default.
if env_str("REPORTS_DATABASE_URL", ""):
    DATABASES["replica"] = _database("REPORTS_DATABASE_URL")
    REPORTS_DATABASE = "replica"
else:
    REPORTS_DATABASE = "default"
DATABASE_ROUTERS = ["realtycrm.routers.ReportsReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits) --------------------------------------------------------------------------
# REDIS_URL: the cache every process shares. It holds the per-IP rate limits (django-ratelimit:
# intake forms, sign-in, password resets), so a limit counts a client's requests to every web
# process on every host, and the dashboard's small read caches (leads.selectors). Production
# requires it; without it (development, one process) a process-local cache does.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Several deployments (or test runs) may share one Redis: each its own prefix.
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "realtycrm"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth ---------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in throttling (django-axes; docs/security.md) --------------------------------------------
# Axes checks every authenticate() call (the dashboard's /accounts/login/ and /admin/login/ alike)
# and keeps the failures in the database, so every web process sees the same count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out username + address first
    "django.contrib.auth.backends.ModelBackend",
]
# Locked per username *and* client address: per username alone, anyone could lock an agent out
# by typing their name five times; per address alone, one fumbling agent would lock out the whole
# office behind its shared IP. Guessing at many usernames from one address is capped by
# LOGIN_RATE_LIMIT below.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True  # a correct password clears that username's earlier slips
AXES_CLIENT_IP_CALLABLE = "realtycrm.http.client_ip"  # the same TRUSTED_PROXY_COUNT rule
AXES_LOCKOUT_CALLABLE = "realtycrm.views.login_locked_out"  # a page that says when to retry
# Sign-in POSTs per client address over both sign-in forms, whatever the username (slows
# password spraying: a few guesses each at many usernames).
LOGIN_RATE_LIMIT = env_str("LOGIN_RATE_LIMIT", "30/15m")
# Password reset requests: per address asked for, and per client address.
PASSWORD_RESET_RATE_PER_EMAIL = env_str("PASSWORD_RESET_RATE_PER_EMAIL", "3/h")
PASSWORD_RESET_RATE_PER_IP = env_str("PASSWORD_RESET_RATE_PER_IP", "10/h")

# --- Locale -------------------------------------------------------------------------------------
# The brokerage's conventions: US English by default ("neighborhood", "Dec 1, 8:00 a.m.", $1,234);
# en-gb reads "1 Dec, 08:00". Dates and times on every page come from realtycrm/formats.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en-us")
FORMAT_MODULE_PATH = ["realtycrm.formats"]
CURRENCY_SYMBOL = env_str("CURRENCY_SYMBOL", "$")
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static files (WhiteNoise: compressed, cache-busted, no separate server) ---------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Forms --------------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- The brokerage (shown in forms, footers and messages) ---------------------------------------
BROKERAGE_NAME = env_str("BROKERAGE_NAME", "Harbor & Main Realty")
BROKERAGE_ADDRESS = env_str(
    "BROKERAGE_ADDRESS", "100 Main Street, Suite 200, Springfield, MA 01103"
)
BROKERAGE_PHONE = env_str("BROKERAGE_PHONE", "+14135550100")
BROKERAGE_EMAIL = env_str("BROKERAGE_EMAIL", "hello@harborandmain.example")
# Region used to read phone numbers typed without a country code (ISO 3166 code, e.g. US, CA, GB).
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "US")

# --- Intake forms -------------------------------------------------------------------------------
# POSTs per client IP; an open-house kiosk on venue wifi shares one IP, so leave room for it.
INTAKE_RATE_LIMIT = env_str("INTAKE_RATE_LIMIT", "20/10m")
# A human needs a few seconds to fill a form; a faster POST (or browser autofill) that looks like
# a person becomes a lead marked for review.
INTAKE_MIN_FILL_SECONDS = env_int("INTAKE_MIN_FILL_SECONDS", 3)
# How long a form's signed token (it stands in for the CSRF cookie) stays good.
INTAKE_FORM_TOKEN_HOURS = env_int("INTAKE_FORM_TOKEN_HOURS", 24)
# Origins allowed to frame the ?embed=1 forms (e.g. https://www.your-brokerage.com).
INTAKE_FRAME_ANCESTORS = env_list("INTAKE_FRAME_ANCESTORS")
# Kiosk mode (?kiosk=1, an open-house tablet): the thank-you page goes back to an empty form after
# this many seconds, and a form a visitor left half-filled is emptied after this many idle ones.
INTAKE_KIOSK_RESET_SECONDS = env_int("INTAKE_KIOSK_RESET_SECONDS", 8)
INTAKE_KIOSK_IDLE_SECONDS = env_int("INTAKE_KIOSK_IDLE_SECONDS", 120)

# --- Dashboard pages (realtycrm/middleware.py) ------------------------------------------------------
# Every script, style, image and request from this origin; nothing inline, no framing. Bootstrap's
# CSS draws its icons (the menu button, a select's arrow) as data: images.
DASHBOARD_CSP = env_str(
    "DASHBOARD_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
)

# --- Rate limiting (django-ratelimit) -----------------------------------------------------------
RATELIMIT_VIEW = "leads.views.ratelimited"
RATELIMIT_IP_META_KEY = "realtycrm.http.client_ip"
# Behind N trusted proxies the client address is the Nth from the right of X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- Email --------------------------------------------------------------------------------------
# Console: each email printed as a person reads it (sequences.backends.email.ConsoleEmailBackend).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "sequences.backends.email.ConsoleEmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{BROKERAGE_NAME} <{BROKERAGE_EMAIL}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Messaging providers and sequences (docs/sequences.md) --------------------------------------
# SMS mirrors EMAIL_BACKEND: console by default (never touches the network), Twilio in production
# (sequences.backends.twilio.TwilioBackend); email through SendGrid with
# EMAIL_BACKEND=sequences.backends.sendgrid.EmailBackend.
SMS_BACKEND = env_str("SMS_BACKEND", "sequences.backends.sms.ConsoleBackend")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
TWILIO_API_URL = env_str("TWILIO_API_URL", "https://api.twilio.com")
SENDGRID_API_KEY = env_str("SENDGRID_API_KEY", "")
SENDGRID_API_URL = env_str("SENDGRID_API_URL", "https://api.sendgrid.com")
# The signed event webhook's verification key (SendGrid → Mail Settings → Event Webhook). Without
# it every event is refused (403): unsigned, anyone could "unsubscribe" any address. Development
# settings allow unsigned events instead (SENDGRID_WEBHOOK_ALLOW_UNSIGNED); `check --deploy`
# fails on that, and on SendGrid email without a key.
SENDGRID_WEBHOOK_PUBLIC_KEY = env_str("SENDGRID_WEBHOOK_PUBLIC_KEY", "")
SENDGRID_WEBHOOK_ALLOW_UNSIGNED = env_bool("SENDGRID_WEBHOOK_ALLOW_UNSIGNED", False)
# A signed call whose timestamp is further than this from now is refused (a replay).
SENDGRID_WEBHOOK_MAX_AGE_SECONDS = env_int("SENDGRID_WEBHOOK_MAX_AGE_SECONDS", 600)
PROVIDER_TIMEOUT_SECONDS = env_int("PROVIDER_TIMEOUT_SECONDS", 10)
# Texts to leads arrive only in these hours of the recipient's local time (where the number's
# area code is: sequences/data/nanp_area_codes.csv). Stricter windows per state, by postal code or
# name ("FL=08:00-20:00,Oklahoma=08:00-20:00"); the defaults are the states whose laws end texts
# at 20:00: Fla. Stat. § 501.059(8)(a), Okla. Stat. tit. 15 § 775C.4, Md. Code, Com. Law
# § 14-4503 (docs/sequences.md, "Quiet hours"). Setting the variable replaces the whole list.
SMS_SENDING_HOURS = env_str("SMS_SENDING_HOURS", "08:00-21:00")
SMS_SENDING_HOURS_BY_STATE = env_str(
    "SMS_SENDING_HOURS_BY_STATE", "FL=08:00-20:00,OK=08:00-20:00,MD=08:00-20:00"
)
# Automated texts per destination number per 24 hours (a bot cannot pump paid texts).
SMS_CAP_PER_NUMBER = env_int("SMS_CAP_PER_NUMBER", 3)
# A re-inquiry within this many hours of the last acknowledgment gets no second one.
SEQUENCES_REACK_WINDOW_HOURS = env_int("SEQUENCES_REACK_WINDOW_HOURS", 72)
# A claimed message belongs to its worker this long; then the scheduler recovers it.
MESSAGE_LEASE_SECONDS = env_int("MESSAGE_LEASE_SECONDS", 300)
# A transient failure (an outage, a rate limit, a dead worker) never ends a message: it is tried
# again after 1, 2, 4, 8 … minutes, at most MESSAGE_RETRY_MAX_DELAY_MINUTES apart, until it goes
# or this many hours have passed since its first attempt; then it is `expired`, for a broker to
# send again.
MESSAGE_RETRY_HORIZON_HOURS = env_int("MESSAGE_RETRY_HORIZON_HOURS", 24)
MESSAGE_RETRY_MAX_DELAY_MINUTES = env_int("MESSAGE_RETRY_MAX_DELAY_MINUTES", 30)
# The backoff's unit: a "minute" of the delays above, in seconds. Only the fault harness
# (bench/faults.py) changes it, to 1, so that an outage of an hour passes in a minute.
MESSAGE_RETRY_BASE_SECONDS = env_int("MESSAGE_RETRY_BASE_SECONDS", 60)
# How long one drain task sends before handing over to a fresh one (below Q_CLUSTER timeout).
MESSAGE_DISPATCH_BUDGET_SECONDS = env_int("MESSAGE_DISPATCH_BUDGET_SECONDS", 40)
# How a message due now leaves after the commit that queued it (docs/performance.md, "Dispatch"):
#   thread  this process's sender threads claim and send it a moment later, while the request
#           returns; when they are full it goes to the worker as below (the default: measured
#           fastest on both databases with gunicorn, bench/burst.py)
#   worker  a drain task for the django-q2 worker, coalesced (one per
#           MESSAGE_DRAIN_COALESCE_SECONDS per process, not one per message)
#   inline  sent in the on-commit hook itself, before the response (the tests: deterministic)
# Whichever: the row is the record, and the every-minute sweep sends anything a dead process left.
MESSAGE_SEND_AFTER_COMMIT = env_str("MESSAGE_SEND_AFTER_COMMIT", "thread")
# Sender threads per process, and how many messages may wait for them before the worker gets the
# rest (each thread claims up to 10 at a time; a provider's round trip is about 0.2 s).
MESSAGE_SENDER_THREADS = env_int("MESSAGE_SENDER_THREADS", 2)
MESSAGE_SENDER_QUEUE = env_int("MESSAGE_SENDER_QUEUE", 500)
MESSAGE_DRAIN_COALESCE_SECONDS = env_int("MESSAGE_DRAIN_COALESCE_SECONDS", 1)

# --- Call-connect (docs/dashboard.md, "Calling a lead") -------------------------------------------
# "Call" rings the agent's own phone (Agent.phone) first, says who the lead is, and on 1 dials the
# lead from the brokerage's number. VOICE_BACKEND mirrors SMS_BACKEND: console by default (logs
# the call; the lead page can play its answer, so `make run` needs no Twilio), in-memory in tests,
# sequences.backends.twilio_voice.TwilioVoiceBackend in production (TWILIO_ACCOUNT_SID and
# TWILIO_AUTH_TOKEN as for texts).
VOICE_BACKEND = env_str("VOICE_BACKEND", "sequences.backends.voice.ConsoleVoiceBackend")
# The number that rings the agent and that the lead sees (a Twilio voice number of the
# brokerage's); TWILIO_FROM_NUMBER when unset.
TWILIO_VOICE_NUMBER = env_str("TWILIO_VOICE_NUMBER", "")
# Record connected calls. Off unless the brokerage turns it on (some states need every party's
# consent): then both sides hear "This call may be recorded." before they are connected.
CALL_RECORDING = env_bool("CALL_RECORDING", False)
# How long the "connect a call" link in an alert's text and email works (only ever for the agent
# it was sent to, signed in; an alert held through quiet hours still has most of a day left).
CALL_LINK_HOURS = env_int("CALL_LINK_HOURS", 24)
# --- Reactivation campaigns (docs/reactivation.md) -------------------------------------------------
# A contact's personal link to the reactivation form stops working after this many days.
REACTIVATION_LINK_DAYS = env_int("REACTIVATION_LINK_DAYS", 60)
# Contacts whose messages one background task queues at a time.
REACTIVATION_BATCH_SIZE = env_int("REACTIVATION_BATCH_SIZE", 500)

# --- Appointments and the calendar feed (docs/dashboard.md) ----------------------------------------
# The agent's reminder (a text, or an email when they have no phone) this many minutes before an
# appointment; the lead's reminder (email, and a text with consent, out of quiet hours) this many
# hours before: the day before. 0 turns one off.
APPOINTMENT_AGENT_REMINDER_MINUTES = env_int("APPOINTMENT_AGENT_REMINDER_MINUTES", 60)
APPOINTMENT_LEAD_REMINDER_HOURS = env_int("APPOINTMENT_LEAD_REMINDER_HOURS", 24)
# What an agent's calendar feed holds: from this many days ago to this many days ahead.
CALENDAR_FEED_PAST_DAYS = env_int("CALENDAR_FEED_PAST_DAYS", 30)
CALENDAR_FEED_FUTURE_DAYS = env_int("CALENDAR_FEED_FUTURE_DAYS", 365)

# --- Lead channels (docs/channels.md) -------------------------------------------------------------
# Portal email: SendGrid Inbound Parse posts to /inbound/email/<INBOUND_EMAIL_TOKEN>/ (unset: off).
INBOUND_EMAIL_TOKEN = env_str("INBOUND_EMAIL_TOKEN", "")
# A post longer than this is not read (its first 64 KB are kept for a broker); SendGrid's own cap
# is 30 MB with attachments. Text fields are also bound by DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB).
INBOUND_EMAIL_MAX_BYTES = env_int("INBOUND_EMAIL_MAX_BYTES", 10 * 1024 * 1024)
# Meta lead ads: the webhook's verify token and the app secret that signs its posts (unset: off);
# leads are fetched from the Graph API with the page's token (admin) or META_PAGE_ACCESS_TOKEN.
META_VERIFY_TOKEN = env_str("META_VERIFY_TOKEN", "")
META_APP_SECRET = env_str("META_APP_SECRET", "")
META_GRAPH_URL = env_str("META_GRAPH_URL", "https://graph.facebook.com/v21.0").rstrip("/")
META_PAGE_ACCESS_TOKEN = env_str("META_PAGE_ACCESS_TOKEN", "")

# --- Imports of a brokerage's old database (docs/database.md) --------------------------------------
# The largest file the import page accepts, and the most rows one import takes.
IMPORT_MAX_UPLOAD_MB = env_int("IMPORT_MAX_UPLOAD_MB", 25)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)
# How long one import task works (dry run, import or undo, chunk by chunk) before handing over to
# a fresh task: below Q_CLUSTER timeout, so a big file never runs into it.
IMPORT_TASK_BUDGET_SECONDS = env_int("IMPORT_TASK_BUDGET_SECONDS", 40)

# --- Bulk actions on the leads list (docs/dashboard.md) ----------------------------------------
# A selection of up to this many leads is changed during the request; a larger one becomes a
# background job (leads.BulkJob) whose progress the page polls.
BULK_SYNC_LIMIT = env_int("BULK_SYNC_LIMIT", 200)
# Leads changed per transaction: the job's cursor moves with each chunk, so a crash redoes none.
BULK_CHUNK_SIZE = env_int("BULK_CHUNK_SIZE", 500)
# How long one bulk task works before handing over to a fresh one (below Q_CLUSTER timeout).
BULK_TASK_BUDGET_SECONDS = env_int("BULK_TASK_BUDGET_SECONDS", 40)

# --- Background work (django-q2) -------------------------------------------------------------------
# The broker: Redis where REDIS_URL is set (no polling: a task starts the moment it is queued),
# else the ORM broker (nothing else to run). Q_BROKER=orm keeps the ORM broker beside a Redis
# cache. Either way the outbox, not the queue, is the record of what must be sent: a task the
# Redis broker loses (a worker killed holding it) is made good by the every-minute sweep.
Q_BROKER = env_str("Q_BROKER", "redis" if REDIS_URL else "orm")
Q_CLUSTER = {
    "name": "realtycrm",
    **({"redis": REDIS_URL} if Q_BROKER == "redis" else {"orm": "default"}),
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 60,  # a task running longer than this is killed...
    "retry": 90,  # ...and redelivered after this, so retry must exceed timeout
    "max_attempts": 5,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    "poll": 1,
    "label": "Background tasks",
    # django-q2 1.11 runs the scheduler (Schedule rows → tasks, about every 30 s) in every
    # qcluster's guard loop. Its select_for_update keeps two from running one schedule twice,
    # but run exactly one: Q_SCHEDULER=false on every qcluster but one (docs/deployment.md).
    "scheduler": env_bool("Q_SCHEDULER", True),
}

# --- Logs and monitoring (docs/deployment.md, "Monitoring") ---------------------------------------
# LOG_FORMAT=json: one JSON object a line (timestamp, level, logger, message and the lead_id,
# message_id or submission_id the line is about: realtycrm.logs), for a log collector; plain
# lines for a person otherwise.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
# /metrics (Prometheus): off (404) unless METRICS_TOKEN is set; then only a request with
# `Authorization: Bearer <token>`, and, if set, from one of METRICS_ALLOWED_NETWORKS (CIDRs, e.g.
# 10.0.0.0/8). Events counted by several processes on one host add up through the files in
# PROMETHEUS_MULTIPROC_DIR (read from the environment by prometheus_client itself).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS")
# /healthz fails its scheduler check when a django-q2 schedule is this many minutes past its next
# run (the scheduler runs every-minute schedules; a few minutes late means it stopped).
HEALTHZ_SCHEDULER_STALE_MINUTES = env_int("HEALTHZ_SCHEDULER_STALE_MINUTES", 5)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"log_context": {"()": "realtycrm.logs.LogContext"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "realtycrm.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["log_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Alerts (docs/alerts.md) ---------------------------------------------------------------------
# The escalation ladder per intent, in minutes after an alert that nobody acknowledged: re-alert
# the owner by SMS, alert the broker (or the rule's backup), then reassign the lead. Steps run in
# this order; an intent missing here never escalates.
ALERT_ESCALATION = {
    "hot": {
        "remind_owner": env_int("ALERT_REMIND_MINUTES", 5),
        "alert_broker": env_int("ALERT_BROKER_MINUTES", 15),
        "reassign": env_int("ALERT_REASSIGN_MINUTES", 30),
    },
}
# A hot lead asking again within this window re-alerts its owner once, not once per form.
ALERT_REINQUIRY_WINDOW_MINUTES = env_int("ALERT_REINQUIRY_WINDOW_MINUTES", 60)
# Alert texts to one agent per clock hour; past it, that hour's further alerts are grouped into one
# "N new hot leads" text at the end of the hour (the alerts and their emails still go at once).
ALERT_SMS_PER_AGENT_PER_HOUR = env_int("ALERT_SMS_PER_AGENT_PER_HOUR", 10)
# First to claim, for rules that do not say: minutes before an unclaimed lead goes to the fallback.
ALERT_CLAIM_MINUTES = env_int("ALERT_CLAIM_MINUTES", 5)
# How often open tabs poll for new alerts.
ALERT_POLL_SECONDS = env_int("ALERT_POLL_SECONDS", 5)

# --- Notifications on the phone: Web Push (docs/alerts.md, "Notifications on the phone") ---------
# The VAPID key pair that signs every push (`manage.py vapid_keys` prints a new one) and the
# contact the push services may write to (mailto: or https:). Unset: no push, nothing else changes.
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY", "")
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY", "")
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "")
# How long a push service keeps an alert for a phone that is off or offline: past this, the
# escalation ladder has moved on (the broker was told at 15 minutes, the lead reassigned at 30).
PUSH_TTL_SECONDS = env_int("PUSH_TTL_SECONDS", 30 * 60)
# A push that failed for a passing reason (a timeout, 429, 5xx) is tried again after each of these
# delays, then given up (the text and the email still carry the alert). Three tries of at most
# PROVIDER_TIMEOUT_SECONDS each, plus these, stay below Q_CLUSTER's timeout.
PUSH_RETRY_DELAYS_SECONDS = (2, 8)
# Where a browser's subscription may point: the push services of Chrome/Android, Firefox, Edge
# and Safari/iOS (a host and its subdomains, HTTPS). The server POSTs to whatever a subscription
# names, so nothing else is accepted.
PUSH_SERVICE_HOSTS = env_list(
    "PUSH_SERVICE_HOSTS",
    "fcm.googleapis.com,android.googleapis.com,push.services.mozilla.com,notify.windows.com,"
    "push.apple.com",
)
# The devices one user may have subscribed at once; a new one past this replaces the oldest.
PUSH_DEVICES_PER_USER = env_int("PUSH_DEVICES_PER_USER", 10)
# The installed app's name under its icon (short); the brokerage's name when unset.
WEBAPP_SHORT_NAME = env_str("WEBAPP_SHORT_NAME", "")

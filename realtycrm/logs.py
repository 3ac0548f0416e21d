"""The logs: what `make run`'s log leaves out (the requests a person never made), and the
structured format for production (JSON lines naming the lead, message or submission).

runserver logs every request. A dashboard tab asks for its static files on each page, polls the
alert feed every few seconds and refreshes Today's sections, a lead's messages panel and an
import's progress on its own; with two tabs open those lines buried the texts and emails the
console backends print. QuietRequests drops them (successful GETs of static files and polls);
every page opened, every POST and every error is still logged.
"""

import json
import logging
import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import wraps

QUIET_PATHS = re.compile(
    r"^/(?:"
    r"static/|favicon\.ico"
    r"|alerts/feed/"  # the badge and toasts, every ALERT_POLL_SECONDS
    r"|today/[\w-]+/"  # a Today section refreshing itself
    r"|leads/\d+/messages/\?poll="  # a lead's messages while one is on its way
    r"|imports/\d+/progress/"
    r"|campaigns/\d+/progress/"
    r")"
)
REQUEST_LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<path>\S+)")


class QuietRequests(logging.Filter):
    """For the django.server logger: drop a successful GET of a static file or a poll."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status >= 400:
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        found = REQUEST_LINE.match(str(args[0])) if args else None
        if found is None or found["method"] not in ("GET", "HEAD"):
            return True
        return not QUIET_PATHS.match(found["path"])


# django-q2's line for every task it schedules, hands to a process and finishes: with the
# every-minute scheduler, several lines a minute that say nothing went wrong.
WORKER_CHATTER = re.compile(
    r"^(?:Enqueued |Processed |Process-\w+ (?:created task|processing|ready for work|monitoring"
    r"|pushing tasks|guarding cluster))"
)


class QuietWorker(logging.Filter):
    """For the django-q logger: keep the cluster starting and stopping, warnings and errors;
    drop the routine task-by-task lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not WORKER_CHATTER.match(record.getMessage())


# --- Structured logs (LOG_FORMAT=json; docs/deployment.md, "Monitoring") -------------------------
# The ids a log line is about. Set for the length of one use case by the decorators below (intake
# of one submission, the dispatch of one message), so every line logged inside it, by any module,
# names them; a line may also give them itself with `extra={"lead_id": ...}`.
CONTEXT_FIELDS = ("lead_id", "message_id", "submission_id")
_context: ContextVar[dict | None] = ContextVar("realtycrm_log_context", default=None)


@contextmanager
def log_context(**ids):
    """Every log line inside the block carries these ids (None ones are left out)."""
    token = _context.set(
        {**(_context.get() or {}), **{k: v for k, v in ids.items() if v is not None}}
    )
    try:
        yield
    finally:
        _context.reset(token)


def about_message(function):
    """For a function whose first argument is a sequences.Message: its lines name the message and
    its lead."""

    @wraps(function)
    def wrapper(message, *args, **kwargs):
        with log_context(message_id=message.pk, lead_id=message.lead_id):
            return function(message, *args, **kwargs)

    return wrapper


class LogContext(logging.Filter):
    """Puts the current context's ids on every record that does not carry them already."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (_context.get() or {}).items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: timestamp (UTC, ISO 8601), level, logger, message, the ids it is
    about, and the exception's traceback when there is one. For log collectors (LOG_FORMAT=json);
    the plain format stays the default for people reading a console."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)

"""What `make run`'s log leaves out: the requests a person never made.

runserver logs every request. A dashboard tab asks for its static files on each page, polls the
alert feed every few seconds and refreshes Today's sections, a lead's messages panel and an
import's progress on its own; with two tabs open those lines buried the texts and emails the
console backends print. QuietRequests drops them (successful GETs of static files and polls);
every page opened, every POST and every error is still logged.
"""

import logging
import re

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

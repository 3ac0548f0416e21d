"""Which database a query goes to: the reports' reads to a read replica, when there is one.

A brokerage that outgrows one box can point REPORTS_DATABASE_URL at a PostgreSQL streaming
replica (docs/deployment.md). The settings then define DATABASES["replica"] and
REPORTS_DATABASE = "replica"; without it REPORTS_DATABASE is "default" and nothing changes.

Only the report's own reads move: the code that builds a report runs inside `reports_reads()`
(reports.sql.reporting_transaction enters it), and while it does, every ORM read, whatever
model, goes to REPORTS_DATABASE; the report's raw SQL follows (reports.sql uses the
queryset's database). Everything else reads from "default", and every write, inside the block
or not, goes to "default": a replica is read-only, and a read that follows a write must see it.
A context variable rather than a per-model rule, because a report reads leads, messages,
alerts and users alike, and the same models are read by pages that must not lag.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

DEFAULT = "default"
_reading_reports: ContextVar[bool] = ContextVar("reading_reports", default=False)


def reports_database() -> str:
    """The alias the reports read from: "replica" when REPORTS_DATABASE_URL is set."""
    return getattr(settings, "REPORTS_DATABASE", DEFAULT)


@contextmanager
def reports_reads() -> Iterator[str]:
    """Within the block, ORM reads go to the reports' database (yielded); writes stay on
    default. Nests, and ends with the block even on an error."""
    token = _reading_reports.set(True)
    try:
        yield reports_database()
    finally:
        _reading_reports.reset(token)


class ReportsReplicaRouter:
    """DATABASE_ROUTERS' only entry (realtycrm.settings.base)."""

    def db_for_read(self, model, **hints):
        # None elsewhere: Django's own choice (the instance's database, else default).
        return reports_database() if _reading_reports.get() else None

    def db_for_write(self, model, **hints):
        return DEFAULT

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of default: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT  # the replica receives the schema from its primary

"""Shared test set-up: in-memory providers, a clean cache for every test; a way to run calls at
the same instant."""

import threading

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connections


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need row locks across connections; on SQLite they are skipped
    before any database set-up runs."""
    if "postgresql" in django_settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (this run is on SQLite)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; no test should inherit another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _in_memory_providers(settings):
    """No test reaches Twilio or SendGrid: texts and emails land in memory (pytest-django's
    test environment would otherwise swap in Django's plain locmem email backend)."""
    from sequences.backends import sms

    settings.SMS_BACKEND = "sequences.backends.sms.LocmemBackend"
    settings.EMAIL_BACKEND = "sequences.backends.email.LocmemEmailBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def sms_outbox():
    """Texts handed to the SMS backend in this test, like pytest-django's `mailoutbox`."""
    from sequences.backends import sms

    return sms.outbox


# --- Races (PostgreSQL) --------------------------------------------------------------------------


@pytest.fixture
def run_together():
    """`run_together(*calls)` runs each call in a thread of its own, all released at once from a
    barrier, and returns what they returned, in order. A call that raised fails the test. Each
    thread closes its database connections, or the test database could not be dropped."""

    def run_together(*calls):
        start = threading.Barrier(len(calls), timeout=10)
        results = [None] * len(calls)
        errors = []

        def run(index, call):
            try:
                start.wait()
                results[index] = call()
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []  # noqa: S101 - test code; ruff exempts only tests/
        return results

    return run_together

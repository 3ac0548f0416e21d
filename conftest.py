"""Shared test set-up: in-memory providers, a clean cache for every test; the people tests log
in as, a stopped clock, and a way to run calls at the same instant."""

import threading

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connections

from tests.factories import AgentFactory
from tests.moments import NOON


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need row locks across connections; on SQLite they are skipped
    before any database set-up runs. And transactional tests with serialized_rollback run
    before the other transactional ones: a transactional test without it ends with a flush
    after which the content types are created again under new ids, and a serialized test
    after it would restore the old rows beside them and fail on their unique name.
    (pytest-django sorted already, TestCase-style tests first; the sort below is stable.)"""
    items.sort(key=_run_order)
    if "postgresql" in django_settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (this run is on SQLite)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _run_order(item) -> int:
    marker = item.get_closest_marker("django_db")
    options = marker.kwargs if marker else {}
    fixtures = getattr(item, "fixturenames", [])
    transactional = options.get("transaction") or options.get("reset_sequences")
    if transactional or "live_server" in fixtures or "transactional_db" in fixtures:
        return 1 if options.get("serialized_rollback") else 2
    return 0 if marker or "db" in fixtures else 3


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
    from sequences.backends import sms, voice

    settings.SMS_BACKEND = "sequences.backends.sms.LocmemBackend"
    settings.EMAIL_BACKEND = "sequences.backends.email.LocmemEmailBackend"
    settings.VOICE_BACKEND = "sequences.backends.voice.LocmemVoiceBackend"
    sms.outbox.clear()
    voice.outbox.clear()
    yield
    sms.outbox.clear()
    voice.outbox.clear()


@pytest.fixture
def sms_outbox():
    """Texts handed to the SMS backend in this test, like pytest-django's `mailoutbox`."""
    from sequences.backends import sms

    return sms.outbox


@pytest.fixture
def call_outbox():
    """Calls handed to the voice backend in this test (call-connect rings the agent's phone)."""
    from sequences.backends import voice

    return voice.outbox


# --- The people: Alex and Sam are agents, Morgan is the broker -----------------------------------
# Fixed names, usernames and phones (an agent's phone must never collide with a test lead's).
# Nobody is logged in until a test asks for `agent` or `broker_client`.


@pytest.fixture
def alex(db):
    """An agent, Alex Rivera (username "alex"): the User."""
    return AgentFactory(
        user__username="alex",
        user__first_name="Alex",
        user__last_name="Rivera",
        phone="+14135550102",
    ).user


@pytest.fixture
def sam(db):
    """Alex's colleague, Sam Chen (username "sam"): the User."""
    return AgentFactory(
        user__username="sam", user__first_name="Sam", user__last_name="Chen", phone="+14135550103"
    ).user


@pytest.fixture
def broker(db):
    """The broker, Morgan Blake (username "morgan"), who sees every lead: the User."""
    return AgentFactory(
        broker=True,
        user__username="morgan",
        user__first_name="Morgan",
        user__last_name="Blake",
        phone="+14135550101",
    ).user


@pytest.fixture
def people(alex, sam, broker):
    """The three by name, for tests that look them up from data."""
    return {"alex": alex, "sam": sam, "broker": broker}


@pytest.fixture
def agent(client, alex):
    """Alex, logged in on `client`: the agent a test acts as. (Tests that never use `client`, such
    as service tests, take it too; the login costs them nothing.)"""
    client.force_login(alex)
    return alex


@pytest.fixture
def broker_client(client, broker):
    """`client` logged in as the broker, with the Django admin open to them (staff, superuser)."""
    broker.is_staff = broker.is_superuser = True
    broker.save()
    client.force_login(broker)
    return client


# --- The clock -----------------------------------------------------------------------------------


@pytest.fixture
def clock_start():
    """Where `clock` stops time. A module that needs another moment overrides this fixture."""
    return NOON


@pytest.fixture
def clock(clock_start):
    """Time stands still at `clock_start` until the test moves it (`clock.move_to(...)`). A module
    whose every test needs it says `pytest.mark.usefixtures("clock")`."""
    with time_machine.travel(clock_start, tick=False) as traveller:
        yield traveller


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

"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, never a downloaded
browser. Without Chromium these tests skip and say why."""

import json
import os
from pathlib import Path

import pytest

from leads.imports import services as imports
from realtycrm.flows import imports as import_flow

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"Browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still plain synchronous calls. Only while the browser runs: the variable
    # must not leak into other tests (check --deploy rightly refuses it).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        serialized = _serialized_contents()
        with sync_playwright() as playwright:
            _share_serialized_contents(serialized)
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


# The data our own migrations ship (routing rules, tracks, steps, copy): what the browser tests
# need restored before each of them. Content types and permissions are left out: an earlier
# transactional test without serialized rollback may have recreated them already (a flush
# emits post_migrate), and restoring them again would collide.
RESTORED_APPS = ("leads", "sequences", "alerts", "reports")


def _serialized_contents() -> dict:
    from django.db import connections

    contents = {}
    for alias in connections:
        data = getattr(connections[alias], "_test_serialized_contents", None)
        if data is not None:
            objects = [
                obj for obj in json.loads(data) if obj["model"].split(".")[0] in RESTORED_APPS
            ]
            contents[alias] = json.dumps(objects)
    return contents


def _share_serialized_contents(serialized: dict) -> None:
    """With Playwright's event loop running in this thread, Django (through asgiref) hands out
    other connection objects than the ones the test database was set up with, and those lack
    the copy of the migrations' data (routing rules, tracks, copy) that `serialized_rollback`
    restores before each test. Without this, every browser test after the first would run on
    an emptied database whenever other tests ran first."""
    from django.db import connections

    for alias, contents in serialized.items():
        connections[alias]._test_serialized_contents = contents


def _page_in_new_context(browser, **options):
    """A page that fails its test on any script error or anything the Content-Security-Policy
    refused (Chromium reports those on the console)."""
    context = browser.new_context(locale="en-US", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused = []
    page.on("pageerror", lambda error: refused.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert refused == []


@pytest.fixture
def page(browser):
    yield from _page_in_new_context(browser, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone_page(browser):
    yield from _page_in_new_context(
        browser,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )


@pytest.fixture
def import_worker(monkeypatch):
    """The django-q2 worker of an import, played by the test: starting a dry run or an import
    queues nothing, and each call works one chunk of two rows, so a test sees the page poll its
    progress bar between chunks. Returns whether there is more to do."""
    monkeypatch.setattr(import_flow, "batch_task_queue", lambda pk: None)
    monkeypatch.setattr(imports, "DRY_RUN_CHUNK", 2)
    monkeypatch.setattr(imports, "IMPORT_CHUNK", 2)

    def one_chunk(batch_pk):
        return import_flow.batch_work(batch_pk, budget_seconds=0)

    return one_chunk


def pytest_collection_modifyitems(items):
    """Browser tests run last. Their live server needs committed data, so each flushes the
    database afterwards; any test after them would find it emptied of migration data."""
    browser = [item for item in items if item.get_closest_marker("browser")]
    others = [item for item in items if not item.get_closest_marker("browser")]
    items[:] = others + browser

"""Shared test set-up: in-memory providers (settings.test), a clean cache for every test."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; no test should inherit another's."""
    cache.clear()
    yield
    cache.clear()

"""Fixtures of the alerts' tests: Web Push (the fake push service of tests/push.py, our VAPID keys,
browsers), and call-connect (the real Twilio SDK against the local fake API)."""

import pytest

from tests.factories import PushSubscriptionFactory
from tests.push import FakePushService, push_on
from tests.push import new_browser as make_browser
from tests.sequences.conftest import FakeProvider
from tests.voice import twilio_call


@pytest.fixture
def push_service(settings):
    """The fake push service, allowed as a subscription's endpoint."""
    with FakePushService() as fake:
        settings.PUSH_SERVICE_HOSTS = [*settings.PUSH_SERVICE_HOSTS, "http://127.0.0.1"]
        yield fake


@pytest.fixture
def vapid(settings):
    """Push on, with a fresh key pair: what `manage.py vapid_keys` prints."""
    push_on(settings)
    return settings


@pytest.fixture
def new_browser(push_service):
    """`new_browser()`: a browser's keys and an endpoint of its own at the fake push service."""
    return lambda: make_browser(push_service.url)


@pytest.fixture
def subscribe(new_browser):
    """`subscribe(user)`: a browser of theirs that enabled notifications (stored, as the
    subscribe endpoint would), returned with its subscription row as `.row`."""

    def make(user):
        browser = new_browser()
        browser.row = PushSubscriptionFactory(user=user, endpoint=browser.endpoint, **browser.keys)
        return browser

    return make


@pytest.fixture
def twilio_voice(settings):
    """Calls go through the real Twilio Voice backend to a local fake of Twilio's API."""
    with FakeProvider() as fake:
        settings.VOICE_BACKEND = "sequences.backends.twilio_voice.TwilioVoiceBackend"
        settings.TWILIO_API_URL = fake.url
        fake.default = (201, {}, twilio_call())
        yield fake

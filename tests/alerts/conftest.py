"""Call-connect's tests run the real Twilio SDK against the local fake API."""

import pytest

from tests.sequences.conftest import FakeProvider
from tests.voice import twilio_call


@pytest.fixture
def twilio_voice(settings):
    """Calls go through the real Twilio Voice backend to a local fake of Twilio's API."""
    with FakeProvider() as fake:
        settings.VOICE_BACKEND = "sequences.backends.twilio_voice.TwilioVoiceBackend"
        settings.TWILIO_API_URL = fake.url
        fake.default = (201, {}, twilio_call())
        yield fake

"""How intake reads a channel's stored payload again, registered at start-up (apps.py): an event
the Events API's reader once failed on is read by the reader as it is now, when a broker
processes it again or the stranded sweep finds it (realtycrm.flows.intake.PAYLOAD_READERS)."""

from leads.models import Channel
from realtycrm.flows.intake import PAYLOAD_READERS

from .api_events import submission_read_again

PAYLOAD_READERS[Channel.API] = submission_read_again

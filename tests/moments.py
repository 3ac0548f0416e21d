"""The moments tests stop the clock at (the root conftest's `clock` fixture): Monday 4 May 2026
in Springfield, MA, the demo brokerage's home, well inside texting hours."""

from datetime import datetime
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
NOON = datetime(2026, 5, 4, 12, 0, tzinfo=NEW_YORK)
AFTERNOON = datetime(2026, 5, 4, 14, 0, tzinfo=NEW_YORK)

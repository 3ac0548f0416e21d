"""django-q2 entry points. Each loads what it needs from the database and calls one service."""

from . import calls
from .services import alerts_escalate


def escalate_alerts():
    """Run every minute by the schedule registered in `manage.py setup_schedules`."""
    return alerts_escalate()


def call_place(call_id: int) -> str:
    """Ring the agent's phone for one call-connect (queued after the call's row committed)."""
    return calls.call_place(call_id)

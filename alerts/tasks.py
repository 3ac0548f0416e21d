"""django-q2 entry points. Each loads what it needs from the database and calls one service."""

from .services import alerts_escalate


def escalate_alerts():
    """Run every minute by the schedule registered in `manage.py setup_schedules`."""
    return alerts_escalate()

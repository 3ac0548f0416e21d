"""django-q2 entry points. Each loads what it needs from the database and calls one service."""

from . import calls
from .push import alert_push_send
from .services import alerts_escalate


def escalate_alerts():
    """Run every minute by the schedule registered in `manage.py setup_schedules`."""
    return alerts_escalate()


def push_alert(alert_id, step, subscription_id):
    """Queued after an urgent alert commits (alerts.push.alert_push_queue): one browser."""
    return alert_push_send(alert_id, step, subscription_id)


def call_place(call_id: int) -> str:
    """Ring the agent's phone for one call-connect (queued after the call's row committed)."""
    return calls.call_place(call_id)

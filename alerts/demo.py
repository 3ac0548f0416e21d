"""Demo history for alerts: every hot demo lead interrupted its owner, who answered within minutes.

`seed_demo` calls seed_demo_alerts once, after the leads' histories are written. Each hot lead
whose routing rule alerts gets the alert it would have raised when it arrived, acknowledged a few
minutes later (before the first personal contact, which the lead's history already holds); a
lead that arrived minutes ago and nobody has answered yet keeps its alert open, so Today, the
navbar badge and the toasts have something live to show. Nothing is sent.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from leads.models import Lead, LeadEvent
from leads.names import person_name
from realtycrm.clock import duration_text

from .models import Alert

ACKNOWLEDGED_BY = ("I'm on it", "opened the lead", "logged a call")


@transaction.atomic
def seed_demo_alerts(leads, *, rng: random.Random, now=None) -> int:
    """Alerts for `leads` (those whose routing said "alert"), as history; returns how many."""
    now = now or timezone.now()
    alerts, events, acknowledged = [], [], []
    for lead in leads:
        raised = lead.created_at + timedelta(seconds=rng.uniform(2, 8))
        if raised > now:
            continue
        alert = Alert(lead=lead, agent=lead.owner, reason=Alert.Reason.HOT_LEAD, created_at=raised)
        name = person_name(lead.owner)
        events.append(_event(lead, LeadEvent.Kind.ALERT, f"Alerted {name}: hot lead", raised))
        answered = _answered_at(lead, raised, now, rng)
        if answered is not None:
            how = rng.choice(ACKNOWLEDGED_BY)
            alert.acknowledged_at = alert.closed_at = answered
            acknowledged.append((lead.pk, answered))
            summary = f"{name} acknowledged ({how}) after {duration_text(answered - raised)}"
            events.append(
                _event(lead, LeadEvent.Kind.ALERT_ACKNOWLEDGED, summary, answered, actor=lead.owner)
            )
        alerts.append(alert)
    Alert.objects.bulk_create(alerts, batch_size=500)
    LeadEvent.objects.bulk_create(events, batch_size=500)
    for pk, at in acknowledged:
        Lead.objects.filter(pk=pk, alert_acknowledged_at__isnull=True).update(
            alert_acknowledged_at=at
        )
    return len(alerts)


def _answered_at(lead: Lead, raised, now, rng: random.Random):
    """When the owner said they were on it: a minute or a few after the alert, never after the
    first call; None while a lead that arrived moments ago still waits."""
    contact = lead.first_personal_contact_at
    if contact is not None:
        return max(raised, contact - timedelta(minutes=rng.uniform(0.5, 3)))
    answered = raised + timedelta(minutes=rng.uniform(1, 4))
    return answered if answered < now - timedelta(minutes=10) else None


def _event(lead, kind, summary, at, *, actor=None) -> LeadEvent:
    return LeadEvent(lead=lead, kind=kind, summary=summary[:255], actor=actor, occurred_at=at)

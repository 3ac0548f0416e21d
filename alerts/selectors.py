"""Reads: an agent's open alerts, and the broker's view of how fast alerts were answered."""

from django.db.models import DurationField, ExpressionWrapper, F, QuerySet

from leads.selectors import lead_visible_to, user_is_broker

from .models import Alert


def alert_open_for(user) -> QuerySet:
    """The agent's open alerts on leads they can see (a claim offer while it is unclaimed)."""
    return (
        Alert.objects.filter(
            agent=user, closed_at__isnull=True, lead__in=lead_visible_to(user).values("pk")
        )
        .select_related("lead")
        .order_by("-created_at", "-id")
    )


def alert_history_for(user) -> QuerySet:
    """Every alert with how long it took to be acknowledged and to reach a first personal
    contact. Brokers see everyone's; an agent sees their own."""
    alerts = Alert.objects.select_related("lead", "agent").annotate(
        time_to_ack=ExpressionWrapper(
            F("acknowledged_at") - F("created_at"), output_field=DurationField()
        ),
        time_to_contact=ExpressionWrapper(
            F("lead__first_personal_contact_at") - F("created_at"), output_field=DurationField()
        ),
    )
    if not user_is_broker(user):
        alerts = alerts.filter(agent=user)
    return alerts.order_by("-created_at", "-id")

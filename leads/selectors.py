"""Reads. Who may see which lead is decided here, once, for every view, export and endpoint."""

from django.db.models import QuerySet

from .models import Agent, Lead


def user_is_broker(user) -> bool:
    """Brokers (and superusers) see every lead; agents see their own."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    agent = getattr(user, "agent", None)
    return bool(agent and agent.role == Agent.Role.BROKER)


def lead_visible_to(user, queryset: QuerySet | None = None) -> QuerySet:
    queryset = Lead.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if user_is_broker(user):
        return queryset
    return queryset.filter(owner=user)

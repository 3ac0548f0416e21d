"""Who reaches what in the Django admin (docs/security.md).

Every registered admin is one of two kinds, and tests/test_admin_scoping.py walks the registry to
hold each to it:

- **scoped to the agent's leads** (`VisibleLeadsMixin`): rows that belong to a lead; a staff
  agent sees and reaches only the rows of the leads they may see (`lead_visible_to`), on the
  changelist, the change, history and delete pages and in bulk actions; brokers see all;
- **brokers only** (`BrokersOnlyMixin`): configuration (tracks, copy, routing, people) and rows
  no single lead owns (the task queue, sign-in attempts, unmatched webhooks); an agent gets 403
  whatever permissions they were given.
"""

from django.db.models import QuerySet

from .selectors import lead_visible_to, user_is_broker


class VisibleLeadsMixin:
    """Agents with admin access see only their own leads' rows; brokers see all.

    `lead_field` is the path from the row to its lead ("lead", "message__lead"); a row without a
    lead is a broker's. An admin whose rows reach leads another way overrides `visible_to`.
    """

    lead_field = "lead"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if user_is_broker(request.user):
            return queryset
        return self.visible_to(request.user, queryset)

    def visible_to(self, user, queryset: QuerySet) -> QuerySet:
        return queryset.filter(**{f"{self.lead_field}__in": lead_visible_to(user).values("pk")})


class BrokersOnlyMixin:
    """Brokers (and superusers) only: an agent is refused even with the model's permissions."""

    def has_module_permission(self, request):
        return user_is_broker(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return user_is_broker(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return user_is_broker(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return user_is_broker(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return user_is_broker(request.user) and super().has_delete_permission(request, obj)

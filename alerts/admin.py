from django.contrib import admin

from leads.admin_access import VisibleLeadsMixin

from .models import Alert, Call
from .selectors import alert_history_for


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "reason",
        "lead",
        "agent",
        "time_to_ack",
        "time_to_contact",
        "escalation_level",
        "closed_at",
    )
    list_filter = ("reason", "escalation_level", "agent")
    list_select_related = ("lead", "agent")
    raw_id_fields = ("lead", "agent", "rule", "text_digest")
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return alert_history_for(request.user)

    @admin.display(description="Time to acknowledge", ordering="time_to_ack")
    def time_to_ack(self, alert):
        return alert.time_to_ack

    @admin.display(description="Time to first personal contact", ordering="time_to_contact")
    def time_to_contact(self, alert):
        return alert.time_to_contact


@admin.register(Call)
class CallAdmin(VisibleLeadsMixin, admin.ModelAdmin):
    """Every call-connect (docs/dashboard.md, "Calling a lead"): who rang whom, how it went,
    and the recording's link when the brokerage records. Written by the calls only."""

    list_display = (
        "created_at",
        "lead",
        "agent",
        "origin",
        "status",
        "lead_answered",
        "duration_seconds",
        "outcome",
    )
    list_filter = ("status", "origin", "outcome", "recorded")
    list_select_related = ("lead", "agent")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Call._meta.fields]

    def has_add_permission(self, request):
        return False

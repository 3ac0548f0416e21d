from django.contrib import admin

from .models import Alert, AssignmentRule
from .selectors import alert_history_for


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    list_display = (
        "position",
        "name",
        "active",
        "source",
        "intent",
        "side",
        "neighbourhood",
        "postal_code_prefix",
        "policy",
        "fallback",
    )
    list_display_links = ("name",)
    list_editable = ("position", "active")
    list_select_related = ("fallback",)
    filter_horizontal = ("members",)
    fieldsets = (
        (None, {"fields": ("position", "name", "active")}),
        (
            "Which leads (blank matches any)",
            {"fields": ("source", "intent", "side", "neighbourhood", "postal_code_prefix")},
        ),
        ("Who gets them", {"fields": ("policy", "members", "claim_minutes", "fallback", "backup")}),
    )


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
    raw_id_fields = ("lead", "agent", "rule")
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return alert_history_for(request.user)

    @admin.display(description="Time to acknowledge", ordering="time_to_ack")
    def time_to_ack(self, alert):
        return alert.time_to_ack

    @admin.display(description="Time to first personal contact", ordering="time_to_contact")
    def time_to_contact(self, alert):
        return alert.time_to_contact

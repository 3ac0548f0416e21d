from django.contrib import admin

from .models import Alert
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

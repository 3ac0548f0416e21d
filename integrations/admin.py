"""The integrations screen: every API key, portal inbox and Meta page a brokerage connected, and
what the leads from each start with (source, origin, owner or rule, field mapping, SMS consent).
Brokers only: keys and page tokens are secrets, and a mapping changes every future lead."""

from django.contrib import admin
from django.utils import timezone

from leads.admin_access import BrokersOnlyMixin
from leads.models import Integration


@admin.register(Integration)
class IntegrationAdmin(BrokersOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "origin", "default_source", "default_owner", "active")
    list_filter = ("kind", "active", "default_source")
    list_select_related = ("default_owner",)
    search_fields = ("name", "origin", "inbox_address", "meta_page_id", "key_prefix")
    readonly_fields = ("key_prefix", "revoked_at", "meta_synced_at", "created_at")
    fieldsets = (
        (None, {"fields": ("name", "kind", "active", "revoked_at", "created_at")}),
        (
            "Leads from here start with",
            {"fields": ("origin", "default_source", "default_owner", "assignment_rule")},
        ),
        ("Field mapping", {"fields": ("field_mapping",)}),
        ("SMS consent", {"fields": ("sms_consent_collected", "sms_consent_wording")}),
        ("Events API", {"fields": ("key_prefix", "rate_limit")}),
        ("Portal email", {"fields": ("inbox_address",)}),
        (
            "Meta lead ads",
            {"fields": ("meta_page_id", "meta_form_id", "meta_page_token", "meta_synced_at")},
        ),
    )
    actions = ["revoke"]

    @admin.action(description="Revoke (refuse its key, inbox or page from now on)")
    def revoke(self, request, queryset):
        count = queryset.filter(active=True).update(active=False, revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} integration(s).")

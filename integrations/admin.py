"""The integrations screen: every API key, portal inbox and Meta page a brokerage connected, and
what the leads from each start with (source, origin, owner or rule, field mapping, SMS consent).
Brokers only: keys and page tokens are secrets, and a mapping changes every future lead."""

from django.conf import settings
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from leads.admin_access import BrokersOnlyMixin
from leads.models import Integration

from .api_keys import api_key_issue


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
    actions = ["revoke", "issue_api_key"]

    @admin.action(description="Revoke (refuse its key, inbox or page from now on)")
    def revoke(self, request, queryset):
        count = queryset.filter(active=True).update(active=False, revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} integration(s).")

    # Events API keys: a new API integration gets its key when it is first saved, and a lost or
    # leaked one is replaced by the action below. Either way the key is shown on the page that
    # answers, once (never put in a message: messages can travel in a cookie).

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.kind == Integration.Kind.API and not obj.key_hash:
            obj._issued_key = api_key_issue(obj)

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(obj, "_issued_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        return self._key_page(request, obj, key, replaced=False)

    @admin.action(description="Issue a new API key (the old one stops working)")
    def issue_api_key(self, request, queryset):
        chosen = list(queryset.filter(kind=Integration.Kind.API)[:2])
        if len(chosen) != 1:
            self.message_user(
                request, "Choose exactly one Events API integration.", level=messages.WARNING
            )
            return None
        return self._key_page(request, chosen[0], api_key_issue(chosen[0]), replaced=True)

    def _key_page(self, request, integration, key, *, replaced):
        return TemplateResponse(
            request,
            "admin/leads/integration/api_key_issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "integration": integration,
                "key": key,
                "replaced": replaced,
                "events_url": settings.SITE_URL + reverse("api:events"),
            },
        )

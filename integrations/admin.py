"""The integrations screen: every API key, portal inbox and Meta page a brokerage connected, and
what the leads from each start with (source, origin, owner or rule, field mapping, SMS consent).
Brokers only: keys and page tokens are secrets, and a mapping changes every future lead.

A Meta page's access token is write-only here: the form never shows it back (not even to a
broker, not even on a view-only page); typing a new one replaces it, leaving the box blank keeps
it, and a checkbox removes it."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from leads.admin_access import BrokersOnlyMixin
from leads.models import Integration

from . import meta_intake
from .api_keys import api_key_issue
from .graph import is_graph_id
from .meta import STANDARD_FIELDS, TARGETS

META_MAPPING_HELP = (
    "Meta lead forms: the standard questions need no mapping ("
    + ", ".join(STANDARD_FIELDS)
    + '). Map a custom question by its key, e.g. {"what_is_your_budget?": "message", '
    '"are_you_buying_or_selling?": "side"}; the timeline question is found by its answers. '
    "Our fields: " + ", ".join(TARGETS) + ". Several disclaimer checkboxes: map the SMS one, "
    'e.g. {"sms_optin": "sms_consent"}.'
)
META_HELP = (
    "One row per Facebook page (form id blank: all its forms) or per form (its own source, "
    "owner and mapping). The SMS consent wording above is the text of the form's SMS "
    "disclaimer checkbox, pasted exactly: a lead who checked it may be texted."
)


class IntegrationForm(forms.ModelForm):
    page_access_token = forms.CharField(
        required=False,
        strip=True,
        label="Page access token",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Paste a new token to replace the saved one; leave blank to keep "
        "it. Needs leads_retrieval, pages_manage_metadata, pages_show_list, pages_read_engagement "
        "and ads_management. Blank everywhere: META_PAGE_ACCESS_TOKEN is used.",
    )
    remove_page_access_token = forms.BooleanField(
        required=False, label="Remove the saved page token"
    )

    class Meta:
        model = Integration
        # Never the token itself (nor the API key's hash): see page_access_token.
        fields = (
            "name",
            "kind",
            "active",
            "origin",
            "default_source",
            "default_owner",
            "assignment_rule",
            "field_mapping",
            "sms_consent_collected",
            "sms_consent_wording",
            "rate_limit",
            "inbox_address",
            "meta_page_id",
            "meta_form_id",
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Integration.Kind.META:
            self._clean_meta(cleaned)
        if cleaned.get("kind") == Integration.Kind.EMAIL and cleaned.get("sms_consent_collected"):
            self.add_error(
                "sms_consent_collected",
                "An inbox cannot vouch for SMS consent: anyone can send it an email. Its leads "
                "are emailed, and their agent asked to call.",
            )
        mapping = cleaned.get("field_mapping")
        is_meta = cleaned.get("kind") == Integration.Kind.META  # _clean_meta says it for Meta
        if not is_meta and mapping is not None and not isinstance(mapping, dict):
            self.add_error("field_mapping", 'A JSON object, e.g. {"their field": "our field"}.')
        token = cleaned.get("page_access_token")
        if token:
            self.instance.meta_page_token = token
        elif cleaned.get("remove_page_access_token"):
            self.instance.meta_page_token = ""
        return cleaned

    def _clean_meta(self, cleaned: dict) -> None:
        if not is_graph_id(cleaned.get("meta_page_id") or ""):
            self.add_error("meta_page_id", "The page's id: digits, from the page's About tab.")
        form_id = cleaned.get("meta_form_id") or ""
        if form_id and not is_graph_id(form_id):
            self.add_error("meta_form_id", "The form's id: digits (blank for every form).")
        mapping = cleaned.get("field_mapping")
        if mapping is not None and not isinstance(mapping, dict):
            self.add_error("field_mapping", 'A JSON object: {"their question key": "our field"}')
            return
        unknown = sorted(
            str(target)
            for target in (mapping or {}).values()
            if not isinstance(target, str) or target not in TARGETS
        )
        if unknown:
            self.add_error(
                "field_mapping",
                f"Not one of our fields: {', '.join(unknown)}. Ours: {', '.join(TARGETS)}.",
            )


@admin.register(Integration)
class IntegrationAdmin(BrokersOnlyMixin, admin.ModelAdmin):
    form = IntegrationForm
    list_display = ("name", "kind", "origin", "default_source", "default_owner", "active")
    list_filter = ("kind", "active", "default_source")
    list_select_related = ("default_owner",)
    search_fields = ("name", "origin", "inbox_address", "meta_page_id", "key_prefix")
    readonly_fields = (
        "key_prefix",
        "revoked_at",
        "meta_synced_at",
        "created_at",
        "page_token_status",
    )
    fieldsets = (
        (None, {"fields": ("name", "kind", "active", "revoked_at", "created_at")}),
        (
            "Leads from here start with",
            {"fields": ("origin", "default_source", "default_owner", "assignment_rule")},
        ),
        ("Field mapping", {"fields": ("field_mapping",), "description": META_MAPPING_HELP}),
        ("SMS consent", {"fields": ("sms_consent_collected", "sms_consent_wording")}),
        ("Events API", {"fields": ("key_prefix", "rate_limit")}),
        ("Portal email", {"fields": ("inbox_address",)}),
        (
            "Meta lead ads",
            {
                "fields": (
                    "meta_page_id",
                    "meta_form_id",
                    "page_token_status",
                    "page_access_token",
                    "remove_page_access_token",
                    "meta_synced_at",
                ),
                "description": META_HELP,
            },
        ),
    )
    actions = ["revoke", "issue_api_key", "meta_sync_now", "meta_fetch_failed_again"]

    @admin.display(description="Saved page token")
    def page_token_status(self, integration):
        if integration.meta_page_token:
            return "Saved (not shown)"
        return "None: META_PAGE_ACCESS_TOKEN is used"

    @admin.action(description="Revoke (refuse its key, inbox or page from now on)")
    def revoke(self, request, queryset):
        count = queryset.filter(active=True).update(active=False, revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} integration(s).")

    @admin.action(description="Meta: sync now (bring in leads a webhook missed)")
    def meta_sync_now(self, request, queryset):
        pages = queryset.filter(kind=Integration.Kind.META, active=True)
        for integration in pages:
            async_task(
                "integrations.tasks.meta_integration_backfill",
                integration.pk,
                task_name=f"meta-sync-{integration.pk}",
            )
        self.message_user(request, f"Syncing {pages.count()} Meta integration(s).")

    @admin.action(description="Meta: fetch failed leads again (after fixing a token)")
    def meta_fetch_failed_again(self, request, queryset):
        count = meta_intake.failed_refetch(queryset.filter(kind=Integration.Kind.META))
        level = messages.SUCCESS if count else messages.INFO
        self.message_user(request, f"Fetching {count} failed Meta lead(s) again.", level=level)

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

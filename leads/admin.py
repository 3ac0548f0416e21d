"""The leads app's admin, and who may reach the admin pages of Django's and other apps' models
(leads/admin_access.py says how each admin is scoped)."""

import axes.admin  # noqa: F401 - registered here first, so it can be wrapped below
import django_q.admin  # noqa: F401 - likewise
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from realtycrm.flows.intake import submission_release

from .admin_access import BrokersOnlyMixin, VisibleLeadsMixin
from .forms import FORM_FOR_SOURCE
from .models import (
    Agent,
    AssignmentRule,
    ConsentRecord,
    FormCopy,
    IntentMapping,
    Lead,
    LeadEvent,
    RoutingRule,
    Source,
    Submission,
)
from .selectors import lead_visible_to


class LeadEventInline(admin.TabularInline):
    model = LeadEvent
    extra = 0
    fields = ("occurred_at", "kind", "channel", "summary", "actor")
    readonly_fields = fields
    ordering = ("-occurred_at", "-id")
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class ConsentInline(admin.TabularInline):
    model = ConsentRecord
    extra = 0
    fields = ("created_at", "channel", "wording_version", "ip", "form_url")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "source",
        "intent",
        "timeline",
        "side",
        "stage",
        "owner",
        "nurture_track",
        "created_at",
    )
    list_filter = ("source", "intent", "timeline", "side", "stage", "owner", "nurture_track")
    search_fields = ("first_name", "last_name", "email", "phone", "property_address")
    list_select_related = ("owner", "nurture_track")
    date_hierarchy = "created_at"
    readonly_fields = (
        "created_at",
        "updated_at",
        "last_inquiry_at",
        "inquiry_count",
        "intent_reason",
        "routing_rule",
        "first_automated_contact_at",
        "alert_acknowledged_at",
        "first_personal_contact_at",
        "last_personal_contact_at",
        "sms_consent_at",
        "sms_consent_version",
        "first_submission",
        # Each of these has its one writer, which keeps the timeline and the rules true: the
        # dashboard's contact form (a new phone withdraws SMS consent), the ownership service
        # (claims, reassignment), routing (intent, track), the stage flow, and the suppression
        # list (opt-outs). The admin shows them; the dashboard changes them.
        "email",
        "phone",
        "owner",
        "timeline",
        "side",
        "intent",
        "nurture_track",
        "stage",
        "sms_opted_out_at",
        "email_opted_out_at",
    )
    fieldsets = (
        ("Contact", {"fields": ("first_name", "last_name", "email", "phone")}),
        (
            "What they told us",
            {
                "fields": (
                    "source",
                    "timeline",
                    "side",
                    "property_address",
                    "neighbourhood",
                    "postal_code",
                    ("bedrooms", "bathrooms"),
                    "open_house",
                    "inquiry_type",
                    "message",
                    "asked_for_showing",
                )
            },
        ),
        (
            "Routing",
            {
                "fields": (
                    "intent",
                    "intent_reason",
                    "routing_rule",
                    "nurture_track",
                    "first_contact_mode",
                    "owner",
                    "stage",
                )
            },
        ),
        (
            "Speed to lead",
            {
                "fields": (
                    "created_at",
                    "last_inquiry_at",
                    "inquiry_count",
                    "first_automated_contact_at",
                    "alert_acknowledged_at",
                    "first_personal_contact_at",
                    "last_personal_contact_at",
                )
            },
        ),
        (
            "Consent",
            {
                "fields": (
                    "sms_consent_at",
                    "sms_consent_version",
                    "sms_opted_out_at",
                    "email_opted_out_at",
                )
            },
        ),
        (
            "Attribution",
            {
                "classes": ("collapse",),
                "fields": (
                    "utm_source",
                    "utm_medium",
                    "utm_campaign",
                    "utm_content",
                    "utm_term",
                    "first_submission",
                ),
            },
        ),
    )
    inlines = [LeadEventInline, ConsentInline]

    @admin.display(description="First submission, as received")
    def first_submission(self, lead):
        first = lead.submissions.order_by("created_at", "id").first()
        return first.data if first else "—"

    def get_queryset(self, request):
        # Staff agents see their own leads here too; brokers see all.
        return lead_visible_to(request.user, super().get_queryset(request))


@admin.register(LeadEvent)
class LeadEventAdmin(VisibleLeadsMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "lead", "kind", "channel", "summary", "actor")
    list_filter = ("kind", "channel")
    search_fields = ("lead__first_name", "lead__last_name", "lead__email", "summary")
    list_select_related = ("lead", "actor")
    raw_id_fields = ("lead", "actor")
    date_hierarchy = "occurred_at"


@admin.register(RoutingRule)
class RoutingRuleAdmin(BrokersOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "source", "intent", "side", "track", "alert", "first_contact_mode")
    list_editable = ("track", "alert", "first_contact_mode")
    list_display_links = ("__str__",)
    list_filter = ("source", "intent", "side", "alert", "track")
    list_select_related = ("track",)


@admin.register(IntentMapping)
class IntentMappingAdmin(BrokersOnlyMixin, admin.ModelAdmin):
    """Which answers count as hot, warm or long-term. One row per answer, seeded: a broker
    changes the intent only, so every answer always has exactly one (no adding, no deleting).
    The changelist says that a change counts for new decisions only."""

    list_display = ("answer_label", "kind", "intent", "updated_at")
    list_display_links = ("answer_label",)
    list_editable = ("intent",)
    list_filter = ("kind", "intent")
    fields = ("answer_label", "kind", "intent", "updated_at")
    readonly_fields = ("answer_label", "kind", "updated_at")

    @admin.display(description="Answer", ordering="position")
    def answer_label(self, mapping):
        return mapping.answer_label

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FormCopy)
class FormCopyAdmin(BrokersOnlyMixin, admin.ModelAdmin):
    """What each intake form says, and the giveaway's prize, rules and end date: plain text,
    shown escaped on the form (never a template). One row per form, seeded with the shipped
    wording; "Restore the shipped wording" puts it back."""

    list_display = ("__str__", "headline", "submit_label", "ends_on", "updated_at")
    readonly_fields = ("form_name", "updated_at")
    actions = ["restore_shipped"]
    GIVEAWAY_FIELDS = ("prize", "rules", "ends_on")

    @admin.display(description="Form")
    def form_name(self, copy):
        return copy.get_source_display()

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ("form_name", "headline", "intro", "submit_label", "thank_you")}),
        ]
        if obj is not None and obj.source == Source.GIVEAWAY:
            fieldsets.append(("The giveaway", {"fields": self.GIVEAWAY_FIELDS}))
        fieldsets.append((None, {"fields": ("updated_at",)}))
        return fieldsets

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Restore the shipped wording")
    def restore_shipped(self, request, queryset):
        for copy in queryset:
            form_class = FORM_FOR_SOURCE[copy.source]
            copy.headline = form_class.title
            copy.intro = form_class.intro
            copy.submit_label = form_class.submit_label
            copy.thank_you = form_class.thank_you
            copy.save(update_fields=["headline", "intro", "submit_label", "thank_you"])
        self.message_user(
            request,
            f"Restored the shipped wording of {queryset.count()} form(s). Giveaway details "
            "(prize, rules, end date) are as they were.",
        )


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(BrokersOnlyMixin, admin.ModelAdmin):
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
        ("Hot leads", {"fields": ("auto_call_hot",)}),
    )


@admin.register(Submission)
class SubmissionAdmin(VisibleLeadsMixin, admin.ModelAdmin):
    """What a prospect sent. An agent sees their own leads' submissions; spam and failures,
    which belong to no lead yet, are the broker's."""

    list_display = ("created_at", "source", "channel", "origin", "status", "spam_reason", "lead")
    list_filter = ("status", "channel", "source", "spam_reason", "integration")
    list_select_related = ("lead", "integration")
    raw_id_fields = ("lead",)
    readonly_fields = [field.name for field in Submission._meta.fields]
    actions = ["process_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Process again (failed or wrongly quarantined submissions)")
    def process_again(self, request, queryset):
        done = 0
        for submission in queryset.exclude(status=Submission.Status.ACCEPTED):
            lead, why_not = submission_release(submission, actor=request.user)
            if why_not:
                self.message_user(request, why_not, level=messages.WARNING)
            done += lead is not None
        self.message_user(request, f"Processed {done} submission(s).")


class AgentInline(admin.StackedInline):
    model = Agent
    can_delete = False
    fk_name = "user"


admin.site.unregister(User)


@admin.register(User)
class AgentUserAdmin(BrokersOnlyMixin, UserAdmin):
    inlines = [AgentInline]
    list_display = ("username", "email", "first_name", "last_name", "agent_role", "is_active")
    list_select_related = ("agent",)

    @admin.display(description="Role")
    def agent_role(self, user):
        agent = getattr(user, "agent", None)
        return agent.get_role_display() if agent else "—"


@admin.register(Agent)
class AgentAdmin(BrokersOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "role", "phone", "active", "paused", "time_zone")
    list_filter = ("role", "active", "paused")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "phone")


# --- Other apps' admins: brokers only ------------------------------------------------------------
# Groups (permissions), django-q2's queue, schedules and task results (arguments and errors of
# every lead's tasks) and django-axes' sign-in attempts and logins (everyone's usernames and
# addresses) belong to no one lead.
BROKERS_ONLY_APPS = ("auth", "django_q", "axes")


def _brokers_only(model) -> None:
    """Keep another app's admin as it is, for brokers only."""
    original = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(model, type(original.__name__, (BrokersOnlyMixin, original), {}))


def _brokers_only_in_other_apps() -> None:
    for label in BROKERS_ONLY_APPS:
        for model in apps.get_app_config(label).get_models():
            if model is not User and admin.site.is_registered(model):
                _brokers_only(model)


_brokers_only_in_other_apps()

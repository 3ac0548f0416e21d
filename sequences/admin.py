"""Brokers edit tracks, steps and copy here, preview any template for a real lead, and see every
message with its status. django-q2's own admin (Django Q) shows the queue and schedules."""

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from leads.admin_access import BrokersOnlyMixin, VisibleLeadsMixin
from leads.models import RoutingRule
from leads.selectors import lead_visible_to
from realtycrm.http import ascii_digits

from .models import (
    Appointment,
    CampaignRecipient,
    Enrollment,
    Message,
    ReactivationCampaign,
    Step,
    Suppression,
    Task,
    Template,
    Track,
    UndeliveredMessage,
    WebhookEvent,
)
from .outbox import messages_send_again
from .placeholders import PLACEHOLDERS, sms_segments
from .rendering import lead_values, render
from .selectors import suppressions_of_leads

PREVIEW_LEADS = 20


class StepInline(admin.TabularInline):
    model = Step
    fk_name = "track"
    extra = 0
    fields = (
        "position",
        "delay",
        "delay_unit",
        "kind",
        "for_intent",
        "condition",
        "is_acknowledgment",
        "template_key",
        "task_kind",
        "task_due_minutes",
        "move_to",
        "move_intent",
    )
    ordering = ("position",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("track")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # One query for the track list, not one per step row.
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "move_to":
            if not hasattr(request, "_sequences_track_choices"):
                request._sequences_track_choices = list(field.choices)
            field.choices = request._sequences_track_choices
        return field


def _rules_using(track_id):
    return RoutingRule.objects.filter(track_id=track_id).select_related("track")


@admin.register(Track)
class TrackAdmin(BrokersOnlyMixin, admin.ModelAdmin):
    """A track that routing rules use cannot be deleted (the rule would route to nothing): the
    list and the track's page say which rules use it, and deleting it says so instead."""

    list_display = ("name", "key", "step_count", "active_enrollments", "used_by_rules")
    search_fields = ("name", "key")
    readonly_fields = ("routing_rules",)
    inlines = [StepInline]

    def get_queryset(self, request):
        rules = (
            RoutingRule.objects.filter(track=OuterRef("pk"))
            .order_by()
            .values("track")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                _steps=Count("steps", distinct=True),
                _active=Count("enrollments", filter=Q(enrollments__status="active"), distinct=True),
                _rules=Coalesce(Subquery(rules, output_field=IntegerField()), 0),
            )
        )

    @admin.display(description="Steps", ordering="_steps")
    def step_count(self, track):
        return track._steps

    @admin.display(description="Active enrollments", ordering="_active")
    def active_enrollments(self, track):
        return track._active

    @admin.display(description="Routing rules", ordering="_rules")
    def used_by_rules(self, track):
        return _used_by(track._rules)

    @admin.display(description="Used by")
    def routing_rules(self, track):
        rules = list(_rules_using(track.pk)) if track.pk else []
        if not rules:
            return "No routing rule: no new lead enters this track except by a move."
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:leads_routingrule_change", args=[rule.pk]), rule) for rule in rules),
        )
        return format_html("{}: {}", _used_by(len(rules)), links)

    def delete_view(self, request, object_id, extra_context=None):
        rules = list(_rules_using(object_id)) if ascii_digits(str(object_id)) else []
        if rules:
            track = rules[0].track
            self.message_user(
                request,
                f"“{track}” is not deleted: it is {_used_by(len(rules)).lower()} "
                f"({'; '.join(str(rule) for rule in rules)}). Point those rules at another "
                "track (Leads → Routing rules) first.",
                messages.ERROR,
            )
            return redirect("admin:sequences_track_change", track.pk)
        return super().delete_view(request, object_id, extra_context)


def _used_by(count: int) -> str:
    return f"Used by {count} routing rule{'s' if count != 1 else ''}"


def _placeholder_help() -> str:
    names = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    return (
        f"Placeholders: {names}. Anything else in braces is refused. Texts: the first one to a "
        "number gets “Reply STOP to opt out.”; emails get the postal address and an "
        "unsubscribe link."
    )


@admin.register(Template)
class TemplateAdmin(BrokersOnlyMixin, admin.ModelAdmin):
    list_display = ("key", "variant", "channel", "description", "length", "preview_link")
    list_filter = ("channel", "key", "variant")
    search_fields = ("key", "subject", "body", "description")
    readonly_fields = ("updated_at",)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["body"].help_text = _placeholder_help()
        return form

    @admin.display(description="Length")
    def length(self, template):
        if template.channel != Template.Channel.SMS:
            return "—"
        encoding, characters, segments = sms_segments(template.body)
        return f"{characters} chars · {segments} segment{'s' if segments != 1 else ''} ({encoding})"

    @admin.display(description="Preview")
    def preview_link(self, template):
        url = reverse("admin:sequences_template_preview", args=[template.pk])
        return format_html('<a href="{}">Preview for a lead</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="sequences_template_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk):
        """The template filled for a lead the broker picks (by name, email or phone)."""
        template = get_object_or_404(Template, pk=pk)
        if not self.has_view_permission(request, template):
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(pk))
        visible = lead_visible_to(request.user).select_related("owner", "owner__agent")
        query = request.GET.get("q", "").strip()[:100]
        candidates = visible
        if query:
            candidates = visible.filter(
                Q(first_name__icontains=query)
                | Q(last_name__icontains=query)
                | Q(email__icontains=query)
                | Q(phone__icontains=query)
            )
        lead = None
        if ascii_digits(request.GET.get("lead", "")):
            lead = visible.filter(pk=int(request.GET["lead"])).first()
        rendered = segments = None
        if lead is not None:
            rendered = render(template, lead_values(lead))
            if template.channel == Template.Channel.SMS:
                segments = sms_segments(rendered.body)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Preview: {template}",
            "template_obj": template,
            "query": query,
            "candidates": candidates.order_by("-created_at")[:PREVIEW_LEADS],
            "lead": lead,
            "rendered": rendered,
            "segments": segments,
        }
        return TemplateResponse(request, "sequences/admin/template_preview.html", context)


@admin.register(Message)
class MessageAdmin(VisibleLeadsMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "channel",
        "purpose",
        "audience",
        "to",
        "lead_link",
        "status",
        "status_reason",
        "scheduled_for",
        "sent_at",
        "delivery_status",
        "attempts",
    )
    list_filter = (
        "status",
        "channel",
        "purpose",
        "audience",
        "delivery_status",
        "possible_duplicate",
    )
    list_select_related = ("lead",)
    search_fields = (
        "to",
        "subject",
        "idempotency_key",
        "provider_id",
        "lead__first_name",
        "lead__last_name",
        "lead__email",
    )
    date_hierarchy = "created_at"
    raw_id_fields = ("lead", "agent", "enrollment", "step", "created_by")
    readonly_fields = [field.name for field in Message._meta.fields]
    actions = ["send_again"]

    def lookup_allowed(self, lookup, value, request=None):
        # "Messages for this lead": the link in the lead column filters on it.
        return lookup == "lead__id__exact" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Lead", ordering="lead")
    def lead_link(self, message):
        if not message.lead_id:
            return "—"
        return format_html(
            '<a href="?lead__id__exact={}" title="Only this lead\'s messages">{}</a>',
            message.lead_id,
            message.lead,
        )

    @admin.action(description="Send expired and failed messages again")
    def send_again(self, request, queryset):
        queued = messages_send_again(queryset, by=request.user)
        self.message_user(request, f"Queued {queued} message(s) again.", messages.SUCCESS)


@admin.register(UndeliveredMessage)
class UndeliveredMessageAdmin(MessageAdmin):
    """The broker's one screen for what never reached anyone: messages that expired (an outage
    outlasted MESSAGE_RETRY_HORIZON_HOURS) or failed, newest first, with one action to send them
    again. Agents see only their own leads' messages here too."""

    list_display = (
        "created_at",
        "channel",
        "purpose",
        "audience",
        "to",
        "lead_link",
        "status",
        "status_reason",
        "error",
        "attempts",
    )
    list_filter = ("status", "channel", "purpose", "audience")
    date_hierarchy = None

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status__in=Message.UNDELIVERED)

    @admin.display(description="Last error")
    def error(self, message):
        text = " ".join(message.last_error.split())
        return text if len(text) <= 120 else text[:119] + "…"


@admin.register(Task)
class TaskAdmin(VisibleLeadsMixin, admin.ModelAdmin):
    list_display = ("title", "kind", "lead", "agent", "due_at", "status", "done_at")
    list_filter = ("status", "kind", "agent")
    list_select_related = ("lead", "agent")
    search_fields = ("title", "lead__first_name", "lead__last_name", "lead__email")
    date_hierarchy = "due_at"
    raw_id_fields = ("lead", "agent", "done_by", "enrollment", "step", "created_by")


@admin.register(Appointment)
class AppointmentAdmin(VisibleLeadsMixin, admin.ModelAdmin):
    """Read, and correct the notes. Booking, moving and cancelling happen on the lead page, which
    tells the lead, moves the reminders and the calendar feed's SEQUENCE (an edit here could do
    none of that, so the rest is read-only)."""

    list_display = ("__str__", "kind", "starts_at", "agent", "status", "place")
    list_filter = ("status", "kind", "agent")
    list_select_related = ("lead", "agent")
    search_fields = ("lead__first_name", "lead__last_name", "lead__email", "place")
    date_hierarchy = "starts_at"
    readonly_fields = (
        "lead",
        "agent",
        "kind",
        "starts_at",
        "ends_at",
        "time_zone",
        "place",
        "status",
        "created_by",
        "sequence",
        "booking_key",
        "agent_reminder_at",
        "lead_reminder_at",
        "created_at",
        "updated_at",
        "status_changed_at",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # A deleted row would leave its queued confirmation and reminders going out for an
        # appointment nobody has; cancelling it on the lead page withdraws them and tells the lead.
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(VisibleLeadsMixin, admin.ModelAdmin):
    list_display = (
        "lead",
        "track",
        "intent",
        "status",
        "status_reason",
        "started_at",
        "next_due_at",
    )
    list_filter = ("status", "track", "intent")
    list_select_related = ("lead", "track")
    search_fields = ("lead__first_name", "lead__last_name", "lead__email")
    raw_id_fields = ("lead",)
    readonly_fields = [field.name for field in Enrollment._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Suppression)
class SuppressionAdmin(VisibleLeadsMixin, admin.ModelAdmin):
    """An agent sees the suppressions of their leads' numbers and addresses (why a text or an
    email does not go); brokers see the whole list."""

    list_display = ("address", "channel", "reason", "detail", "created_at")
    list_filter = ("channel", "reason")
    search_fields = ("address",)
    readonly_fields = ("channel", "address", "reason", "detail", "created_at")

    def visible_to(self, user, queryset):
        return suppressions_of_leads(lead_visible_to(user), queryset)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # An opt-out is the recipient's decision; only a bounce may be lifted (a fixed inbox).
        return bool(
            obj and obj.reason == Suppression.Reason.BOUNCE
        ) and super().has_delete_permission(request, obj)


@admin.register(WebhookEvent)
class WebhookEventAdmin(VisibleLeadsMixin, admin.ModelAdmin):
    """An agent sees the receipts of their leads' messages. Inbound texts and receipts that match
    no message belong to no lead yet (the reply itself is on the lead's timeline): brokers only."""

    lead_field = "message__lead"
    list_display = ("received_at", "provider", "kind", "event_id", "message", "processed_at")
    list_filter = ("provider", "kind")
    search_fields = ("event_id",)
    readonly_fields = [field.name for field in WebhookEvent._meta.fields]
    raw_id_fields = ("message",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReactivationCampaign)
class ReactivationCampaignAdmin(BrokersOnlyMixin, admin.ModelAdmin):
    """The campaigns, to look at: brokers create and send them on the dashboard's Campaigns
    page (preview, progress, report); what went out is not edited here."""

    list_display = ("name", "status", "recipient_count", "emails_queued", "texts_queued")
    list_filter = ("status",)
    search_fields = ("name",)
    readonly_fields = (
        "recipients_link",
        "status",
        "created_by",
        "created_at",
        "send_started_at",
        "sent_at",
        "recipient_count",
        "processed_count",
        "emails_queued",
        "texts_queued",
        "skipped_count",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        draft = obj is None or obj.status == ReactivationCampaign.Status.DRAFT
        return draft and super().has_change_permission(request, obj)

    @admin.display(description="Recipients")
    def recipients_link(self, obj):
        url = reverse("admin:sequences_campaignrecipient_changelist")
        count = obj.recipient_count
        return format_html(
            '<a href="{}?campaign__id__exact={}">{} contact{}</a> · '
            '<a href="{}">the campaign\'s page and report</a>',
            url,
            obj.pk,
            f"{count:,}",
            "" if count == 1 else "s",
            reverse("sequences:campaign-detail", args=[obj.pk]),
        )


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(VisibleLeadsMixin, admin.ModelAdmin):
    """Who a campaign reached and what each did (written by the campaign's batches only)."""

    list_display = (
        "lead",
        "campaign",
        "owner",
        "status",
        "skip_reason",
        "queued_at",
        "clicked_at",
        "reengaged_at",
    )
    list_filter = ("status", "campaign")
    list_select_related = ("lead", "campaign", "owner")
    search_fields = ("lead__email", "lead__last_name")
    readonly_fields = [field.name for field in CampaignRecipient._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

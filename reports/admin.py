from django.contrib import admin
from django.db.models import Sum
from django.template.response import TemplateResponse
from django.urls import path

from leads.admin_access import BrokersOnlyMixin
from realtycrm import formats

from .models import Campaign, CampaignSpend, SegmentReport
from .views import report_context


class CampaignSpendInline(admin.TabularInline):
    model = CampaignSpend
    extra = 1
    fields = ("starts_on", "ends_on", "amount", "note")


@admin.register(Campaign)
class CampaignAdmin(BrokersOnlyMixin, admin.ModelAdmin):
    """Campaigns and what they cost: the brokerage's figures, for brokers."""

    list_display = ("name", "source_or_any", "origin", "utm_campaign", "total_spend")
    list_filter = ("source",)
    search_fields = ("name", "origin", "utm_campaign")
    fields = ("name", "origin", "source", "utm_campaign")
    inlines = [CampaignSpendInline]

    @admin.display(description="Source", ordering="source")
    def source_or_any(self, campaign):
        return campaign.get_source_display() if campaign.source else "Any source"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(total_spend=Sum("spends__amount"))

    @admin.display(description="Spend entered", ordering="total_spend")
    def total_spend(self, campaign):
        return "—" if campaign.total_spend is None else formats.money(campaign.total_spend)


@admin.register(SegmentReport)
class SegmentReportAdmin(admin.ModelAdmin):
    """The segment report as an admin page (Reports → Segment report), for staff. What it
    shows follows the same rule as everywhere: brokers see every lead, agents their own."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        return [path("", self.admin_site.admin_view(self.report_view), name=name)]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def report_view(self, request):
        context, status = report_context(request)
        context |= {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Segment report",
        }
        return TemplateResponse(
            request, "admin/reports/segmentreport/report.html", context, status=status
        )

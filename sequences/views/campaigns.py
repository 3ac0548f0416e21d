"""Reactivation campaigns in the dashboard, for brokers: the list with each campaign's numbers,
a new campaign (smart list → count → copy), its page (preview for a real contact, send,
progress, the report per owner).

Each view parses the request and calls one service (sequences.services.campaigns) or reads
(sequences.campaigns, reports.reactivation). Agents get 403: campaigns write to the whole
database.
"""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads.selectors import user_is_broker
from leads.views.base import dashboard_view
from realtycrm.http import ascii_digits
from reports.reactivation import COLUMNS, campaign_owner_rows, campaign_rows, campaign_total

from ..campaigns import Criteria, audience, campaign_render, criteria_summary
from ..forms import CampaignForm, StartFromForm
from ..models import ReactivationCampaign
from ..placeholders import sms_segments
from ..services.campaigns import CampaignNotDraft, campaign_save, campaign_send
from ..unsubscribe import email_footer

PREVIEW_CHOICES = 10
CAMPAIGNS_PAGE = 25


def broker_view(view):
    """Signed-in brokers only (dashboard_view first: a signed-out visitor goes to sign in)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not user_is_broker(request.user):
            raise PermissionDenied("Only a broker can run reactivation campaigns.")
        return view(request, *args, **kwargs)

    return dashboard_view(wrapper)


def _campaign(pk) -> ReactivationCampaign:
    return get_object_or_404(
        ReactivationCampaign.objects.select_related("owner", "created_by").prefetch_related("tags"),
        pk=pk,
    )


@require_GET
@broker_view
def campaign_list(request):
    campaigns = ReactivationCampaign.objects.select_related("created_by").order_by(
        "-created_at", "-id"
    )
    page = Paginator(campaigns, CAMPAIGNS_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "sequences/campaigns/list.html",
        {"rows": campaign_rows(list(page.object_list)), "columns": COLUMNS, "page": page},
    )


@require_http_methods(["GET", "POST"])
@broker_view
def campaign_create(request):
    return _campaign_form(request, None)


@require_http_methods(["GET", "POST"])
@broker_view
def campaign_edit(request, pk):
    campaign = _campaign(pk)
    if campaign.status != ReactivationCampaign.Status.DRAFT:
        messages.info(request, "This campaign went out: its list and copy stay as they were sent.")
        return redirect("sequences:campaign-detail", pk=campaign.pk)
    return _campaign_form(request, campaign)


def _campaign_form(request, campaign: ReactivationCampaign | None):
    start = StartFromForm(request.GET or None)
    if request.method == "POST":
        form = CampaignForm(request.POST, instance=campaign)
        if form.is_valid():
            try:
                saved = campaign_save(
                    campaign,
                    actor=request.user,
                    tags=form.cleaned_data["tags"],
                    **form.campaign_fields(),
                )
            except CampaignNotDraft:
                messages.error(request, "This campaign went out meanwhile: nothing was changed.")
                return redirect("sequences:campaign-detail", pk=campaign.pk)
            messages.success(request, f"Saved “{saved.name}”. Check the preview, then send it.")
            return redirect("sequences:campaign-detail", pk=saved.pk)
        status = 400
    else:
        initial = start.initial_copy() if campaign is None else {}
        form = CampaignForm(instance=campaign, initial=initial)
        status = 200
    criteria = form.criteria() if form.is_bound else _saved_criteria(campaign)
    context = {
        "form": form,
        "start_form": start,
        "campaign": campaign,
        "count": audience(criteria).count(),
        "summary": criteria_summary(criteria),
    }
    return render(request, "sequences/campaigns/form.html", context, status=status)


def _saved_criteria(campaign: ReactivationCampaign | None) -> Criteria:
    return Criteria.of(campaign) if campaign is not None else Criteria()


@require_GET
@broker_view
def campaign_count(request):
    """The live count beside the smart list (htmx, as the broker changes a criterion)."""
    form = CampaignForm(request.GET)
    criteria = form.criteria()
    return render(
        request,
        "sequences/campaigns/_count.html",
        {"count": audience(criteria).count(), "summary": criteria_summary(criteria)},
    )


@require_GET
@broker_view
def campaign_detail(request, pk):
    campaign = _campaign(pk)
    context = {"campaign": campaign, "columns": COLUMNS}
    criteria = Criteria.of(campaign)
    context["summary"] = criteria_summary(
        criteria, tags=list(campaign.tags.all()), owner=campaign.owner
    )
    if campaign.status == ReactivationCampaign.Status.DRAFT:
        context |= _preview(request, campaign, criteria)
    else:
        context["report_rows"] = [*campaign_owner_rows(campaign), campaign_total(campaign)]
    return render(request, "sequences/campaigns/detail.html", context)


def _preview(request, campaign: ReactivationCampaign, criteria: Criteria) -> dict:
    """The copy as one real contact of the list would get it (?contact= picks another of the
    first few), footer included; with the count that Send would reach."""
    contacts = audience(criteria).select_related("owner__agent")
    choices = list(contacts[:PREVIEW_CHOICES])
    chosen = next((c for c in choices if str(c.pk) == request.GET.get("contact")), None)
    if chosen is None and ascii_digits(request.GET.get("contact", "")):
        chosen = contacts.filter(pk=request.GET["contact"]).first()
    chosen = chosen or (choices[0] if choices else None)
    preview = {"count": contacts.count(), "contacts": choices, "contact": chosen}
    if chosen is None:
        return preview
    copy = campaign_render(campaign, chosen)
    preview |= {
        "email": copy.email,
        "email_footer": email_footer(chosen.email) if chosen.email else "",
        "sms": copy.sms if chosen.can_text else "",
        "sms_skipped": bool(copy.sms) and not chosen.can_text,
        "sms_segments": sms_segments(copy.sms) if copy.sms else None,
    }
    return preview


@require_POST
@broker_view
def campaign_send_view(request, pk):
    campaign = _campaign(pk)
    if campaign.status != ReactivationCampaign.Status.DRAFT:
        messages.info(request, "This campaign was sent already: nothing new was sent.")
        return redirect("sequences:campaign-detail", pk=campaign.pk)
    if not audience(Criteria.of(campaign)).exists():
        messages.error(request, "No dormant contact matches this list: there is nobody to send to.")
        return redirect("sequences:campaign-detail", pk=campaign.pk)
    count = campaign_send(campaign, actor=request.user)
    if count:
        messages.success(request, f"Sending “{campaign.name}” to {count:,} contacts.")
    else:
        messages.info(request, "This campaign was sent already: nothing new was sent.")
    return redirect("sequences:campaign-detail", pk=campaign.pk)


@require_GET
@broker_view
def campaign_progress(request, pk):
    """The progress bar (htmx polls it while the campaign is sending)."""
    campaign = get_object_or_404(ReactivationCampaign, pk=pk)
    return render(request, "sequences/campaigns/_progress.html", {"campaign": campaign})

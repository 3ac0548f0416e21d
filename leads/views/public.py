"""Public pages: the hosted intake forms, their thank-you pages, the privacy notice."""

from dataclasses import replace

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from realtycrm.flows.intake import submission_process
from realtycrm.http import client_ip, public_page, rate_limit_key
from sequences.campaigns import LINK_PARAMETER, LinkClaim, reactivation_link_read
from sequences.services.campaigns import recipient_clicked

from ..forms import INTAKE_FORMS
from ..intake import RequestInfo, raw_fields, submission_quarantine, submission_receive
from ..models import Lead
from ..phones import phone_display

MAX_QUERY_KEYS, MAX_QUERY_VALUE = 20, 300


def _intake_rate(group, request):
    return settings.INTAKE_RATE_LIMIT


def _page_query(request) -> dict[str, str]:
    """The page's query string (utm_*, listing, event), capped, as plain strings (cleaned for
    the database where it is stored: leads.intake.submission_receive)."""
    items = list(request.GET.items())[:MAX_QUERY_KEYS]
    return {key[:50]: value[:MAX_QUERY_VALUE] for key, value in items}


def _is_embed(request) -> bool:
    return request.GET.get("embed") == "1"


def _frame_policy(request, response):
    """?embed=1 pages may be framed by the brokerage's own site, and only those pages."""
    if _is_embed(request):
        ancestors = " ".join(["'self'", *settings.INTAKE_FRAME_ANCESTORS])
        response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
        response.xframe_options_exempt = True  # the CSP above decides who may frame it
    return response


# No CSRF cookie: the public forms carry no session to protect, and a form framed by the
# brokerage's own site (another origin) would get no cookie, so the prospect would see a refusal
# instead of "Thank you". The form's signed token (bound to the form, expiring), the honeypot and
# the rate limit protect them instead (leads.forms).
@csrf_exempt
@public_page
@require_http_methods(["GET", "POST"])
@ratelimit(key=rate_limit_key, rate=_intake_rate, method="POST", block=True, group="intake")
def intake(request, slug):
    form_class = INTAKE_FORMS.get(slug)
    if form_class is None:
        raise Http404("No such form")
    query = _page_query(request)
    claim = _link_claim(request, slug)
    if request.method == "POST":
        form = form_class(request.POST, query=query)
        info = RequestInfo(
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            form_url=request.build_absolute_uri(),
            query=query,
        )
        spam_reason = form.spam_reason()
        if spam_reason:
            # Answer a bot as if it had succeeded; keep what it sent where a broker can look.
            submission_quarantine(form_class.source, raw_fields(request.POST), info, spam_reason)
            return _redirect_thanks(request, slug)
        if form.token_refusal():
            # An old tab or another form's token: the answers come back, to send again.
            form = form.renewed()
        elif form.is_valid():
            submission = submission_receive(
                form_class.source,
                raw_fields(request.POST),
                info,
                # A personal link's form comes prefilled: a person may send it in a second,
                # and the link's signature already says who they are.
                review_reason="" if claim is not None else form.review_reason(),
                # The personal link names the lead this answer is about, and its campaign.
                mapped={"lead": claim.lead_id, "campaign": claim.campaign_id} if claim else None,
            )
            submission_process(
                submission, form.lead_fields(), sms_consent=form.cleaned_data["sms_consent"]
            )
            return _redirect_thanks(request, slug)
    else:
        form = form_class(query=query, initial=_prefill(claim))
        if claim is not None:
            recipient_clicked(lead_id=claim.lead_id, campaign_id=claim.campaign_id)
    response = render(
        request,
        "leads/intake_form.html",
        {"form": form, "embed": _is_embed(request)},
    )
    if claim is not None:
        # The page shows this contact's details: for them only, never a shared cache, and the
        # link (their token) goes nowhere else as a referrer.
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
    return _frame_policy(request, response)


def _link_claim(request, slug: str) -> LinkClaim | None:
    """What a reactivation campaign's personal link names (?r=…), when its signature holds
    and it has not expired, and the lead is still there; else None: the plain form."""
    if slug != "reactivation":
        return None
    claim = reactivation_link_read(request.GET.get(LINK_PARAMETER))
    if claim is None:
        return None
    contact = (
        Lead.objects.filter(pk=claim.lead_id)
        .values("first_name", "last_name", "email", "phone")
        .first()
    )
    if contact is None:
        return None
    return replace(claim, contact=contact)


def _prefill(claim: LinkClaim | None) -> dict:
    """The contact's details as we have them, for them to confirm or correct."""
    if claim is None:
        return {}
    return {**claim.contact, "phone": phone_display(claim.contact["phone"])}


def _redirect_thanks(request, slug):
    url = reverse("leads:intake-thanks", args=[slug])
    return redirect(f"{url}?embed=1" if _is_embed(request) else url)


THANKS = {
    "valuation": "We are pulling recent sales near your home. Your valuation is on its way by "
    "email, and a local agent may reach out to walk you through it.",
    "listing-ad": "We have your request. You will get the details of this home shortly, and an "
    "agent will contact you about it.",
    "giveaway": "You are entered. We will let you know if you win, and send you the odd bit of "
    "local news worth having, nothing more.",
    "open-house": "Thanks for visiting. We will send you the details of this home and of others "
    "like it.",
    "website": "Thanks for your question. You will hear back from us shortly.",
    "reactivation": "Thanks for updating us. We will be in touch soon.",
}


@public_page
@require_GET
def intake_thanks(request, slug):
    if slug not in INTAKE_FORMS:
        raise Http404("No such form")
    response = render(
        request,
        "leads/intake_thanks.html",
        {
            "message": THANKS[slug],
            "embed": _is_embed(request),
            "form_title": INTAKE_FORMS[slug].title,
        },
    )
    return _frame_policy(request, response)


@public_page
@require_GET
def privacy(request):
    return render(request, "leads/privacy.html")


def ratelimited(request, exception):
    """django-ratelimit's view: a clear 429 instead of a bare 403 (in the frame, for a framed
    form: a page the browser refuses to frame is a lost prospect)."""
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "600"
    match = request.resolver_match
    if match is not None and match.view_name == "leads:intake":
        _frame_policy(request, response)
    return response

"""Public pages: the hosted intake forms, their thank-you pages, the privacy notice.

Each form page says what its broker-edited copy says (leads.forms.intake_copy); a giveaway past
its end date shows "This giveaway has ended" and keeps, without entering, anything still sent.
Kiosk mode (?kiosk=1, an open-house tablet at the door): large tap targets, the thank-you page
goes back to an empty form for the next visitor after INTAKE_KIOSK_RESET_SECONDS (static/js/
kiosk.js), keeping the page's query (the open house) and never the last visitor's answers.
"""

from dataclasses import replace
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from realtycrm.flows.intake import submission_process
from realtycrm.http import client_ip, public_page, rate_limit_key
from sequences.campaigns import LINK_PARAMETER, LinkClaim, reactivation_link_read
from sequences.services.campaigns import recipient_clicked

from ..forms import INTAKE_FORMS, IntakeCopy, intake_copy
from ..intake import (
    RequestInfo,
    raw_fields,
    submission_quarantine,
    submission_receive,
    submission_reject,
)
from ..models import Channel, Lead
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


def _is_kiosk(request) -> bool:
    return request.GET.get("kiosk") == "1"


def _frame_policy(request, response):
    """?embed=1 pages may be framed by the brokerage's own site, and only those pages."""
    ancestors = "'none'"
    if _is_embed(request):
        ancestors = " ".join(["'self'", *settings.INTAKE_FRAME_ANCESTORS])
        response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
        response.xframe_options_exempt = True  # the CSP above decides who may frame it
    if _is_kiosk(request):
        _kiosk_policy(response, ancestors)
    return response


def _kiosk_policy(response, frame_ancestors: str) -> None:
    """A kiosk page is never stored (each visitor gets a fresh page and form token, and going
    back refetches an empty form rather than showing what the last visitor typed), and runs
    under the dashboard's CSP (no inline script or style), framed as ?embed=1 allows."""
    response["Cache-Control"] = "no-store"
    directives = [
        directive.strip()
        for directive in settings.DASHBOARD_CSP.split(";")
        if directive.strip() and not directive.strip().startswith("frame-ancestors")
    ]
    response["Content-Security-Policy"] = "; ".join(
        [*directives, f"frame-ancestors {frame_ancestors}"]
    )


def _kiosk_query(query: dict[str, str]) -> dict[str, str]:
    """What a kiosk keeps from visitor to visitor: the page's query (kiosk, embed, the open
    house, utm_*), never a reactivation campaign's personal link (one contact's details)."""
    return {key: value for key, value in query.items() if key != LINK_PARAMETER}


def _kiosk_context(request, slug: str, query: dict[str, str]) -> dict:
    if not _is_kiosk(request):
        return {"kiosk": False}
    url = reverse("leads:intake", args=[slug])
    return {
        "kiosk": True,
        "kiosk_url": f"{url}?{urlencode(_kiosk_query(query))}",
        "kiosk_reset_seconds": settings.INTAKE_KIOSK_RESET_SECONDS,
        "kiosk_idle_seconds": settings.INTAKE_KIOSK_IDLE_SECONDS,
        # An untouched form is fetched again well before its token could expire.
        "kiosk_refresh_seconds": min(3600, settings.INTAKE_FORM_TOKEN_HOURS * 1800),
    }


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
    kiosk = _is_kiosk(request)
    # A shared tablet never shows one contact's details to the next visitor.
    claim = None if kiosk else _link_claim(request, slug)
    # The copy is read for the page; a POST reads it first only for a form that can end.
    copy = None
    if request.method == "GET" or form_class.can_end:
        copy = intake_copy(form_class)
        if copy.ended(timezone.localdate()):
            return _ended(request, slug, form_class, copy, query)
    if request.method == "POST":
        form = form_class(request.POST, query=query, kiosk=kiosk)
        info = _request_info(request, query)
        spam_reason = form.spam_reason()
        if spam_reason:
            # Answer a bot as if it had succeeded; keep what it sent where a broker can look.
            submission_quarantine(form_class.source, raw_fields(request.POST), info, spam_reason)
            return _redirect_thanks(request, slug, query)
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
            return _redirect_thanks(request, slug, query)
    else:
        form = form_class(query=query, initial=_prefill(claim), kiosk=kiosk)
        if claim is not None:
            recipient_clicked(lead_id=claim.lead_id, campaign_id=claim.campaign_id)
    response = render(
        request,
        "leads/intake_form.html",
        {
            "form": form,
            "copy": copy or intake_copy(form_class),
            "embed": _is_embed(request),
            **_kiosk_context(request, slug, query),
        },
    )
    if claim is not None:
        # The page shows this contact's details: for them only, never a shared cache, and the
        # link (their token) goes nowhere else as a referrer.
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
    return _frame_policy(request, response)


def _request_info(request, query: dict[str, str]) -> RequestInfo:
    return RequestInfo(
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
        form_url=request.build_absolute_uri(),
        query=query,
    )


def _ended(request, slug: str, form_class, copy: IntakeCopy, query: dict[str, str]):
    """The giveaway is over: say so, clearly. Whatever is still sent (an old tab, a bot) is
    kept, never entered: quarantined when it is a clear bot, else stored as rejected, where a
    broker can see it and, if they choose, process it again from the admin."""
    late_entry = request.method == "POST"
    if late_entry:
        form = form_class(request.POST, query=query)
        info = _request_info(request, query)
        raw = raw_fields(request.POST)
        spam_reason = form.spam_reason()
        if spam_reason:
            submission_quarantine(form_class.source, raw, info, spam_reason)
        else:
            submission_reject(
                Channel.FORM,
                raw,
                info,
                {"giveaway": f"Sent after the giveaway ended ({copy.ends_on:%Y-%m-%d})."},
                source=form_class.source,
            )
    response = render(
        request,
        "leads/intake_ended.html",
        {
            "copy": copy,
            "late_entry": late_entry,
            "embed": _is_embed(request),
            **_kiosk_context(request, slug, query),
        },
        status=410,
    )
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


def _redirect_thanks(request, slug, query: dict[str, str]):
    url = reverse("leads:intake-thanks", args=[slug])
    if _is_kiosk(request):  # the thank-you page needs the way back to this kiosk's form
        return redirect(f"{url}?{urlencode(_kiosk_query(query))}")
    return redirect(f"{url}?embed=1" if _is_embed(request) else url)


@public_page
@require_GET
def intake_thanks(request, slug):
    form_class = INTAKE_FORMS.get(slug)
    if form_class is None:
        raise Http404("No such form")
    copy = intake_copy(form_class)
    response = render(
        request,
        "leads/intake_thanks.html",
        {
            "message": copy.thank_you,
            "embed": _is_embed(request),
            "form_title": copy.headline,
            **_kiosk_context(request, slug, _page_query(request)),
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

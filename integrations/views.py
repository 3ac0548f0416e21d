"""The broker's screen for the portal-email inbox: every email no parser could read (kept as a
rejected submission) or whose processing failed, newest first, each with a "make a lead from
this" form prefilled with what was found in it. Brokers only: these emails belong to no lead yet,
so an agent is told there is no such page (404).

The webhook itself is integrations/inbound_email.py.
"""

import json
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads.models import Submission
from leads.selectors import inbound_emails_waiting, user_is_broker
from leads.views.base import dashboard_view

from .email.mime import InboundEmail, email_from_post, is_email_post
from .email.services import inbound_email_dismiss, inbound_email_make_lead
from .forms import InboxLeadForm, initial_from_found

INBOX_PAGE = 25
PREVIEW_CHARS = 20_000


@dataclass(frozen=True)
class InboxItem:
    """One waiting email as the screen shows it."""

    submission: Submission
    found: dict
    subject: str
    sender: str
    why: str

    @property
    def name(self) -> str:
        found = self.found
        return " ".join(
            part for part in (found.get("first_name"), found.get("last_name")) if part
        ) or str(found.get("name") or "")


def inbox_item(submission: Submission) -> InboxItem:
    mapped = submission.mapped or {}
    found = mapped.get("found") or mapped.get("fields") or {}
    attribution = submission.attribution or {}
    return InboxItem(
        submission=submission,
        found=found,
        subject=str(attribution.get("subject") or found.get("subject") or ""),
        sender=str(attribution.get("from") or found.get("from") or ""),
        why=_why(submission),
    )


def _why(submission: Submission) -> str:
    """The reason it is waiting, in words: the first error it was kept with."""
    if submission.status == Submission.Status.FAILED:
        return "Read, but processing failed (the error is kept on the submission)."
    try:
        errors = json.loads(submission.error or "{}")
    except ValueError:
        return submission.error[:300]
    if isinstance(errors, dict):
        for messages_ in errors.values():
            if isinstance(messages_, list) and messages_:
                return str(messages_[0])[:300]
    return ""


def _brokers_only(request) -> None:
    if not user_is_broker(request.user):
        raise Http404("No such page")


@require_GET
@dashboard_view
def inbox(request):
    _brokers_only(request)
    waiting = inbound_emails_waiting(request.user).select_related("integration")
    page = Paginator(waiting, INBOX_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "integrations/inbox.html",
        {"page": page, "items": [inbox_item(submission) for submission in page]},
    )


@require_http_methods(["GET", "POST"])
@dashboard_view
def inbox_email(request, pk):
    """One waiting email: what it says, and the form that makes a lead of it."""
    _brokers_only(request)
    submission = get_object_or_404(
        inbound_emails_waiting(request.user).select_related("integration"), pk=pk
    )
    item = inbox_item(submission)
    status = 200
    if request.method == "POST":
        form = InboxLeadForm(request.POST)
        if form.is_valid():
            lead, why_not = inbound_email_make_lead(
                submission,
                form.lead_fields(),
                source=form.cleaned_data["source"],
                owner=form.cleaned_data["owner"],
                actor=request.user,
            )
            if lead is not None:
                url = reverse("leads:lead-detail", args=[lead.pk])
                messages.success(request, format_html('Lead made: <a href="{}">{}</a>.', url, lead))
                return redirect(url)
            messages.warning(request, f"No lead made: {why_not}")
            return redirect("integrations:inbox")
        status = 422
    else:
        form = InboxLeadForm(
            initial=initial_from_found({"source": submission.source, **item.found})
        )
    return render(
        request,
        "integrations/inbox_email.html",
        {"item": item, "form": form, "email": _preview(submission)},
        status=status,
    )


@require_POST
@dashboard_view
def inbox_dismiss(request, pk):
    """Not a lead (a newsletter, a reply): off the list, still kept as received."""
    _brokers_only(request)
    submission = get_object_or_404(inbound_emails_waiting(request.user), pk=pk)
    inbound_email_dismiss(submission, actor=request.user)
    messages.info(request, "Dismissed: it stays in the admin's submissions, off this list.")
    return redirect("integrations:inbox")


def _preview(submission: Submission) -> dict:
    """The stored email read again, for the broker to read: its headers and text."""
    data = submission.data or {}
    if is_email_post(data):
        try:
            email = email_from_post(data)
        except Exception:  # a preview must not fail the page: show the stored text instead
            email = InboundEmail(text=str(data)[:PREVIEW_CHARS])
    else:
        email = InboundEmail(text=str(data.get("body_head") or data.get("error") or ""))
    body = email.body
    return {
        "sender": email.sender,
        "sender_name": email.sender_name,
        "recipients": ", ".join(email.recipients[:5]),
        "subject": email.subject,
        "date": email.date,
        "body": body[:PREVIEW_CHARS],
        "cut": len(body) > PREVIEW_CHARS,
        "forwarded": len(email.forwarded),
    }

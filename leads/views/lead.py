"""One lead: its tags and why, contact details, timeline, and the actions an agent takes on it.

Every action is a small POST. From the lead page (htmx, target #lead) it answers with the lead
re-rendered; from elsewhere (Today's quick log) with 204 and the `lead-changed` event, so the
sections showing the lead refresh themselves; without JavaScript, with a redirect back.
Invalid input answers 422 with the form and its message, never a 500.
"""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from alerts.calls import call_for_card, call_play_allowed
from alerts.selectors import alert_open_for
from realtycrm import formats
from realtycrm.flows import contacts, reinquiry
from realtycrm.flows.contacts import contact_log, stage_change
from realtycrm.flows.routing import lead_reclassify
from sequences.forms import AppointmentForm, FollowUpForm, RescheduleForm
from sequences.models import Message
from sequences.selectors import (
    enrollment_for_display,
    lead_appointment_list,
    lead_message_list,
    lead_task_list,
)
from sequences.services.enrollment import STOP_STAGES
from sequences.services.one_off import confirmation_question, one_off_blocked_reasons

from .. import services
from ..dashboard_forms import (
    EMAIL,
    NOTE,
    SMS,
    SNOOZE_CHOICES,
    ClassifyForm,
    ContactForm,
    LogForm,
    OneOffForm,
    PauseForm,
    ReassignForm,
    StageForm,
)
from ..intake import ANSWER_FIELDS
from ..models import LeadEvent
from ..names import person_name
from ..selectors import (
    PROPOSING_KINDS,
    lead_for_dashboard,
    lead_pending_reinquiries,
    lead_tags_offered,
    user_is_broker,
)
from .base import LEAD_CHANGED, PageSlice, dashboard_view, safe_next

# What a channel recorded about the lead's campaign and ad, in the order an agent reads it.
ATTRIBUTION_LABELS = {
    "system": "System",
    "campaign_name": "Campaign",
    "campaign_id": "Campaign id",
    "adset_name": "Ad set",
    "adset_id": "Ad set id",
    "ad_name": "Ad",
    "ad_id": "Ad id",
    "page_name": "Page",
    "page_id": "Page id",
    "form_name": "Form",
    "form_id": "Form id",
    "platform": "Platform",
}
SECRET_WORDS = ("key", "token", "secret", "password")
MAX_ATTRIBUTION_ROWS = 20
MAX_ATTRIBUTION_VALUE = 200

TIMELINE_PAGE = 30
MESSAGES_PAGE = 10
TASKS_PAGE = 10
IN_FLIGHT = (Message.Status.QUEUED, Message.Status.SENDING)
IN_FLIGHT_WINDOW = timezone.timedelta(minutes=1)


def attribution_rows(attribution) -> list[tuple[str, str]]:
    """The channel's attribution (campaign and ad names and ids, the sending system) as
    (label, value) rows: known names first, nested ones flattened ("Campaign source"), lists
    joined. Payloads are untrusted: anything that looks like a credential is left out, and the
    rows and values are cut to what a card can show."""
    flat = []

    def walk(prefix: str, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}_{key}" if prefix else str(key), inner)
        elif isinstance(value, list):
            walk(prefix, ", ".join(str(item) for item in value if item not in (None, "")))
        elif value not in (None, "") and not any(word in prefix.lower() for word in SECRET_WORDS):
            flat.append((prefix, _money(value) if prefix.endswith("price") else str(value)))

    walk("", attribution if isinstance(attribution, dict) else {})
    order = list(ATTRIBUTION_LABELS)
    flat.sort(key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    return [
        (
            ATTRIBUTION_LABELS.get(key) or key.replace("_", " ").strip().capitalize(),
            value[:MAX_ATTRIBUTION_VALUE],
        )
        for key, value in flat[:MAX_ATTRIBUTION_ROWS]
    ]


# The answers a prospect gave, as the lead page labels them (the rest: the field's own name).
# Their name, email and phone head the contact card already.
ANSWER_LABELS = {
    "timeline": "Moving",
    "postal_code": "ZIP code",
    "inquiry_type": "Asked about",
    "asked_for_showing": "Showing",
}
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone")


def answer_rows(lead) -> list[tuple[str, str]]:
    """Every answer the prospect gave that has a value (leads.intake.ANSWER_FIELDS), as
    (label, value) rows: choices by their label, bathrooms without a trailing ".0", a showing
    request as a sentence. Nothing a prospect typed is left off the lead page."""
    rows = []
    for name in ANSWER_FIELDS:
        value = getattr(lead, name)
        if name in CONTACT_FIELDS or value in (None, "", False) or value == "unknown":
            continue
        field = lead._meta.get_field(name)
        if field.choices:
            value = getattr(lead, f"get_{name}_display")()
        elif name == "bathrooms":
            value = f"{Decimal(value).normalize():f}"
        elif name == "asked_for_showing":
            value = "Asked to see the home"
        label = ANSWER_LABELS.get(name) or str(field.verbose_name).capitalize()
        rows.append((label, str(value)))
    if lead.neighbourhood:
        rows.append(("Neighborhood", lead.neighbourhood))
    return rows


def _money(value) -> str:
    """A listing price as money ("$450,000"), whatever shape the channel sent it in."""
    try:
        return formats.money(str(value).replace(",", "").replace("$", "").strip())
    except ArithmeticError:
        return str(value)


def _timeline_page(lead, number=1):
    events = lead.events.select_related("actor").order_by("-occurred_at", "-id")
    return Paginator(events, TIMELINE_PAGE).get_page(number)


def messages_page(request, lead, number=1) -> PageSlice:
    return PageSlice(lead_message_list(request.user, lead), MESSAGES_PAGE, number)


def messages_in_flight(page: PageSlice) -> bool:
    """Whether a message on the page is due and not yet sent (a one-off just written): the
    panel then asks again every few seconds until it has gone."""
    soon = timezone.now() + IN_FLIGHT_WINDOW
    return any(message.status in IN_FLIGHT and message.scheduled_for <= soon for message in page)


def tasks_page(request, lead, number=1) -> PageSlice:
    return PageSlice(lead_task_list(request.user, lead), TASKS_PAGE, number)


APPOINTMENTS_SHOWN = 10
FOLLOW_UP, APPOINTMENT = "follow_up", "appointment"  # the Plan card's tabs


def plan_forms(lead, tab: str = FOLLOW_UP) -> dict:
    """The Plan card's two forms, open, blank: a follow-up and an appointment (a day and a time
    on the user's own wall clock: dashboard_view set it), `tab` the one shown first. The lead
    page loads them only when asked (a card of forms is a few ms and a phone's screen)."""
    now, zone = timezone.now(), timezone.get_current_timezone()
    return {
        "follow_up_form": FollowUpForm(now=now, zone=zone),
        "appointment_form": AppointmentForm(lead=lead, now=now, zone=zone),
        "plan_tab": tab if tab in (FOLLOW_UP, APPOINTMENT) else FOLLOW_UP,
        "plan_open": True,
    }


def appointment_rows(request, lead, *, failed=None) -> list:
    """The lead's appointments, each booked one with its reschedule form (`failed`: the
    (appointment pk, bound form) that did not validate, shown with its errors)."""
    now, zone = timezone.now(), timezone.get_current_timezone()
    rows = []
    for appointment in lead_appointment_list(request.user, lead)[:APPOINTMENTS_SHOWN]:
        form = None
        if appointment.is_booked:
            if failed and failed[0] == appointment.pk:
                form = failed[1]
            else:
                form = RescheduleForm(appointment=appointment, now=now, zone=zone)
        rows.append((appointment, form))
    return rows


def _lead_context(request, lead, **forms) -> dict:
    """Everything the lead page shows. `forms` replaces a part with the one that failed
    (a bound form and its errors, `task_error`, `one_off_channel` …)."""
    is_broker = user_is_broker(request.user)
    outbox_page = messages_page(request, lead)
    blocked = one_off_blocked_reasons(lead)
    context = {
        "lead": lead,
        "attribution": attribution_rows(lead.attribution),
        "answers": answer_rows(lead),
        "is_broker": is_broker,
        "now": timezone.now(),
        "timeline": _timeline_page(lead),
        "log_form": LogForm(),
        "classify_form": ClassifyForm(lead=lead),
        "stage_form": StageForm(lead=lead),
        "reassign_form": ReassignForm(lead=lead) if is_broker else None,
        "contact_form": None,  # the card shows the details; Edit swaps the form in
        "reinquiries": lead_pending_reinquiries(lead),  # new answers to accept or set aside
        # Sequences: the messages to the lead, one-off sends, its tasks, its automation.
        "messages_page": outbox_page,
        "messages_in_flight": messages_in_flight(outbox_page),
        "one_off_blocked": blocked,
        # "Sam texted “not interested”: did they ask to stop?" (when they may be texted at all)
        "opt_out_question": "" if blocked[SMS] else confirmation_question(lead),
        "sms_form": OneOffForm(channel=SMS),
        "email_form": OneOffForm(channel=EMAIL),
        "one_off_channel": SMS,
        "tasks_page": tasks_page(request, lead),
        "task_error_for": None,  # the task whose snooze failed, and why
        "task_error": "",
        "snooze_choices": SNOOZE_CHOICES,
        "enrollment": enrollment_for_display(lead),
        "automation_stopped_by_stage": lead.stage in STOP_STAGES,
        "pause_form": PauseForm(),
        "lead_alerts": list(alert_open_for(request.user).filter(lead=lead)),
        # Call-connect: the agent's own call to this lead, under way or asking how it went.
        "lead_call": call_for_card(request.user, lead),
        "call_playable": call_play_allowed(),
        # Appointments and follow-ups: the Plan card (its forms load when asked), the lead's
        # appointments.
        "plan_open": False,
        "appointment_rows": appointment_rows(request, lead),
    }
    # The tag card: the lead's tags and the names its form suggests, in one query.
    context["lead_tags"], context["tag_names"] = lead_tags_offered(request.user, lead)
    context.update(forms)
    return context


@require_GET
@dashboard_view
def lead_detail(request, pk):
    lead = lead_for_dashboard(request.user, pk)
    plan = request.GET.get("plan")  # the Plan card's forms open, without JavaScript
    forms = plan_forms(lead, plan) if plan else {}
    return render(request, "leads/lead.html", _lead_context(request, lead, **forms))


@require_GET
@dashboard_view
def lead_timeline(request, pk):
    """Older timeline entries, one page at a time ("Show older")."""
    lead = lead_for_dashboard(request.user, pk)
    page = _timeline_page(lead, request.GET.get("page"))
    return render(request, "leads/lead/_timeline_items.html", {"lead": lead, "timeline": page})


def action_done(request, lead, notice: str):
    """The answer to a successful action (see the module docstring)."""
    if request.htmx and request.htmx.target == "lead":
        response = render(
            request, "leads/lead/_lead.html", {**_lead_context(request, lead), "notice": notice}
        )
    elif request.htmx:
        response = HttpResponse(status=204)
    else:
        messages.success(request, notice)
        return redirect(safe_next(request, reverse("leads:lead-detail", args=[lead.pk])))
    return trigger_client_event(response, LEAD_CHANGED, {"lead": lead.pk})


def action_invalid(request, lead, *, message: str = "", **forms):
    """The lead page again with the form that failed and its message (422). From elsewhere
    (Today), the message alone, which the page shows as a notice."""
    if request.htmx and request.htmx.target != "lead":
        errors = [message] if message else []
        errors += [
            " ".join(error)
            for form in forms.values()
            if hasattr(form, "errors")
            for error in form.errors.values()
        ]
        return HttpResponse(" ".join(errors) or "Invalid input.", status=422)
    template = "leads/lead/_lead.html" if request.htmx else "leads/lead.html"
    context = _lead_context(request, lead, **forms)
    # Said once: a message one of the parts shows where it belongs (a task's snooze error under
    # that task) is not repeated at the top of the page.
    if message and message not in forms.values():
        context.setdefault("action_error", message)
    return render(request, template, context, status=422)


@require_POST
@dashboard_view
def lead_log(request, pk):
    """Log a call, text, email or in-person contact, or write a note."""
    lead = lead_for_dashboard(request.user, pk)
    form = LogForm(request.POST)
    if not form.is_valid():
        return action_invalid(request, lead, log_form=form)
    kind, note = form.cleaned_data["kind"], form.cleaned_data["note"]
    if kind == NOTE:
        services.lead_add_note(lead, actor=request.user, text=note)
        return action_done(request, lead, "Note added.")
    contact_log(lead, channel=kind, actor=request.user, note=note)
    return action_done(request, lead, f"{dict(form.fields['kind'].choices)[kind]} logged.")


@require_POST
@dashboard_view
def lead_classify(request, pk):
    """Change timeline, side or intent: routing re-segments the lead and moves its track."""
    lead = lead_for_dashboard(request.user, pk)
    form = ClassifyForm(request.POST, lead=lead)
    if not form.is_valid():
        return action_invalid(request, lead, classify_form=form)
    changes = form.changes()
    if not changes:
        return action_done(request, lead, "Nothing changed.")
    lead_reclassify(lead, actor=request.user, **changes)
    return action_done(request, lead, "Classification updated.")


@require_POST
@dashboard_view
def lead_stage(request, pk):
    lead = lead_for_dashboard(request.user, pk)
    form = StageForm(request.POST, lead=lead)
    if not form.is_valid():
        return action_invalid(request, lead, stage_form=form)
    moved = stage_change(
        lead, form.cleaned_data["stage"], actor=request.user, note=form.cleaned_data["note"]
    )
    return action_done(
        request, lead, f"Stage: {lead.get_stage_display()}." if moved else "Nothing changed."
    )


@require_http_methods(["GET", "POST"])
@dashboard_view
def lead_contact(request, pk):
    """GET: the contact card as a form (htmx swaps it in). POST: save it."""
    lead = lead_for_dashboard(request.user, pk)
    if request.method == "GET":
        form = ContactForm(lead=lead)
        if request.htmx:
            return render(
                request, "leads/lead/_contact_card.html", {"lead": lead, "contact_form": form}
            )
        return render(request, "leads/lead.html", _lead_context(request, lead, contact_form=form))
    form = ContactForm(request.POST, lead=lead)
    if form.is_valid():
        try:
            changed = services.lead_update_contact(lead, actor=request.user, **form.cleaned_data)
        except services.DuplicateContact as duplicate:
            # The same words whoever has the address, and no name: an agent must not learn that
            # a lead they cannot see exists (docs/security.md).
            lead.refresh_from_db()
            what = "email address" if duplicate.field == "email" else "phone number"
            form.add_error(duplicate.field, f"This {what} can't be used for this lead.")
        else:
            return action_done(
                request, lead, "Contact details saved." if changed else "Nothing changed."
            )
    return action_invalid(request, lead, contact_form=form)


@require_POST
@dashboard_view
def lead_reassign(request, pk):
    """Brokers only. An agent can open their own lead but not give it away (403)."""
    lead = lead_for_dashboard(request.user, pk)
    if not user_is_broker(request.user):
        raise PermissionDenied("Only a broker can reassign a lead.")
    form = ReassignForm(request.POST, lead=lead)
    if not form.is_valid():
        return action_invalid(request, lead, reassign_form=form)
    owner = form.cleaned_data["owner"]
    moved = contacts.lead_reassign(lead, owner, actor=request.user)
    name = person_name(owner)
    return action_done(request, lead, f"Reassigned to {name}." if moved else "Nothing changed.")


def _reinquiry_event(lead, event_pk) -> LeadEvent:
    return get_object_or_404(lead.events, pk=event_pk, kind__in=PROPOSING_KINDS)


ALREADY_RESOLVED = "These answers were already accepted or set aside."


@require_POST
@dashboard_view
def lead_reinquiry_accept(request, pk, event_pk):
    """One click: a re-inquiry's new answers become the lead's, recorded as this agent's."""
    lead = lead_for_dashboard(request.user, pk)
    event = _reinquiry_event(lead, event_pk)
    try:
        reinquiry.reinquiry_accept(lead, event, actor=request.user)
    except reinquiry.NothingPending:
        return action_invalid(request, lead, message=ALREADY_RESOLVED)
    except services.DuplicateContact as duplicate:
        lead.refresh_from_db()
        what = "email address" if duplicate.field == "email" else "phone number"
        return action_invalid(
            request, lead, message=f"This {what} can't be used for this lead: nothing was changed."
        )
    return action_done(request, lead, "New answers accepted.")


@require_POST
@dashboard_view
def lead_reinquiry_dismiss(request, pk, event_pk):
    """Keep what the lead had recorded; the new answers stay on the timeline and submission."""
    lead = lead_for_dashboard(request.user, pk)
    event = _reinquiry_event(lead, event_pk)
    try:
        reinquiry.reinquiry_dismiss(lead, event, actor=request.user)
    except reinquiry.NothingPending:
        return action_invalid(request, lead, message=ALREADY_RESOLVED)
    return action_done(request, lead, "Kept the recorded answers.")

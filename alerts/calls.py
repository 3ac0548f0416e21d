"""Call-connect: ring the agent's own phone, say who the lead is, and on 1 dial the lead from the
brokerage's number (docs/dashboard.md, "Calling a lead").

    call_create            a Call for an agent and a lead, placed after commit by a worker;
                           CallRefused says why not (no phone of their own, one under way)
    call_place             the worker: hand the call to VOICE_BACKEND, once
    call_announcement      what the agent hears: "Hot valuation lead, Dana Whitfield, 48 Harbor
                           View Drive: press 1 to connect."
    call_agent_answered    the agent picked up
    call_connect           they pressed 1: the lead is being dialed
    call_decline           they pressed something else, or nothing
    call_agent_leg         the agent's leg reported; a call that never reached the lead ends here
    call_lead_leg_update   what the lead's leg did; True the one time it ends (then the flow logs
                           the personal contact: realtycrm.flows.calls)
    call_set_outcome       the agent's one tap afterwards: talked, voicemail, no answer, wrong number
    calls_for_new_lead     an assignment rule that calls hot leads at once rings the owner
    call_link_url          the signed, expiring "connect a call" link in an alert's text
    call_play_allowed      development without a phone company: the lead page plays the answer

The provider's words stay in its backend (sequences/backends/twilio_voice.py); this module
works with the neutral CallLeg.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.tasks import async_task

from leads.models import Intent, Lead, LeadEvent, Source
from leads.names import person_name
from leads.services import lead_event_record
from realtycrm.http import ascii_digits
from sequences.backends import OutcomeUnknownError, ProviderError
from sequences.backends.voice import CallLeg, LegStatus, OutgoingCall, caller_id

from .models import Alert, Call

logger = logging.getLogger(__name__)

NO_AGENT_PHONE = (
    "Add your mobile number in My availability first: a call rings your phone, then dials the lead."
)
NO_LEAD_PHONE = "This lead has no phone number to call."
ONE_AT_A_TIME = "You already have a call under way: finish it first."
RECORDING_NOTICE = "This call may be recorded."
NOT_HEARD = "We did not hear a 1. Goodbye."
TOO_LATE = "Not placed: it waited too long to be sent. Call again."

# A call that has not reached the lead after this long will not any more: it stops counting as
# under way (the phone company never told us how it ended), so the agent can call again.
RING_GIVES_UP = timedelta(minutes=5)
# Nor a connected call with no word of its end after this long.
TALK_GIVES_UP = timedelta(hours=4)
# How long after its end a call stays on the lead page (the outcome is asked until answered).
SHOWN_AFTER_END = timedelta(minutes=30)

# How a source is said aloud: "Hot valuation lead …".
SPOKEN_SOURCE = {
    Source.VALUATION: "valuation",
    Source.LISTING_AD: "listing ad",
    Source.GIVEAWAY: "giveaway",
    Source.OPEN_HOUSE: "open house",
    Source.WEBSITE: "website",
    Source.REACTIVATION: "reactivation",
}
SPOKEN_INTENT = {
    Intent.HOT: "Hot",
    Intent.WARM: "Warm",
    Intent.LONG_TERM: "Long-term",
    Intent.UNKNOWN: "New",
}
# Why the agent's phone never got to the lead, by how their leg ended.
AGENT_LEG_ENDED = {
    LegStatus.NO_ANSWER: "Your phone did not answer.",
    LegStatus.BUSY: "Your phone was busy.",
    LegStatus.FAILED: "Your phone could not be reached.",
    LegStatus.CANCELED: "The call was canceled before you answered.",
    LegStatus.COMPLETED: "The call ended before you pressed 1.",
}
LEAD_NOT_ANSWERED = {
    LegStatus.NO_ANSWER: "no answer",
    LegStatus.BUSY: "busy",
    LegStatus.FAILED: "could not reach the number",
    LegStatus.CANCELED: "you hung up while it rang",
}


class CallRefused(Exception):
    """Why a call cannot be placed, in words for the agent."""


def voice_backend():
    return import_string(settings.VOICE_BACKEND)()


def call_play_allowed() -> bool:
    """No provider will call back (console, in-memory) and this is development (DEBUG, as in
    `make run`): the lead page may play the answer itself. Never in production, where a played
    call would be a made-up contact on the timeline."""
    simulated = getattr(import_string(settings.VOICE_BACKEND), "simulated", False)
    return bool(simulated and settings.DEBUG)


def call_webhook_url(name: str, call: Call) -> str:
    """A webhook URL as the provider calls it: the public one, so its signature validates."""
    return f"{settings.SITE_URL}{reverse(name, args=[call.pk])}"


# --- Placing a call ------------------------------------------------------------------------------


def calls_give_up(agent, now=None) -> int:
    """The agent's calls that stopped short with no word from the phone company stop counting
    as under way (so one lost webhook never blocks the next call)."""
    now = now or timezone.now()
    stale = Q(status__in=[Call.Status.QUEUED, Call.Status.RINGING, Call.Status.ANSWERED]) & Q(
        created_at__lt=now - RING_GIVES_UP
    ) | Q(status=Call.Status.CONNECTING, dialed_at__lt=now - TALK_GIVES_UP)
    return Call.objects.filter(stale, agent=agent).update(
        status=Call.Status.NOT_CONNECTED,
        ended_at=now,
        detail="No word from the phone company about this call.",
    )


def call_create(lead: Lead, *, agent, origin: str, alert: Alert | None = None) -> Call:
    """Write the call in the caller's transaction; a worker rings the agent after commit (the
    provider is never asked inside a request's or an intake's transaction). Raises CallRefused."""
    profile = getattr(agent, "agent", None)
    if profile is None or not profile.phone:
        raise CallRefused(NO_AGENT_PHONE)
    if not lead.phone:
        raise CallRefused(NO_LEAD_PHONE)
    calls_give_up(agent)
    try:
        with transaction.atomic():
            call = Call.objects.create(
                lead=lead,
                agent=agent,
                alert=alert,
                origin=origin,
                agent_number=profile.phone,
                lead_number=lead.phone,
                caller_id=caller_id(),
                recorded=settings.CALL_RECORDING,
            )
    except IntegrityError as exc:
        raise CallRefused(ONE_AT_A_TIME) from exc
    transaction.on_commit(lambda: call_place_later(call.pk), robust=True)
    return call


def call_place_later(call_id: int) -> None:
    async_task("alerts.tasks.call_place", call_id, task_name=f"call-{call_id}")


def call_place(call_id: int) -> str:
    """Ring the agent's phone, once: the first run claims the call (queued → ringing), a second
    finds nothing to do. A refusal ends the call as failed, never retried: a phone ringing
    minutes later, out of the blue, helps nobody."""
    now = timezone.now()
    late = Call.objects.filter(
        pk=call_id, status=Call.Status.QUEUED, created_at__lt=now - RING_GIVES_UP
    ).update(status=Call.Status.NOT_CONNECTED, ended_at=now, detail=TOO_LATE)
    if late:
        return "too late"  # a backlog of tasks: ringing now would come out of the blue
    claimed = Call.objects.filter(pk=call_id, status=Call.Status.QUEUED).update(
        status=Call.Status.RINGING
    )
    if not claimed:
        return "already placed"
    call = Call.objects.select_related("lead", "agent").get(pk=call_id)
    outgoing = OutgoingCall(
        to=call.agent_number,
        caller_id=call.caller_id,
        answer_url=call_webhook_url("alerts:call-answer", call),
        status_callback=call_webhook_url("alerts:call-status", call),
        reference=str(call.pk),
    )
    try:
        provider_id = voice_backend().place(outgoing)
    except OutcomeUnknownError as exc:
        # Twilio may have it: the phone may ring, and its webhooks say so. If nothing comes,
        # the call stops counting as under way after RING_GIVES_UP.
        logger.warning("Call %s: no answer from the provider: %s", call.pk, exc)
        Call.objects.filter(pk=call.pk).update(detail=str(exc)[:255])
        return "unknown"
    except (ProviderError, ImproperlyConfigured) as exc:
        logger.warning("Call %s could not be placed: %s", call.pk, exc)
        Call.objects.filter(pk=call.pk).update(
            status=Call.Status.FAILED, ended_at=timezone.now(), detail=str(exc)[:255]
        )
        if call.origin == Call.Origin.AUTO:
            lead_event_record(
                call.lead,
                LeadEvent.Kind.ALERT,
                summary=f"Could not ring {person_name(call.agent)}: {exc}",
                data={"call": call.pk},
            )
        return "failed"
    # The answer may have come back first and named the call already.
    Call.objects.filter(pk=call.pk, provider_id="").update(provider_id=provider_id)
    return provider_id


# --- What the agent hears --------------------------------------------------------------------


def call_announcement(lead: Lead) -> str:
    """Who is on the line, from the lead's fields in human words (no template a broker edits)."""
    source = SPOKEN_SOURCE.get(lead.source, "")
    what = f"{SPOKEN_INTENT.get(lead.intent, 'New')} {source} lead".replace("  ", " ")
    parts = [what, lead.full_name or "no name given"]
    where = lead.property_address or lead.open_house or lead.neighbourhood
    if where:
        parts.append(where)
    return f"{', '.join(parts)}: press 1 to connect."


# --- What the phone company reports ------------------------------------------------------------


def call_note_provider_id(call: Call, provider_id: str) -> None:
    """The agent's leg named by its first webhook, when that came before place() returned."""
    if provider_id and not call.provider_id:
        Call.objects.filter(pk=call.pk, provider_id="").update(provider_id=provider_id)
        call.provider_id = provider_id


def call_agent_answered(call: Call) -> bool:
    """The agent picked up. False when the call is past that (a repeated request)."""
    now = timezone.now()
    moved = Call.objects.filter(
        pk=call.pk, status__in=[Call.Status.QUEUED, Call.Status.RINGING]
    ).update(status=Call.Status.ANSWERED, answered_at=now)
    if moved:
        call.status, call.answered_at = Call.Status.ANSWERED, now
    return bool(moved)


def call_connect(call: Call) -> bool:
    """The agent pressed 1: the lead is dialed now. False when it was already (Twilio asking
    twice must not dial the lead twice) or the call is over."""
    now = timezone.now()
    moved = Call.objects.filter(
        pk=call.pk, status__in=[Call.Status.RINGING, Call.Status.ANSWERED]
    ).update(status=Call.Status.CONNECTING, dialed_at=now)
    if moved:
        call.status, call.dialed_at = Call.Status.CONNECTING, now
        call.answered_at = call.answered_at or now
        Call.objects.filter(pk=call.pk, answered_at__isnull=True).update(answered_at=now)
    return bool(moved)


def call_decline(call: Call, digits: str) -> None:
    """The agent pressed another key, or none: the lead is not dialed."""
    why = f"You pressed {digits[:4]}, not 1." if digits else "No key was pressed."
    _not_connected(call, why)


def _not_connected(call: Call, why: str) -> None:
    now = timezone.now()
    Call.objects.filter(
        pk=call.pk, status__in=[Call.Status.QUEUED, Call.Status.RINGING, Call.Status.ANSWERED]
    ).update(status=Call.Status.NOT_CONNECTED, ended_at=now, detail=why)
    call.refresh_from_db()


def call_agent_leg(call: Call, leg: CallLeg) -> None:
    """The agent's leg is over. A call that never got to the lead ends here, with why; one that
    did ends with the lead's own leg (call_lead_leg_update)."""
    if not leg.ended:
        if leg.status == LegStatus.ANSWERED:
            call_agent_answered(call)
        return
    _not_connected(call, AGENT_LEG_ENDED.get(leg.status, "The call ended."))


@transaction.atomic
def call_lead_leg_update(call: Call, leg: CallLeg) -> bool:
    """What the lead's leg did (its status callback, or the Dial's action: whichever comes
    first). True the one time the leg ends, after which the call is ENDED: answered or not, the
    lead was called, so it is logged (realtycrm.flows.calls); not answered, it is an attempt and
    its outcome is "no answer" without asking."""
    locked = Call.objects.select_for_update().get(pk=call.pk)
    changed = []
    if leg.provider_id and not locked.lead_leg_id:
        locked.lead_leg_id = leg.provider_id[:64]
        changed.append("lead_leg_id")
    if leg.status == LegStatus.ANSWERED and locked.lead_answered is None:
        locked.lead_answered = True  # on the line now (the card says so)
        changed.append("lead_answered")
    if leg.recording_url and not locked.recording_url:
        locked.recording_url = leg.recording_url
        changed.append("recording_url")
    first_end = leg.ended and locked.status != Call.Status.ENDED and locked.dialed_at is not None
    if first_end:
        now = timezone.now()
        locked.status = Call.Status.ENDED
        locked.ended_at = now
        locked.lead_answered = leg.answered
        locked.duration_seconds = (leg.duration_seconds or 0) if leg.answered else 0
        changed += ["status", "ended_at", "lead_answered", "duration_seconds"]
        if not leg.answered:
            locked.outcome, locked.outcome_at = Call.Outcome.NO_ANSWER, now
            locked.detail = LEAD_NOT_ANSWERED.get(leg.status, "not answered")
            changed += ["outcome", "outcome_at", "detail"]
    if changed:
        locked.save(update_fields=changed)
    for field in changed:
        setattr(call, field, getattr(locked, field))
    return first_end


def call_attach_contact(call: Call, event: LeadEvent) -> None:
    Call.objects.filter(pk=call.pk).update(contact_event=event)
    call.contact_event = event


def call_set_outcome(call: Call, outcome: str) -> None:
    """The agent's one tap after the call."""
    call.outcome, call.outcome_at = outcome, timezone.now()
    Call.objects.filter(pk=call.pk).update(outcome=call.outcome, outcome_at=call.outcome_at)


def call_contact_note(call: Call) -> str:
    """The logged contact's words: "talked, 4 min 12 s (call-connect)", "no answer, attempt …"."""
    if call.lead_answered:
        how = call.get_outcome_display().lower() if call.outcome else "answered"
        return f"{how}, {call.length_text} (call-connect)"
    # Not answered: how the phone company says it went ("busy"), unless the agent said otherwise.
    said = call.outcome not in ("", Call.Outcome.NO_ANSWER)
    how = call.get_outcome_display().lower() if said else call.detail
    return f"{how or 'no answer'}, attempt (call-connect)"


def call_contact_data(call: Call) -> dict:
    return {
        "call": call.pk,
        "answered": bool(call.lead_answered),
        "attempt": not call.lead_answered,
        "duration_seconds": call.duration_seconds or 0,
        "outcome": call.outcome,
    }


# --- Reads ---------------------------------------------------------------------------------------


def call_for_card(user, lead: Lead, now=None) -> Call | None:
    """The agent's own latest call to this lead while the lead page should show it: under way,
    waiting for its outcome, or just over."""
    now = now or timezone.now()
    call = Call.objects.filter(lead=lead, agent=user).order_by("-created_at", "-id").first()
    if call is None or call.is_active or call.needs_outcome:
        return call
    return call if call.ended_at and call.ended_at >= now - SHOWN_AFTER_END else None


# --- Hot leads, called at once -------------------------------------------------------------------


def calls_for_new_lead(lead: Lead, rule, alerts: list[Alert]) -> Call | None:
    """An assignment rule that calls hot leads at once (AssignmentRule.auto_call_hot) rings the
    owner the moment the lead arrives: the call is written with the lead and placed after
    commit. It follows the hot-lead alert that went to the owner, so the same policy holds (it
    ignores quiet hours, as that alert does); no such alert (a warm lead, a claim offer), no
    call."""
    if rule is None or not rule.auto_call_hot or lead.intent != Intent.HOT or not lead.owner_id:
        return None
    hot = next(
        (
            alert
            for alert in alerts
            if alert.reason == Alert.Reason.HOT_LEAD and alert.agent_id == lead.owner_id
        ),
        None,
    )
    if hot is None:
        return None
    name = person_name(lead.owner)
    try:
        call = call_create(lead, agent=lead.owner, origin=Call.Origin.AUTO, alert=hot)
    except CallRefused as refused:
        lead_event_record(
            lead, LeadEvent.Kind.ALERT, summary=f"Did not ring {name} to connect a call: {refused}"
        )
        return None
    lead_event_record(
        lead,
        LeadEvent.Kind.ALERT,
        summary=f"Ringing {name} to connect a call ({rule.name}: hot leads are called at once)",
        data={"call": call.pk, "alert": hot.pk},
    )
    return call


# --- The link in an alert's text -----------------------------------------------------------------

LINK_SALT = "alerts.call-link"


class CallLinkExpired(Exception):
    pass


def call_link_token(alert: Alert) -> str:
    """The alert and its recipient, signed and dated: only that agent, signed in, can use it."""
    return signing.TimestampSigner(salt=LINK_SALT).sign(f"{alert.pk}-{alert.agent_id}")


def call_link_url(alert: Alert) -> str:
    return f"{settings.SITE_URL}{reverse('alerts:call-link', args=[call_link_token(alert)])}"


def call_link_alert(token: str, user) -> Alert | None:
    """The alert a link was made for, when `user` is the agent it was sent to. None for a link
    that is forged or someone else's; CallLinkExpired once CALL_LINK_HOURS have passed."""
    signer = signing.TimestampSigner(salt=LINK_SALT)
    try:
        value = signer.unsign(token, max_age=timedelta(hours=settings.CALL_LINK_HOURS))
    except signing.SignatureExpired as exc:
        raise CallLinkExpired from exc
    except signing.BadSignature:
        return None
    alert_pk, _, agent_pk = value.partition("-")
    if not (ascii_digits(alert_pk) and ascii_digits(agent_pk)) or int(agent_pk) != user.pk:
        return None
    return (
        Alert.objects.select_related("lead", "lead__owner")
        .filter(pk=int(alert_pk), agent=user)
        .first()
    )

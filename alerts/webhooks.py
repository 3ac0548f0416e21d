"""Twilio Voice's webhooks for one call-connect (alerts.calls). CSRF-exempt, POST only, and every
one checked with Twilio's signature over our public URL (sequences.webhooks.twilio_signature_valid,
no DEBUG bypass): 403 unsigned or forged, 404 for a call we do not have, 400 for a request about
another call. The call's id is in the URL, which the signature covers.

    …/voice/answer/       the agent picked up: who the lead is, press 1 (TwiML)
    …/voice/connect/      the key they pressed: Dial the lead, or goodbye (TwiML)
    …/voice/whisper/      played to the lead before they connect: the recording notice (TwiML)
    …/voice/dialed/       the Dial's action: the lead's leg is over (TwiML: goodbye)
    …/voice/status/       the agent's leg, as it goes (status callback)
    …/voice/lead-status/  the lead's leg, as it goes (status callback)

Each is a single-row change and must answer while the phone is live, so it is handled at once
(unlike delivery receipts, which a worker applies); every step is safe to receive twice.
"""

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from realtycrm.flows.calls import call_lead_leg, call_pressed_one
from sequences.backends import twilio_voice
from sequences.webhooks import twilio_signature_valid

from . import calls
from .calls import RECORDING_NOTICE, call_webhook_url
from .models import Call

GOODBYE = "This call has ended. Goodbye."


def _twiml(text: str) -> HttpResponse:
    return HttpResponse(text, content_type="text/xml")


def twilio_call_view(*, lead_leg: bool = False):
    """A webhook of one call: signed by Twilio, for a call we have, about that call (the
    agent's leg, or the lead's leg dialed from it)."""

    def decorate(view):
        @csrf_exempt
        @require_POST
        def wrapper(request, pk):
            if not twilio_signature_valid(request):
                return HttpResponseForbidden("Invalid signature")
            call = get_object_or_404(Call.objects.select_related("lead", "agent"), pk=pk)
            if lead_leg:
                agent_leg = twilio_voice.parent_sid(request.POST)
            else:
                agent_leg = twilio_voice.call_sid(request.POST)
            if agent_leg and call.provider_id and agent_leg != call.provider_id:
                return HttpResponseBadRequest("Not this call")
            if not lead_leg:
                calls.call_note_provider_id(call, agent_leg)
            return view(request, call)

        return wrapper

    return decorate


@twilio_call_view()
def call_answer(request, call):
    if not (call.is_active and call.status != Call.Status.CONNECTING):
        return _twiml(twilio_voice.goodbye_twiml(GOODBYE))
    calls.call_agent_answered(call)
    return _twiml(
        twilio_voice.answer_twiml(
            calls.call_announcement(call.lead),
            connect_url=call_webhook_url("alerts:call-connect", call),
            not_heard=calls.NOT_HEARD,
        )
    )


@twilio_call_view()
def call_connect(request, call):
    digits = twilio_voice.pressed(request.POST)
    if digits != "1":
        calls.call_decline(call, digits)
        return _twiml(twilio_voice.goodbye_twiml("Not connecting. Goodbye."))
    if not call_pressed_one(call):
        return _twiml(twilio_voice.goodbye_twiml(GOODBYE))
    return _twiml(
        twilio_voice.connect_twiml(
            lead_number=call.lead_number,
            caller_id=call.caller_id,
            dial_action=call_webhook_url("alerts:call-dialed", call),
            lead_status_callback=call_webhook_url("alerts:call-lead-status", call),
            record=call.recorded,
            notice=RECORDING_NOTICE,
            whisper_url=call_webhook_url("alerts:call-whisper", call),
        )
    )


@twilio_call_view(lead_leg=True)
def call_whisper(request, call):
    return _twiml(twilio_voice.whisper_twiml(RECORDING_NOTICE))


@twilio_call_view()
def call_dialed(request, call):
    call_lead_leg(call, twilio_voice.leg_from_dial(request.POST))
    return _twiml(twilio_voice.goodbye_twiml(GOODBYE))


@twilio_call_view()
def call_status(request, call):
    calls.call_agent_leg(call, twilio_voice.leg_from_status(request.POST))
    return HttpResponse(status=204)


@twilio_call_view(lead_leg=True)
def call_lead_status(request, call):
    call_lead_leg(call, twilio_voice.leg_from_status(request.POST))
    return HttpResponse(status=204)

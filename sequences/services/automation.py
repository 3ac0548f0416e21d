"""Automation an agent (or a reply) controls: pause, resume, stop, and what a stage change stops.

automation_pause / automation_resume / automation_stop / automation_on_stage_change
"""

from django.db import transaction
from django.utils import timezone

from leads.models import Lead, LeadEvent, Stage
from leads.names import person_name
from leads.services import lead_event_record

from .. import schedule
from ..models import Enrollment
from ..selectors import track_steps
from .enrollment import (
    STOP_STAGES,
    enrollment_pause,
    enrollment_start,
    enrollment_stop,
    open_enrollment,
)


def _who(actor) -> str:
    return person_name(actor, nobody="the system")


@transaction.atomic
def automation_pause(lead: Lead, *, actor, reason: str = "") -> Enrollment | None:
    """Stop sending the lead automated messages for now (a reply, or an agent's call). What
    was queued is not sent; the track's clock stops until automation_resume."""
    enrollment = open_enrollment(lead)
    if enrollment is None or enrollment.status != Enrollment.Status.ACTIVE:
        return enrollment
    why = reason or f"Paused by {_who(actor)}"
    enrollment_pause(enrollment, why)
    lead_event_record(
        lead,
        LeadEvent.Kind.AUTOMATION_PAUSED,
        actor=actor,
        summary=f"{enrollment.track} paused: {why}",
        data={"enrollment": enrollment.pk},
    )
    return enrollment


@transaction.atomic
def automation_resume(lead: Lead, *, actor) -> Enrollment | None:
    """Pick the track up where it stopped (its offsets move by the time spent paused); a lead
    with no open enrolment restarts its track, without a second acknowledgment."""
    now = timezone.now()
    enrollment = open_enrollment(lead)
    if enrollment is not None and enrollment.status == Enrollment.Status.PAUSED:
        enrollment.clock_start += now - (enrollment.paused_at or now)
        specs, _ = track_steps(enrollment.track_id)
        enrollment.next_due_at = schedule.next_due_at(
            specs,
            clock_start=enrollment.clock_start,
            done_through_minutes=enrollment.done_through_minutes,
        )
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.status_reason = ""
        enrollment.paused_at = None
        enrollment.save()
        summary = f"{enrollment.track} resumed by {_who(actor)}"
    elif enrollment is None and lead.nurture_track_id and lead.stage not in STOP_STAGES:
        enrollment = enrollment_start(lead, lead.nurture_track, acknowledge=False, now=now)
        summary = f"{enrollment.track} restarted by {_who(actor)}"
    else:
        return enrollment
    lead_event_record(
        lead,
        LeadEvent.Kind.AUTOMATION_RESUMED,
        actor=actor,
        summary=summary,
        data={"enrollment": enrollment.pk},
    )
    return enrollment


def automation_stop(lead: Lead, *, reason: str, actor=None) -> Enrollment | None:
    """End the lead's automation for good: nothing queued goes, the track's open tasks close."""
    return enrollment_stop(lead, reason=reason, actor=actor)


def automation_on_stage_change(lead: Lead, stage: str, *, actor=None) -> None:
    """Called by realtycrm.flows.contacts.stage_change: an appointment, a client, a closed or a
    lost lead is in a person's hands, so automation stops."""
    if stage in STOP_STAGES:
        enrollment_stop(lead, reason=f"stage changed to {Stage(stage).label}", actor=actor)

"""Alerts: interrupt the right agent, record when they respond, escalate when they do not.

    alerts_for_new_lead   hot → owner (SMS + email now); claim group → everyone; warm → owner, later
    alert_on_reinquiry    a hot lead asking again re-alerts its owner once per window
    alert_on_reply        the lead answered a message
    alert_text_fallback   a hot alert whose text could not go goes by email as well
    alert_acknowledge     "I'm on it", opening the lead from the alert, or logging a contact
    alerts_on_claim       a claim won: the winner's alert acknowledged, everyone else's closed
    alerts_escalate       every minute: 5 min re-alert, 15 min broker, 30 min reassign, and
                          offers nobody claimed go to the fallback

Who owns a lead is leads.ownership's answer; the flows (realtycrm/flows/) call it, then these.

Every alert's messages go through the outbox with keys derived from the alert and the step, so a
step that runs twice sends nothing twice. An urgent alert's text has a Web Push beside it, on
every browser its agent enabled (alerts/push.py), sent after commit.
"""

import logging
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.models import Agent, AssignmentRule, Intent, Lead, LeadEvent
from leads.names import person_name as _name
from leads.ownership import (
    Assignment,
    agent_row_locked,
    brokers,
    lead_assign,
    lead_offer_fallback,
    offers_expired,
)
from leads.selectors import lead_visible_to
from leads.services import lead_event_record, lead_mark_alert_acknowledged
from realtycrm.clock import duration_text, in_daily_window
from sequences.batching import messages_held_ignored
from sequences.models import Message
from sequences.outbox import message_queue, messages_queue
from sequences.services.agent_tasks import no_consent_call_task_open
from sequences.services.appointments import appointments_follow_owner

from . import messages, push
from .models import Alert

logger = logging.getLogger(__name__)


# --- Raising alerts ---------------------------------------------------------------------------


def alert_raise(
    lead: Lead,
    agent,
    reason: str,
    *,
    rule: AssignmentRule | None = None,
    detail: str = "",
    channels: tuple[str, ...] = ("sms", "email"),
    now: datetime | None = None,
    lead_is_new: bool = False,
) -> Alert | None:
    """Open an alert for one agent about one lead and send it. Returns None when the agent may not
    see the lead, or when the same alert is already open (never a second, never a storm).
    `lead_is_new`: the lead was created in this transaction, so no alert of it can be open."""
    now = now or timezone.now()
    claimable = reason == Alert.Reason.CLAIM and lead.owner_id is None
    # Its owner sees a lead (lead_visible_to): asking the database is for everyone else.
    owns = agent.is_authenticated and lead.owner_id == agent.pk
    if not (claimable or owns) and not lead_visible_to(agent).filter(pk=lead.pk).exists():
        logger.warning("Not alerting %s about lead %s they cannot see", agent, lead.pk)
        return None
    alert = Alert(
        lead=lead, agent=agent, reason=reason, rule=rule, detail=detail[:255], created_at=now
    )
    if lead_is_new:
        alert.save(force_insert=True)
    else:
        try:
            with transaction.atomic():
                alert.save(force_insert=True)
        except IntegrityError:
            return None  # already open for this lead, reason and agent
    lead_event_record(
        lead,
        LeadEvent.Kind.ALERT,
        summary=f"Alerted {_name(agent)}: {alert.get_reason_display().lower()}",
        data={"alert": alert.pk, "reason": reason, "agent": agent.pk},
        occurred_at=now,
    )
    _notify(alert, step="raised", channels=channels, now=now, fresh=True)
    return alert


def _notify(
    alert: Alert, *, step: str, channels, now: datetime, fresh: bool = False
) -> list[Message]:
    """Queue the alert's SMS and email to its agent. Urgent alerts go now; others wait for the end
    of the agent's own quiet hours. Returns the messages (existing ones for keys already queued).
    `fresh`: the alert was created in this transaction, so no message has its key yet (the
    keys name its new id) and both are written in one insert."""
    agent_profile = getattr(alert.agent, "agent", None)
    send_at = None
    if not alert.is_urgent and agent_profile is not None:
        send_at = after_quiet_hours(agent_profile, now)
    addresses = {
        Message.Channel.SMS: agent_profile.phone if agent_profile else "",
        Message.Channel.EMAIL: alert.agent.email,
    }
    if Message.Channel.SMS in channels:
        # Beside the text, on every browser the agent enabled: urgent alerts only, after commit.
        push.alert_push_queue(alert, step)
    queued, outgoing = [], []
    for channel in channels:
        to = addresses.get(channel)
        if not to:
            continue
        if channel == Message.Channel.SMS:
            digest = _text_capped(alert, step, to, send_at or now, fresh=fresh)
            if digest is not None:
                queued.append(digest)
                continue
            subject, body = "", messages.alert_sms(alert)
        else:
            subject, body = messages.alert_email(alert)
        outgoing.append(
            dict(
                channel=channel,
                to=to,
                subject=subject,
                body=body,
                idempotency_key=_message_key(alert, step, channel),
                purpose=Message.Purpose.ALERT,
                audience=Message.Audience.AGENT,
                lead=alert.lead,
                agent=alert.agent,
                scheduled_for=send_at,
            )
        )
    if fresh:
        return [*queued, *messages_queue(outgoing, keys_are_new=True)]
    return [*queued, *(message_queue(**item) for item in outgoing)]


def _message_key(alert: Alert, step: str, channel: str) -> str:
    return f"alert:{alert.pk}:{step}:{channel}"


# --- The hourly cap on alert texts to one agent --------------------------------------------------
# A burst (fifty hot submissions from fifty addresses) must not become fifty texts to one phone.
# Each agent gets at most ALERT_SMS_PER_AGENT_PER_HOUR alert texts per clock hour (UTC, by when
# the text is due); past that, the alert's text joins that hour's one grouped text, "N new hot
# leads — open RealtyCRM", sent at the end of the hour. The alert itself, its email, its toast
# and its place on Today are never held back or dropped.


def _text_capped(
    alert: Alert, step: str, to: str, due: datetime, *, fresh: bool = False
) -> Message | None:
    """None when this alert's own text may go (under the cap, or already queued); otherwise the
    hour's grouped text, now counting this alert too. `fresh`: the alert is new in this
    transaction (none of its texts can be queued yet)."""
    if (
        not fresh
        and Message.objects.filter(idempotency_key=_message_key(alert, step, "sms")).exists()
    ):
        return None  # this step's text was queued earlier: message_queue returns it again
    start = due.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=1)
    with transaction.atomic(savepoint=False):  # the caller's transaction, or its own
        # One agent's alerts take their turn here, so two at once cannot both see room left
        # (a new lead's owner was locked by the round robin that chose them).
        if not (fresh and agent_row_locked(alert.agent)):
            list(
                Agent.objects.select_for_update(of=("self",))
                .filter(user_id=alert.agent_id)
                .order_by()
                .values_list("pk", flat=True)
            )
        # Only agents' messages count: an intake's held acknowledgment need not be written first.
        with messages_held_ignored(lambda held: held.audience == Message.Audience.AGENT):
            texted = Message.objects.filter(
                agent=alert.agent,
                channel=Message.Channel.SMS,
                purpose=Message.Purpose.ALERT,
                audience=Message.Audience.AGENT,
                idempotency_key__startswith="alert:",
                scheduled_for__gte=start,
                scheduled_for__lt=end,
            ).count()
        if texted < settings.ALERT_SMS_PER_AGENT_PER_HOUR:
            return None
        key = f"alert-digest:{alert.agent.pk}:{start:%Y%m%dT%H}"
        # Past the cap, the hour's grouped text usually exists already: found, not inserted
        # (message_queue inserts first, and a failed insert costs a savepoint's round trips).
        digest = Message.objects.filter(idempotency_key=key).first() or message_queue(
            channel=Message.Channel.SMS,
            to=to,
            body="",
            idempotency_key=key,
            purpose=Message.Purpose.ALERT,
            audience=Message.Audience.AGENT,
            agent=alert.agent,
            scheduled_for=end,
        )
        Alert.objects.filter(pk=alert.pk).update(text_digest=digest)
        alert.text_digest = digest
        grouped = Alert.objects.filter(text_digest=digest)
        body = messages.alert_digest_sms(
            grouped.count(), grouped.filter(reason=Alert.Reason.HOT_LEAD).count()
        )
        rewritten = Message.objects.filter(pk=digest.pk, status=Message.Status.QUEUED).update(
            body=body
        )
    if not rewritten:
        # The hour's grouped text already went (an alert dated in an hour that has ended):
        # this one goes on its own rather than not at all.
        return None
    digest.body = body
    return digest


_MESSAGE_KEY = re.compile(r"alert:(?P<alert>\d+):(?P<step>\w+):(?P<channel>sms|email)")


def alert_text_fallback(message: Message) -> Message | None:
    """The outbox could not send a hot alert's text (an outage holding it for a retry, a failure,
    the horizon, a suppressed number, an undelivered receipt): the same alert goes by email, at
    once, unless that step's email is already queued. The email's key is the step's own, so it is
    queued once however often the text fails. Nothing once the alert is closed (the agent is on
    it). Returns the email queued now, or None."""
    if (
        message.channel != Message.Channel.SMS
        or message.purpose != Message.Purpose.ALERT
        or message.audience != Message.Audience.AGENT
        or message.status == Message.Status.SENT
    ):
        return None
    key = _MESSAGE_KEY.fullmatch(message.idempotency_key)
    if key is None:
        return None
    alert = (
        Alert.objects.select_related("lead", "agent", "agent__agent")
        .filter(pk=int(key["alert"]))
        .first()
    )
    if alert is None or not alert.is_urgent or not alert.is_open or not alert.agent.email:
        return None
    step = key["step"]
    if Message.objects.filter(idempotency_key=_message_key(alert, step, "email")).exists():
        return None
    (email,) = _notify(alert, step=step, channels=(Message.Channel.EMAIL,), now=timezone.now())
    lead_event_record(
        alert.lead,
        LeadEvent.Kind.ALERT,
        summary=f"The text to {_name(alert.agent)} could not go "
        f"({message.get_status_display().lower()}): alerted by email",
        data={"alert": alert.pk, "message": message.pk, "email": email.pk},
    )
    return email


def after_quiet_hours(agent, now: datetime) -> datetime | None:
    """When a non-urgent alert may go out: now, or the end of the agent's quiet hours."""
    start, end = agent.alert_quiet_start, agent.alert_quiet_end
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(ZoneInfo(agent.time_zone))
    moment = local.time()
    if not in_daily_window(moment, start, end):
        return None
    wake = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if wake <= local:
        wake += timedelta(days=1)
    return wake


@transaction.atomic(savepoint=False)
def alerts_for_new_lead(
    lead: Lead, assignment: Assignment, *, alert: bool, created: bool = False
) -> list[Alert]:
    """What a new lead's arrival interrupts: its owner when the routing rule says so (hot), every
    member of a claim group, or its owner's day (warm leads that need personal outreach).
    `created`: the lead was inserted in this transaction (a re-engaging contact was not)."""
    raised = []
    if assignment.claim_group:
        for agent in assignment.claim_group:
            raised.append(
                alert_raise(
                    lead,
                    agent,
                    Alert.Reason.CLAIM,
                    rule=assignment.rule,
                    channels=("sms", "email") if alert else ("email",),
                    lead_is_new=created,
                )
            )
    elif lead.owner_id and alert:
        raised.append(
            alert_raise(
                lead,
                lead.owner,
                Alert.Reason.HOT_LEAD,
                rule=assignment.rule,
                lead_is_new=created,
            )
        )
    elif lead.owner_id and lead.intent == Intent.WARM:
        raised.append(
            alert_raise(
                lead,
                lead.owner,
                Alert.Reason.WARM_OUTREACH,
                channels=("email",),
                lead_is_new=created,
            )
        )
    return [alert for alert in raised if alert]


def alert_became_hot(lead: Lead, *, actor=None) -> Alert | None:
    """A lead turned hot after it arrived (a hotter answer on a re-inquiry, or a broker's call):
    interrupt its owner, unless the owner made the change themselves."""
    if lead.owner_id is None or (actor is not None and actor.pk == lead.owner_id):
        return None
    return alert_raise(lead, lead.owner, Alert.Reason.HOT_LEAD)


def alerts_on_reassign(lead: Lead, *, previous, actor=None, interrupt: bool = True) -> Alert | None:
    """A broker gave the lead to someone else: the previous owner's alerts about it close, and the
    new owner is interrupted when the lead is hot and still waits for a first personal contact.
    `interrupt=False` for a bulk reassign: fifty leads handed over at once are not fifty texts and
    emails; the hot ones waiting head the new owner's Today (the hot queue)."""
    now = timezone.now()
    if previous is not None:
        Alert.objects.filter(lead=lead, agent=previous, closed_at__isnull=True).update(
            closed_at=now, detail=f"Reassigned to {_name(lead.owner)}"
        )
    hot_and_waiting = lead.intent == Intent.HOT and lead.first_personal_contact_at is None
    if not interrupt or not hot_and_waiting or (actor is not None and actor.pk == lead.owner_id):
        return None
    by = f" by {_name(actor)}" if actor is not None else ""
    return alert_raise(
        lead, lead.owner, Alert.Reason.REASSIGNMENT, detail=f"Reassigned to you{by}", now=now
    )


def alert_on_reinquiry(lead: Lead) -> Alert | None:
    """A hot lead asking again re-alerts its current owner once per window, never more."""
    if lead.intent != Intent.HOT or lead.owner_id is None:
        return None
    window = timedelta(minutes=settings.ALERT_REINQUIRY_WINDOW_MINUTES)
    recent = Alert.objects.filter(
        lead=lead, reason=Alert.Reason.REINQUIRY, created_at__gte=timezone.now() - window
    )
    if recent.exists():
        return None
    return alert_raise(lead, lead.owner, Alert.Reason.REINQUIRY, detail="Submitted another form")


def alert_on_reply(lead: Lead, *, body: str) -> Alert | None:
    if lead.owner_id is None:
        return None
    return alert_raise(lead, lead.owner, Alert.Reason.REPLY, detail=body[:255])


def alert_on_possible_opt_out(lead: Lead, *, body: str) -> Alert | None:
    """The lead's text may have asked to stop ("not interested"): the owner reads it and says."""
    if lead.owner_id is None:
        return None
    quote = " ".join(body.split())
    detail = f"Confirm: did they ask to stop? “{quote}”"
    return alert_raise(lead, lead.owner, Alert.Reason.REPLY, detail=detail[:255])


# --- Responding -------------------------------------------------------------------------------


@transaction.atomic
def alert_acknowledge(alert: Alert, *, by, how: str) -> bool:
    """The recipient is on it. Returns False when the alert was already closed."""
    now = timezone.now()
    closed = Alert.objects.filter(pk=alert.pk, closed_at__isnull=True).update(
        acknowledged_at=now, closed_at=now
    )
    if not closed:
        return False
    alert.acknowledged_at = alert.closed_at = now
    lead_mark_alert_acknowledged(alert.lead, now)
    lead_event_record(
        alert.lead,
        LeadEvent.Kind.ALERT_ACKNOWLEDGED,
        actor=by,
        summary=f"{_name(by)} acknowledged ({how}) after {duration_text(now - alert.created_at)}",
        data={"alert": alert.pk, "how": how},
    )
    return True


def alerts_acknowledge_lead(lead: Lead, *, agent, how: str) -> int:
    """Close every open alert this agent has about this lead (e.g. they logged a call)."""
    alerts = Alert.objects.filter(lead=lead, agent=agent, closed_at__isnull=True).select_related(
        "lead"
    )
    return sum(alert_acknowledge(alert, by=agent, how=how) for alert in alerts)


def alerts_on_claim(lead: Lead, *, agent) -> None:
    """`agent` claimed the lead (leads.ownership.lead_claim): their offer alert is acknowledged,
    everyone else's closes."""
    offered = Alert.objects.filter(
        lead=lead, agent=agent, reason=Alert.Reason.CLAIM, closed_at__isnull=True
    ).first()
    if offered is not None:
        alert_acknowledge(offered, by=agent, how="claimed")
    Alert.objects.filter(lead=lead, reason=Alert.Reason.CLAIM, closed_at__isnull=True).update(
        closed_at=timezone.now(), detail=f"Claimed by {_name(agent)}"
    )


# --- Escalation -------------------------------------------------------------------------------


def alerts_escalate(now: datetime | None = None) -> dict[str, int]:
    """One sweep of the escalation ladder, derived from the database alone: each step of each
    alert happens once, in its own transaction, however often (or rarely) the sweep runs."""
    now = now or timezone.now()
    done = {"reminded": 0, "broker": 0, "reassigned": 0, "claim_fallback": 0}
    hot = Alert.objects.filter(
        reason__in=(Alert.Reason.HOT_LEAD, Alert.Reason.REASSIGNMENT), closed_at__isnull=True
    ).select_related("lead", "agent__agent", "rule")
    for alert in hot:
        ladder = settings.ALERT_ESCALATION.get(alert.lead.intent)
        if not ladder or alert.lead.owner_id != alert.agent_id:
            continue
        age = now - alert.created_at
        for level, (step, minutes) in enumerate(ladder.items(), start=1):
            if alert.escalation_level >= level or age < timedelta(minutes=minutes):
                continue
            try:
                if _escalation_step(alert, level, step, now):
                    done[STEP_COUNTER[step]] += 1
            except Exception:
                # Rolled back whole: the step is still due and the next sweep retries it. One
                # failing alert never holds up the others.
                logger.exception("Escalation step %s of alert %s failed", step, alert.pk)
                break
    for offer in offers_expired(now):
        done["claim_fallback"] += _claim_fallback(offer.lead, offer.rule, now)
    return done


STEP_COUNTER = {"remind_owner": "reminded", "alert_broker": "broker", "reassign": "reassigned"}


@transaction.atomic
def _escalation_step(alert: Alert, level: int, step: str, now: datetime) -> bool:
    advanced = Alert.objects.filter(
        pk=alert.pk, closed_at__isnull=True, escalation_level=alert.escalation_level
    ).update(escalation_level=level, escalated_at=now)
    if not advanced:
        return False  # acknowledged meanwhile, or another worker took this step
    alert.escalation_level, alert.escalated_at = level, now
    lead = alert.lead
    if step == "remind_owner":
        _notify(alert, step="reminder", channels=("sms",), now=now)
        lead_event_record(lead, LeadEvent.Kind.ALERT, summary=f"Reminded {_name(alert.agent)}")
    elif step == "alert_broker":
        recipients = [alert.rule.backup] if alert.rule and alert.rule.backup else brokers()
        for recipient in recipients:
            alert_raise(
                lead,
                recipient,
                Alert.Reason.ESCALATION,
                detail=f"{_name(alert.agent)} has not acknowledged after "
                f"{duration_text(now - alert.created_at)}",
                now=now,
            )
    elif step == "reassign":
        if lead.first_personal_contact_at is not None:
            return True  # contacted meanwhile: nothing to take away
        _reassign(lead, previous=alert.agent, now=now)
    return True


def _reassign(lead: Lead, *, previous, now: datetime) -> None:
    """Thirty minutes without contact: the next available agent gets the lead; both are told."""
    assignment = lead_assign(lead, now=now, exclude=[previous])
    if assignment.owner is not None:
        appointments_follow_owner([lead], assignment.owner)
    Alert.objects.filter(lead=lead, agent=previous, closed_at__isnull=True).update(
        closed_at=now, detail="Reassigned to another agent"
    )
    if assignment.owner is None:
        return
    alert_raise(
        lead,
        assignment.owner,
        Alert.Reason.REASSIGNMENT,
        detail=f"Reassigned from {_name(previous)}: no contact in time",
        now=now,
    )
    # The previous owner can no longer open the lead, so they get an email, not an alert.
    if previous.email:
        message_queue(
            channel=Message.Channel.EMAIL,
            to=previous.email,
            subject=f"{lead.full_name or 'A hot lead'} was reassigned",
            body=messages.reassigned_away(lead, assignment.owner),
            idempotency_key=f"reassigned-away:{lead.pk}:{previous.pk}:{assignment.owner.pk}",
            purpose=Message.Purpose.ALERT,
            audience=Message.Audience.AGENT,
            lead=lead,
            agent=previous,
        )


def _claim_fallback(lead: Lead, rule: AssignmentRule | None, now: datetime) -> int:
    with transaction.atomic():
        owner = lead_offer_fallback(lead, rule, now)
        if owner is None:
            return 0
        appointments_follow_owner([lead], owner)  # one booked while nobody owned it
        Alert.objects.filter(lead=lead, reason=Alert.Reason.CLAIM, closed_at__isnull=True).update(
            closed_at=now, detail=f"Nobody claimed it: given to {_name(owner)}"
        )
        reason = Alert.Reason.HOT_LEAD if lead.intent == Intent.HOT else Alert.Reason.WARM_OUTREACH
        alert_raise(lead, owner, reason, rule=rule, now=now)
        no_consent_call_task_open(lead, now=now)  # a channel's lead we may not text
    return 1

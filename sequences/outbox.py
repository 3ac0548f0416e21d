"""The outbox: write a message in the caller's transaction, send it after commit, once.

    message_queue            write the row (idempotent on its key); after commit, dispatch it
                             when it is due now (message_dispatch_later)
    message_dispatch_later   after the commit: MESSAGE_SEND_AFTER_COMMIT says how: this process's
                             sender threads (local_sender.py; the default), inline, or a
                             coalesced drain for the worker
    message_dispatch         one message: claim → may it go? → hand to the provider → record
    messages_send_now        the same for a few ids at once (the after-commit sender's batch)
    messages_dispatch_due    the worker's drain: claim and send due messages (alerts first, then
                             what a person waits for, then bulk) until none are left or the time
                             budget is spent (several workers drain side by side)
    messages_sweep           the every-minute safety net: recover, then drain what is due
    messages_recover         messages whose worker died mid-send (lease expired) go back to the
                             queue, marked "outcome unknown": the provider is asked first
    messages_send_again      a broker's "send again" for expired and failed messages
    messages_queue_many      many rows at once (a campaign's batch), then one drain
    messages_withdraw        queued messages that must not go any more (an appointment moved or
                             cancelled: its reminders), marked suppressed with why

A transient failure never ends a message: it is retried with capped backoff until it goes or
MESSAGE_RETRY_HORIZON_HOURS have passed since its first attempt (then `expired`, for a broker
to send again). "Outcome unknown" (an attempt that may have reached the provider) stays set
until the provider answers a lookup covering every attempt since the first one.

Claiming is atomic: SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL (workers never wait on each
other's rows) and, on every database, a conditional UPDATE … WHERE status = 'queued' that only
one worker can win. Nothing past `queued` is ever sent. docs/sequences.md says what "exactly
once" can and cannot promise.
"""

import logging
import os
import re
import threading
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django_q.tasks import async_task

from leads.models import Lead, LeadEvent
from leads.services import lead_event_record, lead_mark_first_automated_contact
from realtycrm import formats
from realtycrm.logs import about_message

from . import policy
from .backends import ProviderError
from .backends.events import DeliveryEvent
from .batching import messages_hold, messages_write_held
from .local_sender import LocalSender, close_at_exit
from .messaging import Sender
from .models import Enrollment, Message, Suppression, WebhookEvent
from .services.suppressions import address_suppress
from .signals import message_not_sent_send, message_sent
from .tracking import webhook_event_deliveries
from .unsubscribe import email_footer

logger = logging.getLogger(__name__)

OPT_OUT_LINE = "Reply STOP to opt out."
_SAYS_STOP = re.compile(r"\bSTOP\b")


# --- Queue ---------------------------------------------------------------------------------------


def message_queue(
    *,
    channel: str,
    to: str,
    body: str,
    subject: str = "",
    idempotency_key: str,
    purpose: str,
    audience: str,
    lead: Lead | None = None,
    agent=None,
    scheduled_for=None,
    enrollment: Enrollment | None = None,
    step=None,
    created_by=None,
) -> Message:
    """Put one message in the outbox and return it.

    Idempotent on `idempotency_key`: a second call with the same key returns the existing row
    and never makes a second message. The row is written in the caller's transaction; after
    that transaction commits, a message due now is sent (message_dispatch_later). Later ones
    are picked up by the scheduler when due.

    Messages to a lead get what the law and good manners require, here, so no caller can
    forget: an email ends with the brokerage's postal address and a one-click unsubscribe link;
    the first text to a number says how to opt out. Messages to agents (audience agent) are
    internal: no lead consent, quiet hours or cap apply.
    """
    now = timezone.now()
    first_text = (
        audience == Message.Audience.LEAD
        and channel == Message.Channel.SMS
        and purpose != Message.Purpose.SERVICE
        and not _has_been_texted(to)
    )
    body = _body_as_sent(
        body, channel=channel, to=to, purpose=purpose, audience=audience, first_text=first_text
    )
    # The unique key decides, in one statement: a key queued before (or by a racing caller a
    # moment ago) fails the insert, and that row is the message. An intake's held messages are
    # written first, outside the savepoint its failure rolls back (sequences.batching).
    messages_write_held()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                channel=channel,
                to=to,
                body=body,
                subject=subject[:255],
                idempotency_key=idempotency_key,
                purpose=purpose,
                audience=audience,
                lead=lead,
                agent=agent,
                enrollment=enrollment,
                step=step,
                created_by=created_by,
                created_at=now,
                scheduled_for=scheduled_for or now,
            )
    except IntegrityError:
        return Message.objects.get(idempotency_key=idempotency_key)
    if message.scheduled_for <= now:
        transaction.on_commit(lambda: message_dispatch_later(message.pk), robust=True)
    return message


def messages_queue(items: list[dict], *, keys_are_new: bool = False) -> list[Message]:
    """message_queue for several messages written together (an enrolment's due steps, an
    alert's text and email), in one insert: the same rows, footers and opt-out line (two texts
    to one number: the first says how to opt out), each dispatched after commit like
    message_queue's when due now. Returns the messages in the order asked.

    Idempotent on each key like message_queue: the insert runs in a savepoint, and when any key
    was queued before, the batch is written one by one through message_queue instead.
    `keys_are_new`: every key names a row created in this transaction (an enrolment, a lead, an
    alert: ids are never reused), so none can exist and no savepoint is needed."""
    if not items:
        return []
    if len(items) == 1 and not keys_are_new:
        return [message_queue(**items[0])]
    now = timezone.now()
    rows = _new_rows(items, now)
    if keys_are_new:
        # An intake writes all its messages in one INSERT before its commit (sequences.batching).
        if not messages_hold(rows):
            Message.objects.bulk_create(rows)
    else:
        messages_write_held()  # not inside the savepoint: a key queued before rolls it back
        try:
            with transaction.atomic():
                Message.objects.bulk_create(rows)
        except IntegrityError:
            return [message_queue(**item) for item in items]
    for message in rows:
        if message.scheduled_for <= now:
            transaction.on_commit(
                lambda message=message: message_dispatch_later(message.pk), robust=True
            )
    return rows


def _new_rows(items: list[dict], now) -> list[Message]:
    """The rows of new messages (message_queue's arguments, one dict each), as queued: footers,
    and the opt-out line on the first text to a number nothing went to yet (two texts to one
    number in a batch: the first says it). One query for the numbers texted before."""
    numbers = {
        item["to"]
        for item in items
        if item["audience"] == Message.Audience.LEAD
        and item["channel"] == Message.Channel.SMS
        and item["purpose"] != Message.Purpose.SERVICE
    }
    texted = set(_texted(numbers)) if numbers else set()
    rows = []
    for item in items:
        first_text = item["to"] in numbers and item["to"] not in texted
        if first_text:
            texted.add(item["to"])
        rows.append(
            Message(
                channel=item["channel"],
                to=item["to"],
                body=_body_as_sent(
                    item["body"],
                    channel=item["channel"],
                    to=item["to"],
                    purpose=item["purpose"],
                    audience=item["audience"],
                    first_text=first_text,
                ),
                subject=item.get("subject", "")[:255],
                idempotency_key=item["idempotency_key"],
                purpose=item["purpose"],
                audience=item["audience"],
                lead=item.get("lead"),
                agent=item.get("agent"),
                enrollment=item.get("enrollment"),
                step=item.get("step"),
                created_by=item.get("created_by"),
                created_at=now,
                scheduled_for=item.get("scheduled_for") or now,
            )
        )
    return rows


def _body_as_sent(
    body: str, *, channel: str, to: str, purpose: str, audience: str, first_text: bool
) -> str:
    """What the law and good manners add to a message to a lead: an email's postal address and
    unsubscribe link; the first text's opt-out line (`first_text`: nothing went to the number
    yet)."""
    if audience != Message.Audience.LEAD:
        return body
    if channel == Message.Channel.EMAIL:
        return body.rstrip() + email_footer(to)
    if purpose != Message.Purpose.SERVICE and first_text and not _SAYS_STOP.search(body):
        return f"{body.rstrip()} {OPT_OUT_LINE}"
    return body


def _texted(numbers):
    """Which of these numbers a message to a lead went (or is going) to already."""
    return (
        Message.objects.filter(
            channel=Message.Channel.SMS, to__in=numbers, audience=Message.Audience.LEAD
        )
        .exclude(status__in=[Message.Status.SUPPRESSED, *Message.UNDELIVERED])
        .values_list("to", flat=True)
    )


def _has_been_texted(to: str) -> bool:
    return _texted([to]).exists()


@dataclass(frozen=True)
class Outgoing:
    """One message for messages_queue_many: message_queue's arguments, as a value."""

    channel: str
    to: str
    body: str
    idempotency_key: str
    purpose: str
    lead: Lead | None = None
    subject: str = ""
    audience: str = Message.Audience.LEAD


def messages_queue_many(outgoing: list[Outgoing], *, now=None) -> dict[str, int]:
    """Many messages due now at once (a campaign's batch), in a few queries: the same rows as
    message_queue (footer, opt-out line, idempotent on each key: a key already queued is left as
    it is), written in the caller's transaction; after it commits, one drain sends them (and
    whatever else is due) instead of a task per message. Returns {idempotency key: message id}
    for every key asked, new or not."""
    if not outgoing:
        return {}
    now = now or timezone.now()
    keys = [item.idempotency_key for item in outgoing]
    existing = dict(
        Message.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", "pk")
    )
    fresh = [vars(item) for item in outgoing if item.idempotency_key not in existing]
    rows = _new_rows(fresh, now)
    # A racing caller may have queued one of these keys meanwhile: its row stands.
    Message.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    if rows:
        transaction.on_commit(messages_drain_later, robust=True)
    return dict(
        Message.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", "pk")
    )


# --- After commit ---------------------------------------------------------------------------------

# How many due messages one worker (or one after-commit sender) claims at a time. Each is still
# recorded the moment its provider takes it, so a worker that dies leaves at most one message in
# doubt.
CLAIM_BATCH = 50
# The after-commit sender claims fewer at once: a web process restarted mid-batch leaves its
# claimed, unsent messages to lease recovery (MESSAGE_LEASE_SECONDS), so its batches stay small.
SENDER_CLAIM_BATCH = 10

SEND_THREAD, SEND_INLINE, SEND_WORKER = "thread", "inline", "worker"
SEND_MODES = (SEND_THREAD, SEND_INLINE, SEND_WORKER)


def message_dispatch_later(message_id: int) -> None:
    """A message due now, right after the commit that queued it (an on-commit hook).

    MESSAGE_SEND_AFTER_COMMIT says how: "thread" (the default) hands it to this
    process's sender threads, which claim and send it a moment later while the request returns;
    when they are full, or in a django-q2 worker process (which already is the background,
    and whose processes are recycled without warning), it goes to the worker as "worker" does:
    one coalesced drain. "inline" sends it here and now (tests: deterministic). Whichever way, a
    message this misses is still queued, and the drain or the every-minute sweep sends it."""
    mode = settings.MESSAGE_SEND_AFTER_COMMIT
    if mode == SEND_INLINE:
        message_dispatch(message_id)
    elif mode == SEND_THREAD and not _in_worker_process() and _local_sender.submit(message_id):
        return
    else:
        messages_drain_later()


def messages_send_now(message_ids: list[int], *, sender: Sender | None = None) -> int:
    """Send these messages if they are still queued and due (the after-commit sender's batch;
    alerts first). A message another process or a worker claimed first is left to it.
    Returns how many were handled (sent, deferred, suppressed or failed)."""
    ids = list(message_ids)
    claimed, outcomes = _claim(Message.objects.filter(pk__in=ids), timezone.now(), limit=len(ids))
    sender = sender or Sender()
    for message in claimed:
        _deliver(message, sender)
    return len(claimed) + len(outcomes)


def messages_drain_later() -> None:
    """Hand the due messages to a django-q2 worker's drain (messages_dispatch_due), coalesced:
    at most one task per MESSAGE_DRAIN_COALESCE_SECONDS from this process, so a burst that
    falls back to the worker makes a task a second, not one per message. A call inside the
    window is covered by the drain a timer queues at the window's end: that drain starts after
    this call's commit, so it sees the message."""
    window = settings.MESSAGE_DRAIN_COALESCE_SECONDS
    if window <= 0:
        _drain_enqueue()
        return
    with _drain.lock:
        if _drain.pid != os.getpid():  # a forked child: the parent's timer did not come along
            _drain.pid, _drain.last, _drain.timer = os.getpid(), 0.0, None
        if _drain.timer is not None:
            return  # a drain is already promised, later than this message's commit
        wait = _drain.last + window - time.monotonic()
        if wait > 0:
            _drain.timer = threading.Timer(wait, _drain_at_window_end)
            _drain.timer.daemon = True
            _drain.timer.start()
            return
        _drain.last = time.monotonic()
    _drain_enqueue()


class _DrainState:
    def __init__(self):
        self.lock = threading.Lock()
        self.pid, self.last, self.timer = os.getpid(), 0.0, None


_drain = _DrainState()


def _drain_at_window_end() -> None:
    with _drain.lock:
        _drain.timer, _drain.last = None, time.monotonic()
    try:
        _drain_enqueue()
    except Exception:
        logger.exception("outbox: could not queue a drain; the every-minute sweep will send")
    finally:
        connections.close_all()  # the ORM broker's connection, opened by this timer thread


def _drain_enqueue() -> None:
    async_task("sequences.tasks.messages_dispatch_due", task_name="messages-drain")


# Set in django-q2's worker processes (sequences.apps connects it to post_spawn).
_worker_process = {"pid": None}


def worker_process_started(*, proc_name: str = "", **kwargs) -> None:
    # django-q2's sync mode runs its worker loop in the caller's own process (MainProcess):
    # that process is not a worker.
    if proc_name != "MainProcess":
        _worker_process["pid"] = os.getpid()


def _in_worker_process() -> bool:
    return _worker_process["pid"] == os.getpid()


_local_sender = LocalSender(
    lambda ids: messages_send_now(ids),
    messages_drain_later,
    threads=lambda: settings.MESSAGE_SENDER_THREADS,
    size=lambda: settings.MESSAGE_SENDER_QUEUE,
    batch=SENDER_CLAIM_BATCH,
)
close_at_exit(_local_sender, lambda: settings.PROVIDER_TIMEOUT_SECONDS, lambda: _drain_enqueue())


def local_sender_stop() -> None:
    """Stop this process's sender threads once they have sent what they hold, and forget a
    drain promised for later (tests: nothing runs on after the test, or holds a connection to
    the test database)."""
    _local_sender.stop()
    with _drain.lock:
        if _drain.timer is not None:
            _drain.timer.cancel()
        _drain.last, _drain.timer = 0.0, None


# --- Dispatch ------------------------------------------------------------------------------------


def message_dispatch(message_id: int, *, sender: Sender | None = None) -> str | None:
    """Send one message if it is queued and due. Safe to call any number of times: only the
    call that claims the row sends it. Returns what happened ("sent", "deferred",
    "suppressed", "retry", "failed", "expired", …), or None when there was nothing to do."""
    claimed, outcomes = _claim(Message.objects.filter(pk=message_id), timezone.now(), limit=1)
    if not claimed:
        return outcomes.get(message_id)
    return _deliver(claimed[0], sender or Sender())


def messages_dispatch_due(*, budget_seconds: float | None = None, requeue: bool = True) -> int:
    """Send due messages, alerts first, then what a person waits for, then bulk (oldest first
    in each: Message.priority), until none is left or the budget is spent; then, if
    some are still due, queue another drain so a backlog never waits for the next tick.
    Several drains run side by side, each claiming its own batch. Returns how many messages
    it handled (sent, deferred, suppressed or failed)."""
    budget = settings.MESSAGE_DISPATCH_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    sender = Sender()
    handled = 0
    while time.monotonic() < deadline:
        claimed, outcomes = _claim(Message.objects.all(), timezone.now(), limit=CLAIM_BATCH)
        if not claimed and not outcomes:
            return handled
        handled += len(outcomes)
        for message in claimed:
            _deliver(message, sender)
            handled += 1
    if requeue and messages_due_count(limit=1):
        async_task("sequences.tasks.messages_dispatch_due", task_name="messages-drain")
    return handled


def messages_sweep() -> int:
    """The safety net, every minute (setup_schedules): give back what dead workers or dead web
    processes held (messages_recover), then drain whatever is due and not sent: a message whose
    process died before its after-commit send, a lost task, a full sender. Returns how many
    messages the drain handled."""
    messages_recover()
    if not messages_due_count(limit=1):
        return 0
    return messages_dispatch_due()


def messages_due_count(*, now=None, limit: int = 10_000) -> int:
    now = now or timezone.now()
    due = Message.objects.filter(status=Message.Status.QUEUED, scheduled_for__lte=now)
    return len(due.values_list("pk", flat=True)[:limit])


def _claim(queryset, now, *, limit: int) -> tuple[list[Message], dict[int, str]]:
    """Take up to `limit` of the due queued messages in `queryset` for this worker: by
    priority (alerts, then what a person waits for, then bulk), the oldest first in each.

    Returns the claimed messages (now `sending`, with a lease) and, for the others looked
    at, what happened instead: "deferred" (quiet hours, cap) or "suppressed"."""
    with transaction.atomic():
        # One statement locks the rows (only the messages' own: OF self), reads them with their
        # lead and enrolment, and whether their address is on the suppression list.
        messages = list(
            queryset.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Message.Status.QUEUED, scheduled_for__lte=now)
            .select_related("lead", "lead__owner", "enrollment")
            .annotate(suppressed_reason=Subquery(_suppression_reason()))
            .order_by("priority", "scheduled_for", "id")[:limit]
        )
        if not messages:
            return [], {}
        gates = _gates(messages, now)
        outcomes, claim = {}, []
        for message in messages:
            gate = gates[message.pk]
            if gate.action == policy.SUPPRESS:
                _suppress(message, gate.reason)
                outcomes[message.pk] = "suppressed"
            elif gate.action == policy.DEFER:
                Message.objects.filter(pk=message.pk).update(
                    scheduled_for=gate.until, status_reason=_held(gate.reason, gate.until)
                )
                outcomes[message.pk] = "deferred"
            else:
                claim.append(message)
        if not claim:
            return [], outcomes
        token = uuid.uuid4()
        lease = now + timedelta(seconds=settings.MESSAGE_LEASE_SECONDS)
        horizon = now + timedelta(hours=settings.MESSAGE_RETRY_HORIZON_HOURS)
        # Conditional: a row another worker took meanwhile is not ours (its status moved on).
        won = Message.objects.filter(
            pk__in=[m.pk for m in claim], status=Message.Status.QUEUED
        ).update(
            status=Message.Status.SENDING,
            claim_token=token,
            claimed_at=now,
            first_claimed_at=Coalesce(F("first_claimed_at"), Value(now)),
            retry_until=Coalesce(F("retry_until"), Value(horizon)),
            lease_expires_at=lease,
            attempts=F("attempts") + 1,
        )
        if won != len(claim):
            ours = set(Message.objects.filter(claim_token=token).values_list("pk", flat=True))
            claim = [message for message in claim if message.pk in ours]
    for message in claim:
        message.first_claimed_at = message.first_claimed_at or now
        message.retry_until = message.retry_until or horizon
        message.status, message.claimed_at = Message.Status.SENDING, now
        message.claim_token, message.lease_expires_at = token, lease
        message.attempts += 1
    return claim, outcomes


def _held(reason: str, until) -> str:
    return f"{reason}: held until {formats.when(until)} {timezone.localtime(until):%Z}"


def _may_still_go(message: Message) -> str:
    """Right before a provider call: '' when the message may go; else "lease lost", or why it
    may not any more.

    A batch is sent one message at a time, so a slow provider can outlast the lease taken at
    the claim: recovery then hands the row to another worker, and this one must not send it
    too. So when less than two provider timeouts are left on the lease, it is renewed first,
    conditionally (a write only then: most sends need none). And a STOP, an unsubscribe or a
    reply that paused automation can arrive after the claim, and a campaign's contact can
    re-engage: one read says whether one did."""
    now = timezone.now()
    margin = timedelta(seconds=2 * settings.PROVIDER_TIMEOUT_SECONDS + 5)
    if message.lease_expires_at is None or message.lease_expires_at - now < margin:
        lease = now + timedelta(seconds=settings.MESSAGE_LEASE_SECONDS)
        if not _mine(message).update(lease_expires_at=lease):
            logger.warning(
                "Message %s: lease lost before sending; another worker has it", message.pk
            )
            return "lease lost"
        message.lease_expires_at = lease
    if message.audience != Message.Audience.LEAD:
        return ""
    reason, enrollment_status, dormant = (
        Message.objects.filter(pk=message.pk)
        .annotate(suppressed=Subquery(_suppression_reason()))
        .values_list("suppressed", "enrollment__status", "lead__dormant")
        .first()
    ) or ("", None, None)
    if reason:
        return Suppression.Reason(reason).label
    if message.purpose == Message.Purpose.CAMPAIGN and dormant is False:
        # "It's been a while" to someone who answered (or whom an agent reached) since it was
        # queued, held by quiet hours or the daily cap: it no longer applies.
        return "The contact re-engaged after the campaign message was queued"
    automated = message.enrollment_id and message.purpose in Message.AUTOMATED
    if automated and enrollment_status != Enrollment.Status.ACTIVE:
        return f"Automation {enrollment_status or 'ended'} after it was queued"
    return ""


@about_message  # every log line of one message's dispatch names it and its lead (realtycrm.logs)
def _deliver(message: Message, sender: Sender) -> str:
    stopped = _may_still_go(message)
    if stopped == "lease lost":
        return stopped
    if stopped:
        _suppress(message, stopped, rows=_mine(message))
        return "suppressed"
    if message.outcome_unknown:
        # Every earlier attempt, not only the last claim: the first may be the one that got
        # through. A provider that cannot be asked right now holds the message (still
        # "outcome unknown") instead of letting it go out blind.
        try:
            found = sender.lookup(message, since=message.first_claimed_at)
        except ProviderError as exc:
            return _record_failure(message, exc)
        except Exception as exc:
            logger.exception("Asking the provider about message %s failed unexpectedly", message.pk)
            return _record_failure(message, _unexpected(exc))
        if found:
            _record_sent(message, found, note="An earlier attempt had reached the provider.")
            return "sent (found at the provider)"
        if found == "":
            message.outcome_unknown = False  # the provider answered: no earlier attempt arrived
    quiet_until = _quiet_until(message)
    if quiet_until is not None:
        _hold(message, quiet_until)
        return "deferred"
    try:
        provider_id = sender.send(message)
    except ProviderError as exc:
        return _record_failure(message, exc)
    except Exception as exc:
        # A bug or a misconfiguration, not the provider's answer: keep the message, try later,
        # and ask the provider first in case the request went out.
        logger.exception("Sending message %s failed unexpectedly", message.pk)
        return _record_failure(message, _unexpected(exc))
    # Still unknown here only when the provider cannot be asked (email): counted, not hidden.
    _record_sent(message, provider_id, possible_duplicate=message.outcome_unknown)
    return "sent"


def _unexpected(exc: Exception) -> ProviderError:
    error = ProviderError(f"{type(exc).__name__}: {exc}")
    error.transient, error.outcome_unknown = True, True
    return error


def _quiet_until(message: Message):
    """The claim checked the clock when it took the batch; a batch takes a while to send (up
    to the provider's timeout per message), so a text claimed at 19:59:58 could reach a
    Florida lead after 20:00. The clock is checked again right before the provider is called:
    None when the text may go now, else the moment it may."""
    if not policy.quiet_hours_apply(
        channel=message.channel, audience=message.audience, purpose=message.purpose
    ):
        return None
    now = timezone.now()
    allowed = sms_allowed_from(message.to, now)
    return allowed if allowed > now else None


def _hold(message: Message, until) -> None:
    """Give a claimed text back to the queue until `until`: no attempt was made."""
    _mine(message).update(
        status=Message.Status.QUEUED,
        scheduled_for=until,
        claim_token=None,
        lease_expires_at=None,
        attempts=F("attempts") - 1,
        status_reason=_held("Quiet hours where the recipient is", until),
    )


@lru_cache(maxsize=8)
def _windows(default: str, by_state: str):
    return policy.parse_window(default), policy.parse_state_windows(by_state)


def sms_allowed_from(phone: str, now):
    """The first moment a text may reach this number: `now`, or the end of its quiet hours.

    The one clock for every text to a lead: the outbox's gate at claim and again at send, and
    an agent's one-off when it is written (which is then scheduled for that moment). The
    window is the number's state's (by its area code) or SMS_SENDING_HOURS; the zones are the
    area code's, or the brokerage's TIME_ZONE for a number the table does not place."""
    default, by_state = _windows(settings.SMS_SENDING_HOURS, settings.SMS_SENDING_HOURS_BY_STATE)
    window = policy.recipient_window(phone, default, by_state)
    zones = policy.recipient_zones(phone, settings.TIME_ZONE)
    return policy.next_allowed(now, zones, window)


def lead_facts(lead: Lead) -> policy.LeadFacts:
    return policy.LeadFacts(
        first_name=lead.first_name,
        phone=lead.phone,
        email=lead.email,
        sms_consent=lead.sms_consent_at is not None,
        sms_opted_out_at=lead.sms_opted_out_at,
        email_opted_out_at=lead.email_opted_out_at,
    )


CAP_PERIOD = timedelta(hours=24)


def _suppression_reason():
    """Why a message's address (its channel, the address in lower case) is suppressed: the
    reason as a subquery on a Message queryset, NULL when it is not."""
    return Suppression.objects.filter(
        channel=OuterRef("channel"), address=Lower(OuterRef("to"))
    ).values("reason")[:1]


def _gates(messages: list[Message], now) -> dict[int, policy.Gate]:
    """May each message go now? The suppressions came with the claimed rows
    (`suppressed_reason`); the cap's recent texts for the whole batch are one more query."""
    capped = {
        m.pk: m.to
        for m in messages
        if m.audience == Message.Audience.LEAD
        and m.channel == Message.Channel.SMS
        and m.purpose in Message.CAPPED
    }
    recent: dict[str, list] = {}
    if capped:
        for to, at in Message.objects.filter(
            channel=Message.Channel.SMS,
            to__in=set(capped.values()),
            audience=Message.Audience.LEAD,
            purpose__in=Message.CAPPED,
            status__in=[Message.Status.SENDING, Message.Status.SENT],
            claimed_at__gt=now - CAP_PERIOD,
        ).values_list("to", "claimed_at"):
            recent.setdefault(to, []).append(at)
    gates = {}
    for message in messages:
        gate = _gate(message, now, recent)
        gates[message.pk] = gate
        if gate.action == policy.SEND and message.pk in capped:
            recent.setdefault(message.to, []).append(now)  # counts for the rest of the batch
    return gates


def _gate(message: Message, now, recent: dict) -> policy.Gate:
    suppression = message.suppressed_reason or ""
    is_lead = message.audience == Message.Audience.LEAD
    enrollment = message.enrollment
    automation_note = ""
    if enrollment is not None and enrollment.status != Enrollment.Status.ACTIVE:
        automation_note = f"Automation {enrollment.get_status_display().lower()}" + (
            f": {enrollment.status_reason}" if enrollment.status_reason else ""
        )
    allowed_from = cap_until = None
    if is_lead and message.channel == Message.Channel.SMS:
        allowed_from = sms_allowed_from(message.to, now)
        if message.purpose in Message.CAPPED:
            cap_until = policy.cap_release(
                recent.get(message.to, []),
                now=now,
                cap=settings.SMS_CAP_PER_NUMBER,
                period=CAP_PERIOD,
            )
    return policy.decide(
        channel=message.channel,
        audience=message.audience,
        purpose=message.purpose,
        now=now,
        suppression=Suppression.Reason(suppression).label if suppression else "",
        lead=lead_facts(message.lead) if is_lead and message.lead_id else None,
        automation_note=automation_note,
        allowed_from=allowed_from,
        cap_until=cap_until,
    )


def _suppress(message: Message, reason: str, *, rows=None) -> None:
    """The message will not go, and why. `rows` is the row only while it may still be
    suppressed: queued (the gate at claim, the default), or this worker's claim (at send)."""
    rows = (
        Message.objects.filter(pk=message.pk, status=Message.Status.QUEUED)
        if rows is None
        else rows
    )
    if rows.update(
        status=Message.Status.SUPPRESSED, status_reason=reason[:255], lease_expires_at=None
    ):
        message.status, message.status_reason = Message.Status.SUPPRESSED, reason[:255]
        message_not_sent_send(message)


# --- Recording the outcome -------------------------------------------------------------------


def _mine(message: Message):
    """The row, only while this worker still holds it (its lease was not recovered)."""
    return Message.objects.filter(
        pk=message.pk, status=Message.Status.SENDING, claim_token=message.claim_token
    )


def _record_sent(
    message: Message, provider_id: str, *, note: str = "", possible_duplicate: bool = False
) -> None:
    """Mark the message sent, then record what that means for its lead.

    The provider's acceptance is committed first, alone (one UPDATE): a worker that dies
    after the provider took the message loses the mark only within that one statement, the
    window in which an email (SendGrid cannot be asked) would be sent again. The effects
    follow in a transaction of their own; `effects_pending` says they are owed, and lease
    recovery records them for a worker that died in between.

    On PostgreSQL the mark's commit does not wait for the disk (synchronous_commit off, for
    that transaction only): if the database server itself crashed in the next fraction of a
    second, the mark would be lost and the message would come back as `sending`, to be
    recovered after its lease like a message whose worker died (the provider is asked
    first). The claim before the send is always durable, so a lost mark can never make a
    message look unsent. One disk flush per batch instead of one per message."""
    now = timezone.now()
    marked = _while_locked(
        lambda: _mark_sent(
            message, provider_id, now, note=note, possible_duplicate=possible_duplicate
        )
    )
    if not marked:
        logger.warning(
            "outbox.possible_duplicate message=%s channel=%s: handed to the provider after its "
            "lease expired and another worker took it back; it may have been sent twice.",
            message.pk,
            message.channel,
        )
        return
    if possible_duplicate:
        logger.warning(
            "outbox.possible_duplicate message=%s channel=%s: sent again after an attempt whose "
            "outcome is unknown; the provider could not be asked.",
            message.pk,
            message.channel,
        )
    message.status, message.sent_at, message.provider_id = Message.Status.SENT, now, provider_id
    try:
        _effects_record_once(message)
    except Exception:
        # The send is recorded; its effects stay owed (effects_pending) and lease recovery
        # records them. One failing receiver must not strand the rest of the batch.
        logger.exception("Recording what message %s means for its lead failed", message.pk)


def _mark_sent(message: Message, provider_id: str, now, *, note: str, possible_duplicate: bool):
    """The sent mark, in a transaction of its own on PostgreSQL (for SET LOCAL
    synchronous_commit); on other databases its one UPDATE commits by itself (autocommit), just
    as durably, without a BEGIN of its own (the second UPDATE runs only when the first matched
    nothing)."""
    own = transaction.atomic() if connection.vendor == "postgresql" else nullcontext()
    with own:
        _commit_without_waiting_for_disk()
        marked = _mine(message).update(
            status=Message.Status.SENT,
            sent_at=now,
            provider_id=provider_id[:100],
            lease_expires_at=None,
            outcome_unknown=False,
            effects_pending=True,
            status_reason=note,
            **({"possible_duplicate": True} if possible_duplicate else {}),
        )
        if not marked:
            Message.objects.filter(pk=message.pk).update(possible_duplicate=True)
    return marked


# SQLite allows one writer at a time; under a burst a writer can wait out its busy timeout.
# The provider has the message by then, so the mark is tried again rather than left to lease
# recovery (which would ask the provider, or for an email send it again).
LOCKED_RETRIES = 3


def _while_locked(write):
    attempt = 0
    while True:
        try:
            return write()
        except OperationalError as exc:
            attempt += 1
            locked = connection.vendor == "sqlite" and "locked" in str(exc)
            if not locked or attempt > LOCKED_RETRIES:
                raise
            logger.warning("outbox: database is locked; marking the send again (%s)", attempt)
            time.sleep(0.1 * attempt)


@transaction.atomic
def _effects_record_once(message: Message) -> bool:
    """Record a sent message's effects once (whoever gets there first: the worker that sent
    it, or lease recovery after that worker died). Returns False when they already were."""
    _commit_without_waiting_for_disk()
    if not Message.objects.filter(pk=message.pk, effects_pending=True).update(
        effects_pending=False
    ):
        return False
    _effects_record(message)
    return True


def _commit_without_waiting_for_disk() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _effects_record(message: Message) -> None:
    """What a sent message means for its lead: the timeline and the first automated contact.
    Then `message_sent` tells the layers above (a person's one-off is a personal contact, which
    realtycrm.flows records instead of an automated "message sent")."""
    if message.audience == Message.Audience.LEAD and message.lead_id:
        lead = message.lead
        if message.purpose in Message.AUTOMATED:
            lead_mark_first_automated_contact(lead, message.sent_at)
        if message.purpose != Message.Purpose.ONE_OFF:
            lead_event_record(
                lead,
                LeadEvent.Kind.MESSAGE_SENT,
                channel=message.channel,
                summary=f"{Message.Purpose(message.purpose).label}: {message_excerpt(message)}",
                data={"message": message.pk},
                occurred_at=message.sent_at,
            )
    message_sent.send(sender=Message, message=message)


def message_excerpt(message: Message) -> str:
    text = message.subject or message.body
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:119] + "…"


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after each transient failure, at most
    MESSAGE_RETRY_MAX_DELAY_MINUTES (30). A minute is MESSAGE_RETRY_BASE_SECONDS (60): the
    fault harness makes it one second, to compress an outage of an hour into a minute."""
    unit = settings.MESSAGE_RETRY_BASE_SECONDS
    cap = settings.MESSAGE_RETRY_MAX_DELAY_MINUTES * unit
    return timedelta(seconds=min(unit * 2 ** min(max(attempts - 1, 0), 20), cap))


def retry_horizon(message: Message):
    """When transient failures stop being retried (set by the first claim)."""
    if message.retry_until is not None:
        return message.retry_until
    first = message.first_claimed_at or message.claimed_at or timezone.now()
    return first + timedelta(hours=settings.MESSAGE_RETRY_HORIZON_HOURS)


def _expired_reason(message: Message) -> str:
    hours = settings.MESSAGE_RETRY_HORIZON_HOURS
    return f"Could not be sent in {hours} h of trying ({message.attempts} attempts)"


@transaction.atomic
def _record_failure(message: Message, exc: ProviderError) -> str:
    now = timezone.now()
    error = str(exc)[:2000]
    mine = _mine(message)
    # Sticky: only the provider's answer to a lookup clears it (_deliver), never a failure
    # that did not reach the provider.
    outcome_unknown = message.outcome_unknown or exc.outcome_unknown
    if exc.recipient_opted_out:
        if mine.update(
            status=Message.Status.SUPPRESSED,
            status_reason="The recipient has opted out with the carrier",
            last_error=error,
            lease_expires_at=None,
        ):
            address_suppress(
                message.channel,
                message.to,
                reason=Suppression.Reason.CARRIER_OPT_OUT,
                detail=error,
            )
            message.status = Message.Status.SUPPRESSED
            message_not_sent_send(message)
        return "suppressed"
    horizon = retry_horizon(message)
    if exc.transient and now < horizon:
        # The last try falls on the horizon itself, not up to one delay short of it.
        retry_at = min(now + retry_delay(message.attempts), horizon)
        if mine.update(
            status=Message.Status.QUEUED,
            scheduled_for=retry_at,
            last_error=error,
            outcome_unknown=outcome_unknown,
            lease_expires_at=None,
            claim_token=None,
            status_reason=f"Attempt {message.attempts} failed; trying again",
        ):
            message.status, message.scheduled_for = Message.Status.QUEUED, retry_at
            message.outcome_unknown = outcome_unknown
            message_not_sent_send(message)
        return "retry"
    status = Message.Status.EXPIRED if exc.transient else Message.Status.FAILED
    reason = _expired_reason(message) if exc.transient else "The provider rejected it"
    if mine.update(
        status=status,
        status_reason=reason,
        last_error=error,
        outcome_unknown=outcome_unknown,
        lease_expires_at=None,
    ):
        message.status, message.outcome_unknown = status, outcome_unknown
        _record_failed_on_timeline(message, reason, error)
        message_not_sent_send(message)
    return str(status)


def _record_failed_on_timeline(message: Message, reason: str, error: str) -> None:
    if message.audience == Message.Audience.LEAD and message.lead_id:
        lead_event_record(
            message.lead,
            LeadEvent.Kind.MESSAGE_FAILED,
            channel=message.channel,
            summary=f"{Message.Channel(message.channel).label} to {message.to} failed: {reason}",
            data={"message": message.pk, "error": error[:500]},
        )


# --- Lease recovery ------------------------------------------------------------------------------


def messages_recover(*, now=None, limit: int = 500) -> int:
    """Give back messages whose worker stopped between claim and record (lease expired).

    Where the provider has already told us it has the message (a stored webhook call naming
    it, read by its backend into a DeliveryEvent that proves_accepted), it is recorded as sent
    with the provider's id. Otherwise it goes back to the queue marked outcome unknown, and the
    next attempt asks the provider (Twilio's message list; SendGrid cannot be asked) before
    sending again. A worker dying is transient like an outage: past the retry horizon the
    message is `expired`, visibly. Sent messages whose worker died before recording the
    send's effects get them now."""
    now = now or timezone.now()
    stuck = list(
        Message.objects.filter(status=Message.Status.SENDING, lease_expires_at__lt=now).values_list(
            "pk", flat=True
        )[:limit]
    )
    for pk in stuck:
        try:
            _recover_one(pk, now)
        except Exception:  # one bad row must not hold up the others; the next sweep retries it
            logger.exception("Recovering message %s failed", pk)
    lease = timedelta(seconds=settings.MESSAGE_LEASE_SECONDS)
    owed = Message.objects.filter(effects_pending=True, sent_at__lt=now - lease).select_related(
        "lead", "lead__owner"
    )
    for message in owed[:limit]:
        _effects_record_once(message)
    return len(stuck)


@transaction.atomic
def _recover_one(pk: int, now) -> None:
    message = (
        Message.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk=pk, status=Message.Status.SENDING, lease_expires_at__lt=now)
        .select_related("lead", "lead__owner")
        .first()
    )
    if message is None:
        return
    evidence = _accepted_evidence(message)
    if evidence is not None:
        _record_sent(message, evidence.provider_id, note="Recovered: the provider reported it")
        return
    if now >= retry_horizon(message):
        reason = f"{_expired_reason(message)}; the worker stopped mid-send"
        Message.objects.filter(pk=pk).update(
            status=Message.Status.EXPIRED,
            status_reason=reason,
            outcome_unknown=True,
            lease_expires_at=None,
        )
        message.status, message.outcome_unknown = Message.Status.EXPIRED, True
        _record_failed_on_timeline(message, reason, "lease expired")
        message_not_sent_send(message)
        return
    Message.objects.filter(pk=pk).update(
        status=Message.Status.QUEUED,
        scheduled_for=now,
        outcome_unknown=True,
        claim_token=None,
        lease_expires_at=None,
        last_error="The worker stopped while sending; the provider is asked before trying again.",
    )


# --- Withdrawing --------------------------------------------------------------------------------


def messages_withdraw(messages, *, reason: str) -> int:
    """The queued messages among `messages` (a queryset) will not go: suppressed, with `reason`
    for whoever reads the lead's messages ("Appointment moved: replaced"). Conditional on the
    status, so a message a worker has already claimed is left to it (it goes, or went).
    Nothing was attempted, so message_not_sent is not sent. Returns how many were withdrawn."""
    return messages.filter(status=Message.Status.QUEUED).update(
        status=Message.Status.SUPPRESSED, status_reason=reason[:255], lease_expires_at=None
    )


# --- Sending again -------------------------------------------------------------------------------


def messages_send_again(messages, *, by) -> int:
    """A person's "send again" for the expired and failed messages among `messages` (a
    queryset, already scoped to what that person may see; the rest are left alone): back in
    the queue, due now, with a fresh retry horizon. An outcome still unknown stays unknown, so
    the provider is asked about every earlier attempt before anything goes out. Returns how
    many were queued."""
    ids = list(messages.filter(status__in=Message.UNDELIVERED).values_list("pk", flat=True))
    with transaction.atomic():
        queued = list(
            Message.objects.select_for_update()
            .filter(pk__in=ids, status__in=Message.UNDELIVERED)
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=queued).update(
            status=Message.Status.QUEUED,
            attempts=0,
            scheduled_for=timezone.now(),
            retry_until=None,
            claim_token=None,
            lease_expires_at=None,
            status_reason=f"Sent again by {by.get_username()}"[:255],
        )
        for pk in queued:
            transaction.on_commit(lambda pk=pk: message_dispatch_later(pk), robust=True)
    return len(queued)


def _accepted_evidence(message: Message) -> DeliveryEvent | None:
    """The newest stored delivery event showing that the provider has this message."""
    for stored in WebhookEvent.objects.filter(message=message).only("provider", "payload"):
        for delivery in webhook_event_deliveries(stored):
            if delivery.proves_accepted:
                return delivery
    return None

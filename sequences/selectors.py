"""Reads. Tasks and messages are seen through their lead: leads.selectors.lead_visible_to."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, F, Max, Min, Q, QuerySet, Value, When, Window
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from leads.models import Lead
from leads.rulebook import rulebook_cached
from leads.selectors import lead_visible_to, user_is_broker

from . import schedule
from .models import (
    Appointment,
    CalendarFeed,
    Enrollment,
    Message,
    Step,
    Suppression,
    Task,
    Track,
)


def task_list_for(
    user,
    *,
    status: str | None = Task.Status.OPEN,
    lead: Lead | None = None,
    overdue: bool = False,
    due_before=None,
) -> QuerySet[Task]:
    """Tasks on the leads this user may see (an agent: their own leads; a broker: all), due
    first. `status=None` for every status; `overdue` for open tasks past their due time."""
    tasks = Task.objects.filter(lead__in=lead_visible_to(user)).select_related(
        "lead", "agent", "lead__owner"
    )
    if status:
        tasks = tasks.filter(status=status)
    if lead is not None:
        tasks = tasks.filter(lead=lead)
    if overdue:
        tasks = tasks.filter(status=Task.Status.OPEN, due_at__lt=timezone.now())
    if due_before is not None:
        tasks = tasks.filter(due_at__lt=due_before)
    return tasks.order_by("due_at", "id")


def suppressions_of_leads(
    leads: QuerySet[Lead], queryset: QuerySet[Suppression] | None = None
) -> QuerySet[Suppression]:
    """The suppressions of these leads' numbers (texts) and email addresses (both sides store
    emails in lower case)."""
    queryset = Suppression.objects.all() if queryset is None else queryset
    phones = leads.exclude(phone="").values("phone")
    emails = leads.exclude(email="").values("email")
    return queryset.filter(
        Q(channel=Message.Channel.SMS, address__in=phones)
        | Q(channel=Message.Channel.EMAIL, address__in=emails)
    )


def track_steps(track_id: int, cache: dict | None = None):
    """A track's steps as plain values for the scheduler, and the rows by id: one query, then
    from memory while no track, step or template changes (leads.rulebook). `cache` memoises
    them for one scheduler pass over many enrolments (one token read for the pass)."""
    if cache is not None and track_id in cache:
        return cache[track_id]
    kept = rulebook_cached("track_steps", dict)  # track id → steps, filled as tracks are used
    found = kept.get(track_id)
    if found is None:
        found = kept[track_id] = _track_steps(track_id)
    if cache is not None:
        cache[track_id] = found
    return found


def tracks_by_key() -> dict[str, Track]:
    """Every track by its key, from memory while none changes (leads.rulebook). Shared by the
    process's requests: read-only."""
    return rulebook_cached("tracks_by_key", lambda: {t.key: t for t in Track.objects.all()})


def _track_steps(track_id: int):
    steps = {
        step.pk: step
        for step in Step.objects.filter(track_id=track_id).select_related("move_to", "track")
    }
    specs = [
        schedule.StepSpec(
            id=step.pk,
            position=step.position,
            offset_minutes=step.offset_minutes,
            kind=step.kind,
            for_intent=step.for_intent,
            condition=step.condition,
            is_acknowledgment=step.is_acknowledgment,
            template_key=step.template_key,
            task_kind=step.task_kind,
            task_due_minutes=step.task_due_minutes,
            move_to=step.move_to.key if step.move_to_id else "",
            move_intent=step.move_intent,
        )
        for step in steps.values()
    ]
    return specs, steps


# --- The agent dashboard (leads/views/): a lead's messages, tasks, automation; Today's tasks ----


def tasks_due_for(user, *, before) -> QuerySet[Task]:
    """Open tasks due before `before` (the end of the user's today), on the leads this user may
    see, oldest due first. Tasks to answer a reply are left out: Today shows the reply itself,
    with its text, until a personal contact answers it (replies_unanswered)."""
    return (
        task_list_for(user, due_before=before)
        .exclude(kind=Task.Kind.REPLY)
        .select_related(None)
        .select_related("lead__owner")  # what a row shows; the lead's long message is not
        .defer("lead__message")
    )


@dataclass(frozen=True)
class UnansweredReply:
    """A lead who texted and has not been answered: their latest text, when the first
    unanswered one came, and how many there are."""

    lead: Lead
    text: str
    since: datetime
    latest_at: datetime
    count: int


def replies_unanswered(
    user, *, limit: int = 25, offset: int = 0
) -> tuple[list[UnansweredReply], int]:
    """Leads who texted back and have had no personal contact since, the longest waiting
    first, one row per lead; and how many such leads there are.

    Read from the open "answer a reply" tasks: realtycrm.flows.inbound.text_receive opens one for every
    reply (with the text), and a personal contact (logged, or a one-off sent) closes every task
    opened before it (tasks_complete_for_contact). Open tasks stay few, so this reads a few
    rows, not every reply a brokerage ever received. An agent who closes the task by hand has
    answered it another way."""
    open_replies = task_list_for(user).filter(kind=Task.Kind.REPLY)
    per_lead = (
        open_replies.order_by()
        .values_list("lead_id")
        .annotate(
            since=Min("created_at"),
            latest_at=Max("created_at"),
            count=Count("id"),
            leads=Window(Count("lead_id")),  # how many leads in all, in the same pass
        )
        .order_by("since", "lead_id")
    )
    groups = list(per_lead[offset : offset + limit])
    if not groups:
        return [], per_lead.count() if offset else 0
    total = groups[0][4]
    latest: dict[int, Task] = {}
    for task in (
        open_replies.filter(lead_id__in=[lead_id for lead_id, *_rest in groups])
        .select_related(None)
        .select_related("lead__owner")
        .defer("lead__message")
        .order_by("lead_id", "-created_at", "-id")
    ):
        latest.setdefault(task.lead_id, task)
    rows = [
        UnansweredReply(
            lead=latest[lead_id].lead,
            text=latest[lead_id].notes,
            since=since,
            latest_at=latest_at,
            count=count,
        )
        for lead_id, since, latest_at, count, _leads in groups
    ]
    return rows, total


def lead_task_list(user, lead: Lead) -> QuerySet[Task]:
    """Every task on the lead: the open ones first, soonest due first; then the closed ones,
    most recently closed first."""
    is_open = Case(When(status=Task.Status.OPEN, then=Value(0)), default=Value(1))
    open_due = Case(When(status=Task.Status.OPEN, then=F("due_at")))
    return (
        task_list_for(user, status=None, lead=lead)
        .select_related("done_by")
        .order_by(
            is_open,
            open_due.asc(nulls_last=True),
            F("done_at").desc(nulls_last=True),
            "-id",
        )
    )


def lead_message_list(user, lead: Lead) -> QuerySet[Message]:
    """Every message to the lead (not the alerts about it to agents), newest first."""
    return (
        Message.objects.filter(
            lead=lead, lead__in=lead_visible_to(user), audience=Message.Audience.LEAD
        )
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def enrollment_for_display(lead: Lead) -> Enrollment | None:
    """The lead's open enrolment, or else the last one it had (to say why it ended)."""
    is_open = Case(When(status__in=Enrollment.OPEN, then=Value(0)), default=Value(1))
    return (
        Enrollment.objects.filter(lead=lead)
        .select_related("track")
        .order_by(is_open, "-started_at", "-id")
        .first()
    )


# --- Appointments and the calendar feed ------------------------------------------------------


def appointment_list_for(user) -> QuerySet[Appointment]:
    """Appointments on the leads this user may see (an agent: their own leads; a broker: all,
    without asking the database to match them against every lead: 7 ms of Today's section at
    100,000 leads)."""
    appointments = Appointment.objects.select_related("lead", "agent")
    if user_is_broker(user):
        return appointments
    return appointments.filter(lead__in=lead_visible_to(user))


def lead_appointment_list(user, lead: Lead) -> QuerySet[Appointment]:
    """The lead's appointments: the booked ones first, soonest first; then the others (done,
    cancelled, no-show), most recent first."""
    is_booked = Case(When(status=Appointment.Status.BOOKED, then=Value(0)), default=Value(1))
    booked_start = Case(When(status=Appointment.Status.BOOKED, then=F("starts_at")))
    return (
        appointment_list_for(user)
        .filter(lead=lead)
        .order_by(is_booked, booked_start.asc(nulls_last=True), "-starts_at", "-id")
    )


def appointments_between(user, *, start: datetime, end: datetime) -> QuerySet[Appointment]:
    """Appointments starting in [start, end) (Today: the user's day, on their wall clock),
    cancelled ones left out, in order."""
    return (
        appointment_list_for(user)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("lead__owner")
        .defer("lead__message")
        .order_by("starts_at", "id")
    )


def calendar_feed_find(owner_id: int, token: str) -> CalendarFeed | None:
    """The feed whose URL this is, or None: no feed, a wrong token (compared in constant time,
    so timing cannot tell how much of a guess was right), or a user who may not sign in."""
    feed = (
        CalendarFeed.objects.select_related("agent")
        .filter(agent_id=owner_id, agent__is_active=True)
        .first()
    )
    if feed is None or not constant_time_compare(feed.token, token or ""):
        return None
    return feed


# The most events one feed holds (an agent's year of appointments is a few hundred).
CALENDAR_FEED_LIMIT = 2000


def calendar_feed_items(owner, *, since: datetime, until: datetime):
    """What one agent's feed holds: their appointments starting in [since, until), cancelled
    ones included (a calendar must learn they are off), and their own open follow-ups due then
    (tasks automation made are left out: a track's dozens would bury the appointments)."""
    appointments = (
        Appointment.objects.filter(agent=owner, starts_at__gte=since, starts_at__lt=until)
        .select_related("lead")
        .defer("lead__message")
        .order_by("starts_at", "id")[:CALENDAR_FEED_LIMIT]
    )
    tasks = Task.objects.filter(
        agent=owner,
        status=Task.Status.OPEN,
        created_by__isnull=False,
        due_at__gte=since,
        due_at__lt=until,
    ).order_by("due_at", "id")[:CALENDAR_FEED_LIMIT]
    return list(appointments), list(tasks)


def outbox_backlog(*, now=None) -> list[dict]:
    """The outbox as monitoring sees it, by kind (channel × audience × purpose): how many
    messages are due and not sent yet (`due`, queued with their time come) with the time the
    oldest of them became due (`oldest_due`), and how many are being sent (`sending`, claimed by
    a worker). Two grouped queries over the partial indexes message_due_by_priority and
    message_leased: the rows read are the backlog itself, however many messages were ever sent."""
    now = now or timezone.now()
    kinds: dict[tuple, dict] = {}
    due = (
        Message.objects.filter(status=Message.Status.QUEUED, scheduled_for__lte=now)
        .order_by()
        .values_list("channel", "audience", "purpose")
        .annotate(count=Count("pk"), oldest=Min("scheduled_for"))
    )
    for channel, audience, purpose, count, oldest in due:
        kinds[channel, audience, purpose] = {"due": count, "oldest_due": oldest, "sending": 0}
    sending = (
        Message.objects.filter(status=Message.Status.SENDING)
        .order_by()
        .values_list("channel", "audience", "purpose")
        .annotate(count=Count("pk"))
    )
    for channel, audience, purpose, count in sending:
        kind = kinds.setdefault(
            (channel, audience, purpose), {"due": 0, "oldest_due": None, "sending": 0}
        )
        kind["sending"] = count
    return [
        {"channel": c, "audience": a, "purpose": p, **figures}
        for (c, a, p), figures in sorted(kinds.items())
    ]

"""Writes to a lead and its timeline. Every state change is one named function here.

Intake (leads/intake.py) creates leads and the owner is set only by leads/ownership.py; every other
column of a lead is written here, so the timeline records every change and derived dates stay
true. The apps above (sequences, alerts) call these and never `.update()` a lead themselves; the
columns that copy another app's fact (the track, the opt-outs, the first automated contact, the
first alert acknowledgment) are caches, each written by one named function below for one caller.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.db.models.functions import Lower
from django.utils import timezone

from realtycrm import formats

from .models import Lead, LeadEvent, SavedFilter, Tag
from .segmentation import Decision
from .selectors import tags_changed


def lead_event_record(
    lead: Lead,
    kind: str,
    *,
    summary: str = "",
    channel: str = "",
    actor=None,
    data: dict | None = None,
    occurred_at=None,
) -> LeadEvent:
    """Put one fact on the lead's timeline; a personal contact also moves the contact dates.
    Inside `lead_events_batched` (a bulk action) the event waits for the chunk's bulk insert."""
    batch = _batch.get()
    if batch is not None and kind != LeadEvent.Kind.PERSONAL_CONTACT:
        return batch.add(
            LeadEvent(
                lead=lead,
                kind=kind,
                summary=f"{batch.prefix}{summary}"[:255],
                channel=channel,
                actor=actor,
                data={**(data or {}), **batch.data},
                occurred_at=occurred_at or timezone.now(),
            )
        )
    event = LeadEvent.objects.create(
        lead=lead,
        kind=kind,
        summary=summary[:255],
        channel=channel,
        actor=actor,
        data=data or {},
        occurred_at=occurred_at or timezone.now(),
    )
    if kind == LeadEvent.Kind.PERSONAL_CONTACT:
        lead_sync_contact_dates(lead)
    return event


class EventBatch:
    """The timeline events a bulk action's chunk writes, kept in memory and inserted at once.

    The services a bulk action calls (lead_set_owner, lead_change_stage, automation_pause …) are
    the ones a single lead's page calls, so every event reads the same; the batch only changes
    how they reach the table (one bulk_create per chunk instead of one INSERT each), says
    "Bulk: …" in front of each summary and adds the job's id to its data. A lead whose change
    failed takes its events back out (`discard_from`), so the timeline never shows a change
    that was rolled back."""

    def __init__(self, *, prefix: str, data: dict):
        self.prefix, self.data = prefix, data
        self.events: list[LeadEvent] = []

    def add(self, event: LeadEvent) -> LeadEvent:
        self.events.append(event)
        return event

    def mark(self) -> int:
        return len(self.events)

    def discard_from(self, mark: int) -> None:
        del self.events[mark:]

    def flush(self) -> int:
        written = len(self.events)
        LeadEvent.objects.bulk_create(self.events, batch_size=500)
        self.events = []
        return written


_batch: ContextVar[EventBatch | None] = ContextVar("lead_events_batch", default=None)


@contextmanager
def lead_events_batched(
    *, prefix: str = "Bulk: ", data: dict | None = None
) -> Iterator[EventBatch]:
    """Collect the timeline events written inside the block and insert them when it ends well
    (call it inside the chunk's transaction). A personal contact is never held back: the
    contact dates are read from the table at once."""
    batch = EventBatch(prefix=prefix, data=data or {})
    token = _batch.set(batch)
    try:
        yield batch
        batch.flush()
    finally:
        _batch.reset(token)


def lead_sync_contact_dates(lead: Lead) -> None:
    """Derive first and last personal contact from the timeline (automated messages never count).
    An imported contact arrives when it re-engages (created_at): its first personal contact
    (speed to lead) is the first since then, and the earlier ones are its history."""
    contacts = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.PERSONAL_CONTACT)
    since_arrival = Q(occurred_at__gte=lead.created_at) if lead.imported_at else Q()
    dates = contacts.aggregate(
        first=Min("occurred_at", filter=since_arrival), last=Max("occurred_at")
    )
    lead.first_personal_contact_at = dates["first"]
    lead.last_personal_contact_at = dates["last"]
    Lead.objects.filter(pk=lead.pk).update(
        first_personal_contact_at=dates["first"], last_personal_contact_at=dates["last"]
    )


def lead_record_contact(
    lead: Lead, *, channel: str, actor, note: str = "", occurred_at=None, data: dict | None = None
) -> LeadEvent:
    """A human reached the lead (call, text, email, in person): the timeline and the contact
    dates. What else a contact does (stage, tasks, alerts) is realtycrm.flows.contacts.contact_log."""
    return lead_event_record(
        lead,
        LeadEvent.Kind.PERSONAL_CONTACT,
        channel=channel,
        actor=actor,
        summary=_contact_summary(channel, note),
        data=data,
        occurred_at=occurred_at,
    )


def lead_wake(lead: Lead, *, why: str, actor=None) -> bool:
    """An agent worked a dormant contact (a contact logged, a stage, a new owner): it is no
    longer dormant from that moment, so no campaign reaches it and a later answer is a
    re-inquiry that keeps the agent's work (never a fresh arrival that resets it). Its arrival
    date stays the import's; the timeline says why it woke. False when it was not dormant."""
    if not Lead.objects.filter(pk=lead.pk, dormant=True).update(dormant=False):
        return False
    lead.dormant = False
    lead_event_record(
        lead,
        LeadEvent.Kind.NOTE,
        actor=actor,
        summary=f"No longer dormant: {why}",
        data={"woken": why},
    )
    return True


def _contact_summary(channel: str, note: str) -> str:
    label = LeadEvent.Channel(channel).label
    return f"{label}: {note}" if note else label


def lead_contact_amend(event: LeadEvent, *, note: str, data: dict) -> None:
    """A logged contact says more about itself afterwards (a call's outcome, tapped once it
    ended): its words and data change, never its time, so the contact dates stay as they are."""
    event.summary = _contact_summary(event.channel, note)[:255]
    event.data = {**event.data, **data}
    event.save(update_fields=["summary", "data"])


# Funnel milestones in order; reaching one implies having passed the ones before it.
MILESTONES = (
    (Lead.Stage.ENGAGED, "engaged_at"),
    (Lead.Stage.APPOINTMENT, "appointment_at"),
    (Lead.Stage.CLIENT, "client_at"),
    (Lead.Stage.CLOSED, "closed_at"),
)


@transaction.atomic
def lead_change_stage(
    lead: Lead, stage: str, *, actor=None, note: str = "", occurred_at=None
) -> bool:
    """Move the lead along the funnel. Returns False when it was already there. What the move
    means for automation is realtycrm.flows.contacts.stage_change's business.

    Records the first time each milestone was reached (a lead moved straight to appointment has
    also been engaged), so reports count conversion from dates, not from today's stage.
    """
    if lead.stage == stage:
        return False
    at = occurred_at or timezone.now()
    previous = lead.stage
    lead.stage = stage
    lead.stage_changed_at = at
    changed = ["stage", "stage_changed_at", "updated_at"]
    reached = [field for milestone, field in MILESTONES if milestone == stage]
    if reached:
        for _milestone, field in MILESTONES:
            if getattr(lead, field) is None:
                setattr(lead, field, at)
                changed.append(field)
            if field == reached[0]:
                break
    lead.save(update_fields=changed)
    lead_event_record(
        lead,
        LeadEvent.Kind.STAGE_CHANGED,
        actor=actor,
        summary=f"{Lead.Stage(previous).label} → {Lead.Stage(stage).label}"
        + (f": {note}" if note else ""),
        data={"from": previous, "to": stage},
        occurred_at=at,
    )
    return True


# --- The agent dashboard's writes (leads/views/) ------------------------------------------------


def lead_add_note(lead: Lead, *, actor, text: str) -> LeadEvent:
    """A note on the timeline. Not a contact: the last-contact date does not move."""
    return lead_event_record(lead, LeadEvent.Kind.NOTE, actor=actor, summary=text)


@transaction.atomic
def lead_correct_answers(
    lead: Lead, *, actor, timeline: str | None = None, side: str | None = None
) -> None:
    """An agent corrects what the lead told us (timeline, side); each change is on the timeline.
    Re-segmenting after it is realtycrm.flows.routing.lead_reclassify's job."""
    changed = []
    corrections = (
        ("timeline", timeline, LeadEvent.Kind.TIMELINE_CHANGED, Lead.Timeline),
        ("side", side, LeadEvent.Kind.SIDE_CHANGED, Lead.Side),
    )
    for field, value, kind, choices in corrections:
        before = getattr(lead, field)
        if value is None or value == before:
            continue
        lead_event_record(
            lead,
            kind,
            actor=actor,
            summary=f"{choices(before).label} → {choices(value).label}",
            data={"from": before, "to": value},
        )
        setattr(lead, field, value)
        changed.append(field)
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])


# Contact details an agent may correct, in the order the timeline lists a change.
CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "property_address",
    "neighbourhood",
    "postal_code",
)


# What the lead asked about, beside the contact details, which an agent may correct or accept
# from a re-inquiry (realtycrm.flows.reinquiry); the timeline records them the same way.
INQUIRY_FIELDS = ("bedrooms", "bathrooms", "open_house", "inquiry_type", "message")


class DuplicateContact(Exception):
    """Another lead already has this email or phone (leads are unique by each)."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


@transaction.atomic
def lead_update_contact(lead: Lead, *, actor, **values) -> list[str]:
    """Correct a lead's contact details (or what it asked about, INQUIRY_FIELDS); returns the
    names of the fields that changed.

    The SMS consent was given for a phone number: a new number has none, so changing the phone
    withdraws it (the lead can consent again on a form). Raises DuplicateContact when another lead
    already has the email or phone.
    """
    editable = (*CONTACT_FIELDS, *INQUIRY_FIELDS)
    unknown = set(values) - set(editable)
    if unknown:
        raise TypeError(f"Not contact fields: {', '.join(sorted(unknown))}")
    # As the column holds them (a re-inquiry's proposal is stored as JSON: "2.5", not Decimal).
    values = {
        field: Lead._meta.get_field(field).to_python(value) for field, value in values.items()
    }
    if values.get("email"):
        values["email"] = values["email"].strip().lower()
    changed = [
        field for field in editable if field in values and values[field] != getattr(lead, field)
    ]
    if not changed:
        return []
    for field in ("email", "phone"):
        if field in changed and values[field]:
            others = Lead.objects.filter(**{field: values[field]}).exclude(pk=lead.pk)
            if others.exists():
                raise DuplicateContact(field)
    before = {field: getattr(lead, field) for field in changed}
    for field in changed:
        setattr(lead, field, values[field])
    update_fields = [*changed, "updated_at"]
    consent_withdrawn = "phone" in changed and lead.sms_consent_at is not None
    if consent_withdrawn:
        lead.sms_consent_at = None
        lead.sms_consent_version = ""
        update_fields += ["sms_consent_at", "sms_consent_version"]
    try:
        with transaction.atomic():
            lead.save(update_fields=update_fields)
    except IntegrityError as error:  # a racing edit or intake took the email or phone first
        raise DuplicateContact("email" if "email" in str(error) else "phone") from error
    labels = ", ".join(Lead._meta.get_field(field).verbose_name for field in changed)
    lead_event_record(
        lead,
        LeadEvent.Kind.CONTACT_UPDATED,
        actor=actor,
        summary=f"Changed {labels}"
        + ("; SMS consent withdrawn with the old number" if consent_withdrawn else ""),
        data={
            "changed": {
                field: [json_value(before[field]), json_value(values[field])] for field in changed
            }
        },
    )
    return changed


def json_value(value):
    """A value as JSON keeps it: text for a date, a decimal or anything else not plain."""
    return value if value is None or isinstance(value, bool | int | str) else str(value)


def lead_reinquiry_resolve(event: LeadEvent, *, actor, accepted: bool) -> None:
    """The agent dealt with a re-inquiry's proposed answers: accepted them (the changes are on
    the timeline as they were applied) or kept what the lead had recorded. Either way the
    proposal is no longer pending; keeping the recorded answers is on the timeline too."""
    event.data = {
        **event.data,
        "resolved": {
            "by": actor.pk if actor else None,
            "at": timezone.now().isoformat(),
            "accepted": accepted,
        },
    }
    event.save(update_fields=["data"])
    if not accepted:
        when = formats.day(event.occurred_at)
        lead_event_record(
            event.lead,
            LeadEvent.Kind.NOTE,
            actor=actor,
            summary=f"Kept the recorded answers, not the new ones of {when}",
            data={"reinquiry": event.pk},
        )


def saved_filter_create(*, owner, name: str, query: str, pinned: bool = True) -> SavedFilter:
    """Save a leads-list query as the owner's smart list."""
    return SavedFilter.objects.create(owner=owner, name=name, query=query, pinned=pinned)


def saved_filter_set_pinned(saved_filter: SavedFilter, *, pinned: bool) -> None:
    saved_filter.pinned = pinned
    saved_filter.save(update_fields=["pinned"])


def saved_filter_delete(saved_filter: SavedFilter) -> None:
    saved_filter.delete()


# --- Caches of facts other apps own, each written by one caller -------------------------------------


def lead_apply_decision(lead: Lead, decision: Decision) -> None:
    """Routing's decision on the lead (realtycrm.flows.routing.lead_route): intent and why, the
    routing rule and the first-contact mode. The track is the enrolment's (lead_set_track).
    Nothing is written when the lead has them already (a new lead is inserted with its
    decision: leads.intake)."""
    values = decision_values(decision)
    if all(getattr(lead, name) == value for name, value in values.items()):
        return
    for name, value in values.items():
        setattr(lead, name, value)
    lead.save(update_fields=[*values, "updated_at"])


def decision_values(decision: Decision) -> dict:
    """The lead's columns a routing decision sets (lead_apply_decision), as a new lead's."""
    return {
        "intent": decision.intent,
        "intent_reason": decision.intent_reason[:200],
        "routing_rule_id": decision.rule_id,
        "first_contact_mode": decision.first_contact_mode,
    }


def lead_set_track(lead: Lead, track) -> None:
    """The lead's current nurture track: a cache written only by sequences' enrolment service."""
    lead.nurture_track = track
    Lead.objects.filter(pk=lead.pk).update(nurture_track=track)


def lead_mark_first_automated_contact(lead: Lead, at) -> None:
    """The outbox sent the lead's first automated message (speed to lead, automated)."""
    if lead.first_automated_contact_at is None:
        lead.first_automated_contact_at = at
        Lead.objects.filter(pk=lead.pk, first_automated_contact_at__isnull=True).update(
            first_automated_contact_at=at
        )


def lead_mark_alert_acknowledged(lead: Lead, at) -> None:
    """An agent first acknowledged an alert about the lead (alerts' acknowledgment)."""
    if lead.alert_acknowledged_at is None:
        lead.alert_acknowledged_at = at
        Lead.objects.filter(pk=lead.pk, alert_acknowledged_at__isnull=True).update(
            alert_acknowledged_at=at
        )


OPT_OUT_FIELD = {"sms": "sms_opted_out_at", "email": "email_opted_out_at"}


def leads_mark_opted_out(channel: str, address: str, *, at, summary: str, data: dict) -> None:
    """The suppression list now holds this number or address (sequences.suppressions, the one
    caller): every lead with it shows as opted out, once, on its timeline."""
    field = OPT_OUT_FIELD[channel]
    match = {"phone": address} if channel == "sms" else {"email": address}
    for lead in Lead.objects.filter(**match, **{f"{field}__isnull": True}):
        setattr(lead, field, at)
        lead.save(update_fields=[field])
        lead_event_record(
            lead,
            LeadEvent.Kind.OPTED_OUT,
            channel=channel,
            summary=summary,
            data=data,
            occurred_at=at,
        )


def leads_mark_opted_in(channel: str, address: str, *, summary: str, data: dict) -> list[Lead]:
    """The suppression list let this number or address go (sequences.suppressions, the one
    caller): the leads with it may be messaged again. Returns the leads that were opted out."""
    field = OPT_OUT_FIELD[channel]
    match = {"phone": address} if channel == "sms" else {"email": address}
    leads = list(Lead.objects.filter(**match, **{f"{field}__isnull": False}))
    for lead in leads:
        setattr(lead, field, None)
        lead.save(update_fields=[field])
        lead_event_record(
            lead, LeadEvent.Kind.OPTED_IN, channel=channel, summary=summary, data=data
        )
    return leads


def lead_tag(lead: Lead, names) -> list[Tag]:
    """Add tags by name (made when new), never removing any: imported and API leads bring
    theirs, and a re-inquiry's tags add to the lead's. A tag is one whatever its case ("vip" is
    the existing "VIP", as an import reads it); blank names are ignored."""
    wanted = {}
    for name in names or ():
        name = str(name).strip()[:50]
        if name:
            wanted.setdefault(name.lower(), name)  # the first spelling names a new tag
    if not wanted:
        return []
    existing = {
        tag.name.lower(): tag
        for tag in Tag.objects.annotate(key=Lower("name")).filter(key__in=list(wanted))
    }
    missing = [Tag(name=name) for key, name in wanted.items() if key not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    tags = list(existing.values())
    if missing:
        tags += list(Tag.objects.filter(name__in=[tag.name for tag in missing]))
    lead.tags.add(*tags)
    tags_changed()
    return tags


# --- Tags an agent adds and removes (the lead page, bulk actions) -----------------------------

TAG_MAX_LENGTH = Tag._meta.get_field("name").max_length


def tag_name_clean(name) -> str:
    """A tag's name as stored: inner whitespace collapsed, at most 50 characters."""
    return " ".join(str(name or "").split())[:TAG_MAX_LENGTH]


def tag_get_or_create(name: str) -> Tag:
    """The tag called `name`, whatever its case ("vip" is the "VIP" tag already used), made
    when new. Two agents making the same new tag at once get the same one."""
    name = tag_name_clean(name)
    if not name:
        raise ValueError("A tag needs a name")
    existing = Tag.objects.filter(name__iexact=name).order_by("id").first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name)
    except IntegrityError:
        return Tag.objects.get(name=name)


def leads_tag_add(leads, tag: Tag, *, actor) -> list[int]:
    """Tag the leads that do not have the tag yet, each with a "Tag added" event; returns their
    ids. Three queries for any number of leads (a bulk action's chunk, or one lead)."""
    Through = Lead.tags.through
    ids = [lead.pk for lead in leads]
    had = set(Through.objects.filter(tag=tag, lead_id__in=ids).values_list("lead_id", flat=True))
    tagged = [lead for lead in leads if lead.pk not in had]
    Through.objects.bulk_create(
        [Through(lead_id=lead.pk, tag_id=tag.pk) for lead in tagged], ignore_conflicts=True
    )
    if tagged:
        tags_changed()
    for lead in tagged:
        lead_event_record(
            lead,
            LeadEvent.Kind.TAG_ADDED,
            actor=actor,
            summary=f"Tag added: {tag.name}",
            data={"tag": tag.pk, "name": tag.name},
        )
    return [lead.pk for lead in tagged]


def leads_tag_remove(leads, tag: Tag, *, actor) -> list[int]:
    """Take the tag off the leads that have it, each with a "Tag removed" event; returns their
    ids. The tag itself stays (other leads, saved lists and imports may use it)."""
    Through = Lead.tags.through
    ids = [lead.pk for lead in leads]
    had = set(Through.objects.filter(tag=tag, lead_id__in=ids).values_list("lead_id", flat=True))
    if had:
        Through.objects.filter(tag=tag, lead_id__in=had).delete()
        tags_changed()
    untagged = [lead for lead in leads if lead.pk in had]
    for lead in untagged:
        lead_event_record(
            lead,
            LeadEvent.Kind.TAG_REMOVED,
            actor=actor,
            summary=f"Tag removed: {tag.name}",
            data={"tag": tag.pk, "name": tag.name},
        )
    return [lead.pk for lead in untagged]

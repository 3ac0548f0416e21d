"""Reads. Who may see which lead is decided here, once, for every view, export and endpoint."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, Func, OuterRef, Q, QuerySet, TextField
from django.shortcuts import get_object_or_404

from .models import Agent, Channel, ClaimOffer, Lead, LeadEvent, SavedFilter, Submission, Tag
from .phones import phone_display, phone_e164

User = get_user_model()


def user_is_broker(user) -> bool:
    """Brokers (and superusers) see every lead; agents see their own."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    agent = getattr(user, "agent", None)
    return bool(agent and agent.role == Agent.Role.BROKER)


def lead_visible_to(user, queryset: QuerySet | None = None) -> QuerySet:
    """Brokers see every lead; an agent sees the leads they own, and an unowned lead while it is
    offered to them to claim (first-to-claim groups)."""
    queryset = Lead.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if user_is_broker(user):
        return queryset
    offered = lead_ids_offered_to(user)
    if offered:
        return queryset.filter(Q(owner=user) | Q(owner__isnull=True, pk__in=offered))
    return queryset.filter(owner=user)


def lead_ids_offered_to(user) -> list[int]:
    """Unowned leads offered to this agent to claim, right now (usually none, always few)."""
    return list(
        ClaimOffer.objects.filter(
            agent=user, closed_at__isnull=True, lead__owner__isnull=True
        ).values_list("lead_id", flat=True)
    )


# --- The agent dashboard's reads (leads/views/) -------------------------------------------------


class LeadSearchText(Func):
    """One upper-cased text per lead: name, email, phone (E.164) and address.

    On PostgreSQL, migration leads/0005 indexes exactly this expression with pg_trgm, so
    `LIKE '%WORD%'` over 100,000 leads is an index lookup; keep the two in step.
    """

    template = "UPPER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self):
        super().__init__(*SEARCH_COLUMNS)


SEARCH_COLUMNS = ("first_name", "last_name", "email", "phone", "property_address")
PHONE_CHARACTERS = frozenset("0123456789+-(). ")
MAX_SEARCH_TERMS = 6


def search_terms(text: str) -> list[str]:
    """What a search box entry must all match, upper-cased.

    A phone number typed in any format ("(413) 555-0187", "413.555.0187", "+1 413 555 0187")
    becomes the digits of its E.164 form; a partial one ("555-0187") its digits. Anything else is
    split into words, each of which must appear somewhere (name, email, phone or address).
    """
    text = " ".join(text.split())[:200]
    if not text:
        return []
    digits = "".join(char for char in text if char.isdigit())
    if set(text) <= PHONE_CHARACTERS and len(digits) >= 3:
        number = phone_e164(text)
        return [number[1:]] if number else [digits]
    return [word.upper() for word in text.split(" ")[:MAX_SEARCH_TERMS]]


def lead_search(queryset: QuerySet, text: str) -> QuerySet:
    terms = search_terms(text)
    if not terms:
        return queryset
    queryset = queryset.alias(search_text=LeadSearchText())
    for term in terms:
        queryset = queryset.filter(search_text__contains=term)
    return queryset


def lead_list_queryset(user) -> QuerySet:
    """The leads a user may see, with what every list row shows, newest first."""
    return lead_visible_to(user, Lead.objects.select_related("owner", "nurture_track"))


def hot_queue(user, *, limit: int = 25) -> tuple[list[Lead], int]:
    """Hot leads nobody has personally contacted yet, oldest first, and how many there are.

    Lost and closed leads have left the funnel and leave the queue with it; a dormant (imported)
    contact is not a new lead until it re-engages.
    """
    queryset = lead_visible_to(
        user,
        Lead.objects.filter(
            intent=Lead.Intent.HOT, first_personal_contact_at__isnull=True, dormant=False
        ).exclude(stage__in=[Lead.Stage.LOST, Lead.Stage.CLOSED]),
    )
    rows = list(queryset.select_related("owner").order_by("created_at", "id")[:limit])
    total = len(rows) if len(rows) < limit else queryset.count()
    return rows, total


def lead_timeline(lead: Lead, *, limit: int = 50) -> tuple[list[LeadEvent], bool]:
    """The lead's latest events, newest first, and whether there are older ones."""
    events = list(lead.events.select_related("actor").order_by("-occurred_at", "-id")[: limit + 1])
    return events[:limit], len(events) > limit


def lead_for_dashboard(user, pk: int) -> Lead:
    """One lead the user may see, or 404: the same answer whether it exists or is someone else's."""
    return get_object_or_404(
        lead_visible_to(
            user, Lead.objects.select_related("owner", "nurture_track", "routing_rule__track")
        ),
        pk=pk,
    )


def assignable_users() -> QuerySet:
    """Who a broker can hand a lead to: active agents and brokers with an active login."""
    return (
        User.objects.filter(agent__active=True, is_active=True)
        .select_related("agent")
        .order_by("first_name", "last_name", "username")
    )


def neighbourhoods_visible_to(user) -> list[str]:
    """The neighbourhoods of the leads a user sees, for the filter's suggestions (cached)."""
    key = f"leads:neighbourhoods:{user.pk}:{int(user_is_broker(user))}"
    names = cache.get(key)
    if names is None:
        names = list(
            lead_visible_to(user)
            .exclude(neighbourhood="")
            .order_by("neighbourhood")
            .values_list("neighbourhood", flat=True)
            .distinct()[:200]
        )
        cache.set(key, names, NEIGHBOURHOOD_CACHE_SECONDS)
    return names


NEIGHBOURHOOD_CACHE_SECONDS = 600
MAX_ORIGINS = 200


def origins_visible_to(user) -> list[str]:
    """The origins (Zillow, an IDX site, a Meta page and form) of the leads a user sees, in
    order, for the list's origin filter (cached like the neighbourhoods). A broker's are every
    lead's, read off the lead_origin_created index; an agent's come from their own leads only
    (another agent's origins are not theirs to see)."""
    is_broker = user_is_broker(user)
    key = f"leads:origins:{user.pk}:{int(is_broker)}"
    names = cache.get(key)
    if names is None:
        if is_broker:
            names = _all_origins(MAX_ORIGINS)
        else:
            names = list(
                lead_visible_to(user)
                .exclude(origin="")
                .order_by("origin")
                .values_list("origin", flat=True)
                .distinct()[:MAX_ORIGINS]
            )
        cache.set(key, names, NEIGHBOURHOOD_CACHE_SECONDS)
    return names


MAX_TAGS_OFFERED = 200


TAGS_VERSION_KEY = "leads:tags:version"


def tags_visible_to(user) -> list[tuple[int, str]]:
    """The tags a user may filter by, (id, name) by name: every tag for a broker, those on an
    agent's own leads for an agent (another agent's labels are not theirs to see). Cached like
    the origins; a tag added or removed here (tags_changed) makes every list read them again."""
    is_broker = user_is_broker(user)
    key = f"leads:tags:{user.pk}:{int(is_broker)}:{cache.get(TAGS_VERSION_KEY, 0)}"
    found = cache.get(key)
    if found is None:
        tags = Tag.objects.order_by("name")
        if not is_broker:
            through = Lead.tags.through.objects.filter(
                tag_id=OuterRef("pk"), lead__in=lead_visible_to(user)
            )
            tags = tags.filter(Exists(through))
        found = list(tags.values_list("id", "name")[:MAX_TAGS_OFFERED])
        cache.set(key, found, NEIGHBOURHOOD_CACHE_SECONDS)
    return found


def tags_changed() -> None:
    """Leads gained or lost a tag: the cached tag lists are stale (a new version key)."""
    try:
        cache.incr(TAGS_VERSION_KEY)
    except ValueError:  # not set yet (or evicted)
        cache.set(TAGS_VERSION_KEY, 1, None)


def leads_with_tag_names(leads: list[Lead]) -> list[Lead]:
    """Each lead's tag names as `lead.tag_names`, by name, in one query for them all: what a
    list row shows (lighter than prefetch_related, which builds a Tag and a queryset per row)."""
    names: dict[int, list[str]] = {lead.pk: [] for lead in leads}
    if names:
        links = (
            Lead.tags.through.objects.filter(lead_id__in=list(names))
            .order_by("tag__name")
            .values_list("lead_id", "tag__name")
        )
        for lead_id, name in links:
            names[lead_id].append(name)
    for lead in leads:
        lead.tag_names = names[lead.pk]
    return leads


def lead_tags_offered(user, lead: Lead) -> tuple[list[Tag], list[str]]:
    """The lead's tags, and the names to suggest for another (the tags the user may filter by),
    in one query: the lead page's tag card."""
    tags = Tag.objects.order_by("name").annotate(
        on_lead=Exists(Lead.tags.through.objects.filter(tag_id=OuterRef("pk"), lead_id=lead.pk))
    )
    if not user_is_broker(user):
        visible = Lead.tags.through.objects.filter(
            tag_id=OuterRef("pk"), lead__in=lead_visible_to(user)
        )
        tags = tags.filter(Exists(visible))
    found = list(tags)
    return [tag for tag in found if tag.on_lead], [tag.name for tag in found][:MAX_TAGS_OFFERED]


# A loose index scan: from each origin to the next one up the lead_origin_created index (MIN
# over an indexed range is one index lookup), so listing a handful of origins reads a handful
# of index entries, not every lead (a plain DISTINCT read 1,000,000 leads in 0.2 s; this, 0.3 ms).
_DISTINCT_ORIGINS = """
WITH RECURSIVE found(origin, n) AS (
    SELECT (SELECT MIN(origin) FROM {table} WHERE origin > ''), 1
    UNION ALL
    SELECT (SELECT MIN(origin) FROM {table} WHERE origin > found.origin), found.n + 1
    FROM found WHERE found.origin IS NOT NULL AND found.n < %s
)
SELECT origin FROM found WHERE origin IS NOT NULL ORDER BY n
"""


def _all_origins(limit: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(_DISTINCT_ORIGINS.format(table=Lead._meta.db_table), [limit])
        return [origin for (origin,) in cursor.fetchall()]


@dataclass(frozen=True)
class SmartList:
    """A list every agent is offered; pinning one saves it as the agent's own."""

    name: str
    query: str


DEFAULT_SMART_LISTS = (
    SmartList("Hot, never contacted", "intent=hot&never_contacted=on"),
    SmartList("Warm, no personal touch in 30 days", "intent=warm&no_contact_days=30"),
    SmartList("Long-term, asked for valuation", "source=valuation&intent=long_term"),
    SmartList("Appointments set", "stage=appointment"),
)


def saved_filters_for(user) -> list[SavedFilter]:
    return list(SavedFilter.objects.filter(owner=user)[:MAX_SAVED_FILTERS])


MAX_SAVED_FILTERS = 30


def user_time_zone(user) -> ZoneInfo:
    """The zone a user's day is counted in: the agent's own, else the brokerage's."""
    agent = getattr(user, "agent", None) if user.is_authenticated else None
    try:
        return ZoneInfo(agent.time_zone) if agent and agent.time_zone else _brokerage_zone()
    except (ZoneInfoNotFoundError, ValueError):
        return _brokerage_zone()


def _brokerage_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- Re-inquiries' proposed answers (the agent accepts them on the lead page) ----------------


@dataclass(frozen=True)
class ProposedRow:
    field: str
    label: str
    recorded: str
    new: str


@dataclass(frozen=True)
class ProposedAnswers:
    """A re-inquiry's answers that differ from what the lead has recorded now."""

    event: LeadEvent
    source_label: str
    rows: tuple[ProposedRow, ...]


def _as_column(field: str, value):
    return Lead._meta.get_field(field).to_python(value)


# The events whose different answers wait for the agent: a re-inquiry's, and a re-engaging
# contact's (the old database's details against what it says now).
PROPOSING_KINDS = (LeadEvent.Kind.REINQUIRY, LeadEvent.Kind.REENGAGED)


def reinquiry_pending_values(lead: Lead, event: LeadEvent) -> dict:
    """What accepting this re-inquiry would change: {field: new value}, only the fields still
    different from the lead's (an agent may have edited one since). Empty once resolved."""
    if event.kind not in PROPOSING_KINDS or "resolved" in event.data:
        return {}
    pending = {}
    for field, (_recorded, new) in event.data.get("proposed", {}).items():
        value = _as_column(field, new)
        if value != getattr(lead, field):
            pending[field] = value
    return pending


def _display(field: str, value) -> str:
    if value in (None, ""):
        return ""
    if field == "phone":
        return phone_display(value)
    choices = dict(Lead._meta.get_field(field).choices or ())
    return str(choices.get(value, value))


def lead_pending_reinquiries(lead: Lead) -> list[ProposedAnswers]:
    """The re-inquiries whose new answers the agent has not accepted or set aside, newest first.
    A lead that never asked again (and was never imported: re-engaging proposes answers too)
    costs no query."""
    if lead.inquiry_count <= 1 and lead.imported_at is None:
        return []
    events = lead.events.filter(kind__in=PROPOSING_KINDS).order_by("-occurred_at", "-id")
    pending = []
    for event in events:
        values = reinquiry_pending_values(lead, event)
        if not values:
            continue
        rows = tuple(
            ProposedRow(
                field=field,
                label=str(Lead._meta.get_field(field).verbose_name).capitalize(),
                recorded=_display(field, getattr(lead, field)),
                new=_display(field, value),
            )
            for field, value in values.items()
        )
        source = event.data.get("source", "")
        label = Lead.Source(source).label if source in Lead.Source.values else "a form"
        pending.append(ProposedAnswers(event=event, source_label=label, rows=rows))
    return pending


def submissions_quarantined(user, *, since=None) -> QuerySet[Submission]:
    """Submissions quarantined as spam since `since`, newest first: the broker's to look at and
    release (they belong to no lead yet, so an agent sees none)."""
    if not user_is_broker(user):
        return Submission.objects.none()
    quarantined = Submission.objects.filter(status=Submission.Status.SPAM)
    return quarantined if since is None else quarantined.filter(created_at__gte=since)


def inbound_emails_waiting(user) -> QuerySet[Submission]:
    """Portal emails no parser could read (kept, rejected) or whose processing failed, not
    dismissed, newest first: the broker's to make a lead from (they belong to no lead yet, so an
    agent sees none)."""
    if not user_is_broker(user):
        return Submission.objects.none()
    return (
        Submission.objects.filter(
            channel=Channel.EMAIL,
            status__in=[Submission.Status.REJECTED, Submission.Status.FAILED],
        )
        .exclude(mapped__has_key="dismissed")
        .order_by("-created_at", "-id")
    )

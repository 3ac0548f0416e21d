"""Reads for the segment report. Every figure is aggregated by the database; Python only puts
the aggregated rows (a few dozen) in order and looks up their labels.

Which leads: `report_leads` (the cohort, through leads.selectors.lead_visible_to, so an agent's
report only ever holds their own leads). What about them: `segment_figures`, `origin_figures`,
`agent_figures`, `track_figures`, `trend_figures`, `campaign_figures`.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import BigIntegerField, Case, Count, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from leads.models import Channel, Intent, Lead, Source, Stage
from leads.names import person_name
from leads.selectors import lead_visible_to
from sequences.models import Track

from .figures import (
    WITHIN_5_MINUTES,
    WITHIN_60_MINUTES,
    CampaignFigures,
    Figures,
    add_counts,
    bucket_starts,
    spend_in_window,
)
from .models import Campaign, CampaignSpend
from .sql import (
    LocalDay,
    PercentileCont,
    Seconds,
    cube_rows,
    has_percentile_cont,
    window_percentiles,
)


@dataclass(frozen=True)
class Scope:
    """What the report covers: leads that arrived from `start` to `end` (both days included, in
    the brokerage's time zone), optionally one agent's only."""

    start: date
    end: date
    agent: object | None = None  # a User
    grain: str = "week"

    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )


def report_leads(user, scope: Scope) -> QuerySet:
    """The cohort: visible leads created in the range (uses the lead_created index)."""
    start, end = scope.bounds()
    # Dormant imported contacts asked for nothing: they count from the moment they re-engage.
    leads = lead_visible_to(
        user, Lead.objects.filter(created_at__gte=start, created_at__lt=end, dormant=False)
    )
    if scope.agent is not None:
        leads = leads.filter(owner=scope.agent)
    return leads.order_by()


# Seconds from arrival to each kind of first contact; NULL until it happens.
DURATIONS = {
    "personal": Seconds("first_personal_contact_at", "created_at"),
    "automated": Seconds("first_automated_contact_at", "created_at"),
}
PERCENTILES = {
    "personal_p50": ("personal", 0.5),
    "personal_p90": ("personal", 0.9),
    "automated_p50": ("automated", 0.5),
    "automated_p90": ("automated", 0.9),
}


def _counts() -> dict:
    hot = Q(intent=Intent.HOT)
    return {
        "leads": Count("pk"),
        # Count(field) counts the rows where it is set: a milestone date, a contact date.
        "contacted": Count("first_personal_contact_at"),
        "engaged": Count("engaged_at"),
        "appointment": Count("appointment_at"),
        "client": Count("client_at"),
        "closed": Count("closed_at"),
        "lost": Count("pk", filter=Q(stage=Stage.LOST)),
        "opted_out": Count(
            "pk", filter=Q(sms_opted_out_at__isnull=False) | Q(email_opted_out_at__isnull=False)
        ),
        "acknowledged": Count("first_automated_contact_at"),
        "hot": Count("pk", filter=hot),
        "hot_within_5": Count("pk", filter=hot & Q(personal_seconds__lte=WITHIN_5_MINUTES)),
        "hot_within_60": Count("pk", filter=hot & Q(personal_seconds__lte=WITHIN_60_MINUTES)),
    }


def _aggregates(*, percentiles: bool) -> dict:
    aggregates = _counts()
    if percentiles and has_percentile_cont():
        aggregates |= {
            output: PercentileCont(DURATIONS[measure], fraction)
            for output, (measure, fraction) in PERCENTILES.items()
        }
    return aggregates


def _with_durations(leads: QuerySet) -> QuerySet:
    return leads.alias(**{f"{name}_seconds": expr for name, expr in DURATIONS.items()})


def _grouped(leads: QuerySet, fields: list[str], *, percentiles: bool) -> dict[tuple, Figures]:
    """Figures per distinct value of `fields` (one row for all leads when there are none)."""
    return _grouped_levels(leads, [fields], percentiles=percentiles)[tuple(fields)]


def _grouped_levels(
    leads: QuerySet, levels: list[list[str]], *, percentiles: bool
) -> dict[tuple[str, ...], dict[tuple, Figures]]:
    """_grouped for several groupings: one aggregate query each, and on SQLite one statement
    for all their percentiles."""
    queryset = _with_durations(leads)
    aggregates = _aggregates(percentiles=percentiles)
    found = {}
    if percentiles and not has_percentile_cont():
        names = list(dict.fromkeys(name for level in levels for name in level))
        found = window_percentiles(
            leads,
            {name: name for name in names},
            DURATIONS,
            PERCENTILES,
            levels=[tuple(level) for level in levels],
        )
    result = {}
    for fields in levels:
        if fields:
            rows = {
                tuple(row.pop(name) for name in fields): row
                for row in queryset.values(*fields).annotate(**aggregates).order_by()
            }
        else:
            rows = {(): queryset.aggregate(**aggregates)}
            if not rows[()]["leads"]:
                rows = {}
        level_found = found.get(tuple(fields), {})
        for key, row in rows.items():
            row.update(level_found.get(key, {}))
        result[tuple(fields)] = {key: Figures(**row) for key, row in rows.items()}
    return result


@dataclass(frozen=True)
class SegmentFigures:
    cells: dict[tuple[str, str], Figures]
    by_source: dict[str, Figures]
    by_intent: dict[str, Figures]
    overall: Figures


def segment_figures(leads: QuerySet) -> SegmentFigures:
    """The source × intent matrix and its blended totals, each computed from the leads: medians
    do not add up, so every level (cell, source, intent, all) is an aggregate of its own.

    PostgreSQL computes the four levels in one statement (GROUP BY CUBE, about twice as fast
    as four queries); elsewhere each level's counts are a query and one statement ranks the
    contact times for all four."""
    fields = ["source", "intent"]
    levels = None
    if has_percentile_cont():
        grouped = _with_durations(leads).values(*fields).annotate(**_aggregates(percentiles=True))
        levels = cube_rows(grouped.order_by(), fields)
    if levels is None:
        levels = {}
        grouped = _grouped_levels(leads, [fields, ["source"], ["intent"], []], percentiles=True)
        for level, found in grouped.items():
            for key, row in found.items():
                values = dict(zip(level, key, strict=True))
                levels[tuple(values.get(name) for name in fields)] = row
    else:
        levels = {key: Figures(**row) for key, row in levels.items() if row["leads"]}
    return SegmentFigures(
        cells={key: value for key, value in levels.items() if None not in key},
        by_source={s: value for (s, i), value in levels.items() if s is not None and i is None},
        by_intent={i: value for (s, i), value in levels.items() if s is None and i is not None},
        overall=levels.get((None, None), Figures()),
    )


@dataclass(frozen=True)
class LabelledFigures:
    label: str
    figures: Figures
    key: object = None


def agent_figures(leads: QuerySet) -> list[LabelledFigures]:
    """Per owner (speed to lead and the leaderboard), in name order; unassigned leads last."""
    by_owner = {
        key[0]: value for key, value in _grouped(leads, ["owner"], percentiles=True).items()
    }
    return agent_rows(by_owner)


def agent_rows(by_owner: dict) -> list[LabelledFigures]:
    """Figures per owner's user id (None: unassigned) as the agent tables list them."""
    users = get_user_model().objects.in_bulk([pk for pk in by_owner if pk is not None])
    rows = [
        LabelledFigures(person_name(users[pk]), figures, pk)
        for pk, figures in by_owner.items()
        if pk is not None and pk in users
    ]
    rows.sort(key=lambda row: row.label.casefold())
    if None in by_owner:
        rows.append(LabelledFigures("Unassigned", by_owner[None]))
    return rows


def track_figures(leads: QuerySet) -> list[LabelledFigures]:
    """Per nurture track the lead is in now, in track-name order; leads in none last."""
    by_track = {
        key[0]: value
        for key, value in _grouped(leads, ["nurture_track"], percentiles=False).items()
    }
    return track_rows(by_track)


def track_rows(by_track: dict) -> list[LabelledFigures]:
    """Figures per track id (None: in no track) as the track table lists them."""
    tracks = Track.objects.in_bulk([pk for pk in by_track if pk is not None])
    rows = [
        LabelledFigures(tracks[pk].name, figures, tracks[pk].key)
        for pk, figures in by_track.items()
        if pk is not None and pk in tracks
    ]
    rows.sort(key=lambda row: row.label.casefold())
    if None in by_track:
        rows.append(LabelledFigures("No track", by_track[None]))
    return rows


def trend_figures(leads: QuerySet, scope: Scope) -> list[tuple[date, Figures]]:
    """Figures per week (from Monday) or month of arrival, with empty periods as zeros.

    Grouped by the day of arrival in SQL (LocalDay: no per-row Python function on SQLite),
    then the days added up into periods: counts add up."""
    found = _grouped(
        leads.annotate(arrived_on=LocalDay("created_at")), ["arrived_on"], percentiles=False
    )
    return trend_rows({key[0]: value for key, value in found.items()}, scope)


def trend_rows(by_day: dict[date, Figures], scope: Scope) -> list[tuple[date, Figures]]:
    """Figures per day of arrival added up into the scope's weeks or months."""
    periods = defaultdict(list)
    for day, figures in by_day.items():
        if isinstance(day, str):
            day = date.fromisoformat(day)
        start = day - timedelta(days=day.weekday()) if scope.grain == "week" else day.replace(day=1)
        periods[start].append(figures)
    return [
        (start, add_counts(periods[start]) if start in periods else Figures())
        for start in bucket_starts(scope.start, scope.end, scope.grain)
    ]


@dataclass(frozen=True)
class CostFigures:
    campaigns: list[CampaignFigures]
    by_source: list[CampaignFigures] = field(default_factory=list)
    total: CampaignFigures | None = None


def campaign_figures(leads: QuerySet, scope: Scope) -> CostFigures:
    """Spend in the range and what it bought, per campaign, per source and in total.

    Each lead goes to the most specific campaign that matches it (Campaign.precedence): one
    CASE expression names it, so every campaign's results are one grouped query, and no lead
    counts for two campaigns."""
    campaigns = campaigns_in(scope)
    if not campaigns:
        return CostFigures(campaigns=[])
    taken_by = Case(
        *(When(campaign.lead_filter(), then=Value(campaign.pk)) for campaign in campaigns),
        default=None,
        output_field=BigIntegerField(),
    )
    results = {
        row["campaign_key"]: row
        for row in leads.annotate(campaign_key=taken_by)
        .filter(campaign_key__isnull=False)
        .values("campaign_key")
        .annotate(
            leads=Count("pk"),
            appointments=Count("appointment_at"),
            closings=Count("closed_at"),
        )
        .order_by()
    }
    return cost_figures(campaigns, results, scope)


def campaigns_in(scope: Scope) -> list[Campaign]:
    """Every campaign, most specific first, with its spends that overlap the range."""
    spends = CampaignSpend.objects.filter(starts_on__lte=scope.end, ends_on__gte=scope.start)
    return sorted(
        Campaign.objects.prefetch_related(Prefetch("spends", queryset=spends)),
        key=Campaign.precedence,
    )


def cost_figures(campaigns: list[Campaign], results: dict, scope: Scope) -> CostFigures:
    """The cost tables from each campaign's results ({pk: {leads, appointments, closings}})."""
    if not campaigns:
        return CostFigures(campaigns=[])
    rows = []
    # Listed by source as before origins, those of any source (on an origin alone) last.
    listed = sorted(campaigns, key=lambda c: (not c.source, c.source, c.origin.casefold(), c.name))
    for campaign in listed:
        result = results.get(campaign.pk, {})
        spend = sum(
            (
                spend_in_window(s.amount, s.starts_on, s.ends_on, scope.start, scope.end)
                for s in campaign.spends.all()
            ),
            Decimal("0.00"),
        )
        rows.append(
            CampaignFigures(
                label=campaign.name,
                source=campaign.source,
                utm_campaign=campaign.utm_campaign,
                origin=campaign.origin,
                spend=spend,
                leads=result.get("leads", 0),
                appointments=result.get("appointments", 0),
                closings=result.get("closings", 0),
            )
        )
    order = [*Source.values, ""]  # campaigns of any source (by origin) last
    sources = sorted({row.source for row in rows}, key=order.index)
    by_source = [
        _sum_campaigns(source_label(source), [r for r in rows if r.source == source])
        for source in sources
    ]
    return CostFigures(campaigns=rows, by_source=by_source, total=_sum_campaigns("All", rows))


def source_label(source: str) -> str:
    return Source(source).label if source else "Any source"


def _sum_campaigns(label: str, rows: list[CampaignFigures]) -> CampaignFigures:
    """A lead belongs to one campaign at most (the most specific), so their sums are exact."""
    return CampaignFigures(
        label=label,
        source=rows[0].source if len({r.source for r in rows}) == 1 else "",
        utm_campaign="",
        spend=sum((r.spend for r in rows), Decimal("0.00")),
        leads=sum(r.leads for r in rows),
        appointments=sum(r.appointments for r in rows),
        closings=sum(r.closings for r in rows),
    )


@dataclass(frozen=True)
class OriginGroup:
    """One origin's leads (all its spellings, ignoring case), in total and per channel, and
    what the campaigns that match on it cost (None: no such campaign, or costs not shown)."""

    origin: str  # as most of its leads spell it; "" for leads with none (our own forms)
    figures: Figures
    by_channel: dict[str, Figures]
    cost: CampaignFigures | None = None


@dataclass(frozen=True)
class OriginFigures:
    origins: list[OriginGroup]
    by_channel: dict[str, Figures]
    overall: Figures
    cost: CampaignFigures | None = None  # every campaign that matches on an origin


def origin_figures(leads: QuerySet, costs: CostFigures | None = None) -> OriginFigures:
    """Conversion per origin and channel, and each origin's cost when `costs` are given.

    One grouped query over the cohort, by the stored origin and channel, counts only: counts
    add up, so an origin's spellings, its channels and the totals are sums of those rows (no
    lead counted twice; no percentiles here, which would not add up). Origins are the biggest
    first, leads with none last; an origin with campaign spend but no leads in the range is
    listed too, as what was paid for nothing."""
    return origin_groups(_grouped(leads, ["origin", "channel"], percentiles=False), costs)


def origin_groups(
    found: dict[tuple[str, str], Figures], costs: CostFigures | None
) -> OriginFigures:
    """origin_figures from the counts per stored (origin, channel)."""
    cells: dict[str, dict[str, list[Figures]]] = defaultdict(lambda: defaultdict(list))
    spellings: dict[str, Counter] = defaultdict(Counter)
    for (origin, channel), figures in found.items():
        key = origin.casefold()
        cells[key][channel].append(figures)
        spellings[key][origin] += figures.leads
    campaigns = defaultdict(list)
    for campaign in costs.campaigns if costs else []:
        if campaign.origin:
            campaigns[campaign.origin.casefold()].append(campaign)
            spellings[campaign.origin.casefold()].setdefault(campaign.origin, 0)
    groups = []
    for key, names in spellings.items():
        label = min(names, key=lambda name: (-names[name], name))
        by_channel = {
            channel: add_counts(cells[key][channel])
            for channel in sorted(cells[key], key=_channel_order)
        }
        cost = _sum_campaigns(label, campaigns[key]) if campaigns[key] else None
        groups.append(OriginGroup(label, add_counts(by_channel.values()), by_channel, cost))
    groups.sort(key=lambda g: (not g.origin, -g.figures.leads, g.origin.casefold()))
    channels = sorted({c for g in groups for c in g.by_channel}, key=_channel_order)
    by_channel = {
        channel: add_counts(g.by_channel[channel] for g in groups if channel in g.by_channel)
        for channel in channels
    }
    with_origin = [c for c in costs.campaigns if c.origin] if costs else []
    return OriginFigures(
        origins=groups,
        by_channel=by_channel,
        overall=add_counts(g.figures for g in groups),
        cost=_sum_campaigns("All origins", with_origin) if with_origin else None,
    )


def _channel_order(channel: str) -> tuple:
    values = Channel.values
    return (values.index(channel), "") if channel in values else (len(values), channel)


def agent_choices() -> QuerySet:
    """The people a broker may narrow the report to: everyone with an agent profile."""
    return (
        get_user_model()
        .objects.filter(agent__isnull=False)
        .order_by("first_name", "last_name", "username")
    )

"""The report as tables: one definition per table, rendered as HTML and exported as CSV alike.

A table is columns (each with a kind that says how to show its values) and rows of raw values
(counts, fractions, seconds, money). Building one runs only the queries it needs, so exporting a
single table as CSV does not compute the others.
"""

import csv
from dataclasses import dataclass, field
from functools import cached_property

from django.utils.formats import date_format

from leads.models import Channel, Intent, Source
from leads.selectors import user_is_broker
from realtycrm import formats
from realtycrm.spreadsheets import csv_safe

from . import rollup, selectors
from .figures import Figures

# Kinds: text, count, rate (a fraction), seconds, money, period (a date: first day of a period);
# seconds-estimate: seconds read from the rollup's histograms, within rollup.RELATIVE_ERROR.
ESTIMATED_SECONDS = "seconds-estimate"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "count"

    @property
    def numeric(self) -> bool:
        """Right-aligned, in tabular figures."""
        return self.kind in ("count", "rate", "seconds", ESTIMATED_SECONDS, "money")


@dataclass(frozen=True)
class Row:
    values: list
    too_few: bool = False  # fewer leads than figures.MIN_LEADS: greyed and marked
    total: bool = False  # a blended total


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    note: str = ""
    marks_too_few: bool = True

    @property
    def filename(self) -> str:
        return f"{self.key}.csv"


# (Figures attribute, label, kind) for each family of tables.
CONVERSION = [
    ("leads", "Leads", "count"),
    ("contacted_rate", "% contacted", "rate"),
    ("personal_p50", "Median to contact", "seconds"),
    ("personal_p90", "90th pct to contact", "seconds"),
    ("engaged_rate", "% engaged", "rate"),
    ("appointment_rate", "% appointment", "rate"),
    ("client_rate", "% client", "rate"),
    ("closed_rate", "% closed", "rate"),
    ("lost_rate", "% lost", "rate"),
    ("opted_out_rate", "Opt-out rate", "rate"),
]
SPEED = [
    ("leads", "Leads", "count"),
    ("acknowledged_rate", "% auto-acknowledged", "rate"),
    ("automated_p50", "Median to auto-ack", "seconds"),
    ("automated_p90", "90th pct to auto-ack", "seconds"),
    ("contacted_rate", "% personally contacted", "rate"),
    ("personal_p50", "Median to personal contact", "seconds"),
    ("personal_p90", "90th pct to personal contact", "seconds"),
    ("hot", "Hot leads", "count"),
    ("hot_within_5_rate", "Hot ≤ 5 min", "rate"),
    ("hot_within_60_rate", "Hot ≤ 60 min", "rate"),
]
LEADERBOARD = [
    ("leads", "Leads", "count"),
    ("personal_p50", "Median to personal contact", "seconds"),
    ("hot_within_60_rate", "Hot ≤ 60 min", "rate"),
    ("appointment", "Appointments", "count"),
    ("appointment_rate", "% appointment", "rate"),
    ("closed", "Closings", "count"),
    ("closed_rate", "% closed", "rate"),
]
TRACK = [spec for spec in CONVERSION if spec[2] != "seconds"]
TREND = [
    ("leads", "Leads", "count"),
    ("contacted_rate", "% contacted", "rate"),
    ("engaged_rate", "% engaged", "rate"),
    ("appointment_rate", "% appointment", "rate"),
    ("client_rate", "% client", "rate"),
    ("closed_rate", "% closed", "rate"),
    ("lost_rate", "% lost", "rate"),
]
COST = [
    ("spend", "Spend", "money"),
    ("leads", "Leads", "count"),
    ("appointments", "Appointments", "count"),
    ("closings", "Closings", "count"),
    ("cost_per_lead", "Cost per lead", "money"),
    ("cost_per_appointment", "Cost per appointment", "money"),
    ("cost_per_closing", "Cost per closing", "money"),
]

# Conversion by origin: the matrix's rates (no percentiles: those are the matrix's), and what the
# origin's campaigns cost, for brokers.
ORIGIN = [
    ("leads", "Leads", "count"),
    ("contacted_rate", "% contacted", "rate"),
    ("appointment_rate", "% appointment", "rate"),
    ("client_rate", "% client", "rate"),
    ("closed_rate", "% closed", "rate"),
]
ORIGIN_COST = [
    ("spend", "Spend", "money"),
    ("leads", "Campaign leads", "count"),
    ("cost_per_lead", "Cost per lead", "money"),
    ("cost_per_appointment", "Cost per appointment", "money"),
]

ORIGIN_NOTE = "The sending system or brand each lead came from, and the channel it came by."
ORIGIN_COST_NOTE = (
    " Spend: the campaigns that match on the origin (Admin → Reports → Campaigns); cost per "
    "lead and per appointment divide it by those campaigns' leads and appointments."
)

ALL_SOURCES, ALL_INTENTS = "All sources", "All intents"
ALL_ORIGINS, ALL_CHANNELS, NO_ORIGIN = "All origins", "All channels", "No origin"
CHANNELS = dict(Channel.choices)


def _columns(labels: list[tuple[str, str]], specs, *, estimated=False) -> list[Column]:
    """Text columns, then the figures'; times marked as estimates when they are."""
    return [Column(key, label, "text") for key, label in labels] + [
        Column(attr, f"{label} (≈, {rollup.BOUND_LABEL})", ESTIMATED_SECONDS)
        if estimated and kind == "seconds"
        else Column(attr, label, kind)
        for attr, label, kind in specs
    ]


def _row(labels: list, figures: Figures, specs, *, total=False) -> Row:
    return Row(
        [*labels, *(getattr(figures, attr) for attr, _, _ in specs)],
        too_few=figures.too_few,
        total=total,
    )


class ReportTables:
    """Every table of the segment report for one user and scope, built on demand."""

    ORDER = [
        "segments",
        "origins",
        "speed-segments",
        "speed-agents",
        "leaderboard",
        "tracks",
        "trend",
        "campaigns",
        "campaign-sources",
    ]

    def __init__(self, user, scope: selectors.Scope, *, use_rollup: bool | None = None):
        """use_rollup: None chooses (rollup.uses_rollup); True or False forces (tests, bench)."""
        self.user = user
        self.scope = scope
        if use_rollup is None:
            use_rollup = rollup.uses_rollup(user, scope)
        self.rollup = rollup.RollupFigures(scope) if use_rollup else None

    @property
    def estimated(self) -> bool:
        """Times are estimates (from the rollup's histograms) rather than exact."""
        return self.rollup is not None

    @property
    def time_kind(self) -> str:
        return ESTIMATED_SECONDS if self.estimated else "seconds"

    def _columns(self, labels, specs) -> list[Column]:
        return _columns(labels, specs, estimated=self.estimated)

    # --- The data (each one query or a few; computed at most once) ------------------------------

    @cached_property
    def leads(self):
        return selectors.report_leads(self.user, self.scope)

    @cached_property
    def segments(self) -> selectors.SegmentFigures:
        if self.rollup:
            return self.rollup.segments()
        return selectors.segment_figures(self.leads)

    @cached_property
    def origins(self) -> selectors.OriginFigures:
        costs = self.costs if self.shows_costs else None
        if self.rollup:
            return self.rollup.origins(costs)
        return selectors.origin_figures(self.leads, costs)

    @cached_property
    def agents(self):
        if self.rollup:
            return self.rollup.agents()
        return selectors.agent_figures(self.leads)

    @cached_property
    def tracks(self):
        if self.rollup:
            return self.rollup.tracks()
        return selectors.track_figures(self.leads)

    @cached_property
    def trend_rows(self):
        if self.rollup:
            return self.rollup.trend()
        return selectors.trend_figures(self.leads, self.scope)

    @cached_property
    def costs(self):
        if self.rollup:
            return self.rollup.costs()
        return selectors.campaign_figures(self.leads, self.scope)

    @property
    def shows_costs(self) -> bool:
        """Spend is the brokerage's, not an agent's: cost tables cover all leads, for brokers."""
        return self.scope.agent is None and user_is_broker(self.user)

    # --- The tables -----------------------------------------------------------------------------

    def table_keys(self) -> list[str]:
        return [key for key in self.ORDER if self.shows_costs or not key.startswith("campaign")]

    def get(self, key: str) -> Table | None:
        if key not in self.table_keys():
            return None
        return getattr(self, f"table_{key.replace('-', '_')}")()

    def all(self) -> list[Table]:
        return [self.get(key) for key in self.table_keys()]

    def _segment_rows(self, specs) -> list[Row]:
        """Each source's total, then its cells; then each intent across sources; then all."""
        segments = self.segments
        rows = []
        for source in Source:
            if source not in segments.by_source:
                continue
            rows.append(
                _row([source.label, ALL_INTENTS], segments.by_source[source], specs, total=True)
            )
            rows += [
                _row([source.label, intent.label], segments.cells[(source, intent)], specs)
                for intent in Intent
                if (source, intent) in segments.cells
            ]
        rows += [
            _row([ALL_SOURCES, intent.label], segments.by_intent[intent], specs, total=True)
            for intent in Intent
            if intent in segments.by_intent
        ]
        rows.append(_row([ALL_SOURCES, ALL_INTENTS], segments.overall, specs, total=True))
        return rows

    def table_segments(self) -> Table:
        return Table(
            "segments",
            "Conversion by source × intent",
            self._columns([("source", "Source"), ("intent", "Intent")], CONVERSION),
            self._segment_rows(CONVERSION),
        )

    def _origin_row(self, labels, figures: Figures, cost, *, total=False) -> Row:
        row = _row(labels, figures, ORIGIN, total=total)
        if self.shows_costs:
            row.values.extend(getattr(cost, attr) if cost else None for attr, _, _ in ORIGIN_COST)
        return row

    def table_origins(self) -> Table:
        """Each origin (one row, or its total then a row per channel when it came by several),
        then each channel across origins, then all leads."""
        found = self.origins
        rows = []
        for group in found.origins:
            label = group.origin or NO_ORIGIN
            channels = list(group.by_channel.items())
            if len(channels) == 1:
                channel, figures = channels[0]
                rows.append(self._origin_row([label, _channel(channel)], figures, group.cost))
                continue
            rows.append(
                self._origin_row(
                    [label, ALL_CHANNELS if channels else ""], group.figures, group.cost, total=True
                )
            )
            rows += [
                self._origin_row([label, _channel(channel)], figures, None)
                for channel, figures in channels
            ]
        rows += [
            self._origin_row([ALL_ORIGINS, _channel(channel)], figures, None, total=True)
            for channel, figures in found.by_channel.items()
        ]
        rows.append(
            self._origin_row([ALL_ORIGINS, ALL_CHANNELS], found.overall, found.cost, total=True)
        )
        columns = _columns([("origin", "Origin"), ("channel", "Channel")], ORIGIN)
        if self.shows_costs:
            columns += [Column(f"cost_{attr}", label, kind) for attr, label, kind in ORIGIN_COST]
        return Table(
            "origins",
            "Conversion and cost by origin" if self.shows_costs else "Conversion by origin",
            columns,
            rows,
            note=ORIGIN_NOTE + (ORIGIN_COST_NOTE if self.shows_costs else ""),
        )

    def table_speed_segments(self) -> Table:
        return Table(
            "speed-segments",
            "Speed to lead by segment",
            self._columns([("source", "Source"), ("intent", "Intent")], SPEED),
            self._segment_rows(SPEED),
            note="Automated acknowledgment and personal contact are timed separately; "
            "automated messages never count as contact.",
        )

    def table_speed_agents(self) -> Table:
        rows = [_row([agent.label], agent.figures, SPEED) for agent in self.agents]
        rows.append(_row(["All leads"], self.segments.overall, SPEED, total=True))
        return Table(
            "speed-agents",
            "Speed to lead by agent",
            self._columns([("agent", "Agent")], SPEED),
            rows,
        )

    def table_leaderboard(self) -> Table:
        ranked = sorted(
            self.agents,
            key=lambda a: (-a.figures.closed, -a.figures.appointment, -a.figures.leads, a.label),
        )
        rows = [_row([agent.label], agent.figures, LEADERBOARD) for agent in ranked]
        rows.append(_row(["All leads"], self.segments.overall, LEADERBOARD, total=True))
        return Table(
            "leaderboard",
            "Agent leaderboard",
            self._columns([("agent", "Agent")], LEADERBOARD),
            rows,
            note="Ranked by closings, then appointments, then leads.",
        )

    def table_tracks(self) -> Table:
        rows = [_row([track.label], track.figures, TRACK) for track in self.tracks]
        rows.append(_row(["All tracks"], self.segments.overall, TRACK, total=True))
        return Table(
            "tracks",
            "Conversion by nurture track",
            _columns([("track", "Track")], TRACK),
            rows,
            note="By the track each lead is in now.",
        )

    def table_trend(self) -> Table:
        rows = [
            Row([start, *(getattr(figures, attr) for attr, _, _ in TREND)], too_few=figures.too_few)
            for start, figures in self.trend_rows
        ]
        label = "Week of" if self.scope.grain == "week" else "Month"
        return Table(
            "trend",
            f"Trend by {self.scope.grain}",
            [Column("period", label, f"period-{self.scope.grain}")]
            + [Column(attr, text, kind) for attr, text, kind in TREND],
            rows,
        )

    def _cost_row(self, labels, figures, *, total=False) -> Row:
        return Row([*labels, *(getattr(figures, attr) for attr, _, _ in COST)], total=total)

    def table_campaigns(self) -> Table:
        costs = self.costs
        rows = [
            self._cost_row([c.label, selectors.source_label(c.source), c.origin, c.utm_campaign], c)
            for c in costs.campaigns
        ]
        if costs.total:
            rows.append(self._cost_row(["All campaigns", "", "", ""], costs.total, total=True))
        return Table(
            "campaigns",
            "Cost per result by campaign",
            _columns(
                [
                    ("campaign", "Campaign"),
                    ("source", "Source"),
                    ("origin", "Origin"),
                    ("utm", "utm_campaign"),
                ],
                COST,
            ),
            rows,
            note=""
            if rows
            else "No campaigns yet: a broker adds them, with their spend, "
            "in the admin (Reports → Campaigns).",
            marks_too_few=False,
        )

    def table_campaign_sources(self) -> Table:
        costs = self.costs
        rows = [self._cost_row([c.label], c) for c in costs.by_source]
        if costs.total:
            rows.append(self._cost_row(["All sources"], costs.total, total=True))
        return Table(
            "campaign-sources",
            "Cost per result by source",
            _columns([("source", "Source")], COST),
            rows,
            note="Spend and results of the campaigns of each source.",
            marks_too_few=False,
        )

    # --- The charts -----------------------------------------------------------------------------

    def source_chart(self) -> dict:
        """Chart.js data: each source's key rates beside the blended ones (in percent)."""
        segments = self.segments
        groups = [
            (source.label, segments.by_source[source])
            for source in Source
            if source in segments.by_source
        ] + [("All sources", segments.overall)]
        return {
            "labels": [label for label, _ in groups],
            "rates": {
                label: [_percent(getattr(figures, attr)) for _, figures in groups]
                for attr, label in (
                    ("appointment_rate", "% appointment"),
                    ("closed_rate", "% closed"),
                )
            },
        }

    def chart(self) -> dict:
        """Chart.js data for the trend: leads as bars, key rates as lines (in percent)."""
        fmt = "MONTH_DAY_FORMAT" if self.scope.grain == "week" else "YEAR_MONTH_FORMAT"
        rows = self.trend_rows
        return {
            "labels": [date_format(start, fmt) for start, _ in rows],
            "leads": [figures.leads for _, figures in rows],
            "rates": {
                label: [_percent(getattr(figures, attr)) for _, figures in rows]
                for attr, label in (
                    ("contacted_rate", "% contacted"),
                    ("appointment_rate", "% appointment"),
                    ("closed_rate", "% closed"),
                )
            },
        }


def _channel(value: str) -> str:
    return str(CHANNELS.get(value, value))


def _percent(value):
    return None if value is None else round(value * 100, 1)


# --- Showing values ---------------------------------------------------------------------------


def display(value, kind: str) -> str:
    """A value as the page shows it."""
    if value is None or value == "":
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "seconds":
        return duration_label(value)
    if kind == ESTIMATED_SECONDS:
        return f"≈ {duration_label(value)}"
    if kind == "money":
        return formats.money(value, "cents")  # a column of them: the cents line up
    if kind == "count":
        return f"{value:,}"
    if kind == "period-week":
        return formats.day(value)
    if kind == "period-month":
        return date_format(value, "YEAR_MONTH_FORMAT")
    return str(value)


def duration_label(seconds: float) -> str:
    """Seconds in the unit a person reads best: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


CSV_UNITS = {
    "rate": " (%)",
    "seconds": " (minutes)",
    ESTIMATED_SECONDS: f" (minutes, estimate {rollup.BOUND_LABEL})",
}


def csv_header(column: Column) -> str:
    if column.label.startswith("%"):
        return column.label
    label = column.label.removesuffix(f" (≈, {rollup.BOUND_LABEL})")
    return label + CSV_UNITS.get(column.kind, "")


def csv_value(value, kind: str):
    """A value as a spreadsheet should get it: numbers as numbers, in the header's unit."""
    if value is None:
        return ""
    if kind == "rate":
        return round(value * 100, 1)
    if kind in ("seconds", ESTIMATED_SECONDS):
        return round(value / 60, 1)
    if kind.startswith("period"):
        return value.isoformat()
    if kind == "text":
        return csv_safe(value)  # names and campaigns are typed by people
    return value


def write_csv(table: Table, file) -> None:
    writer = csv.writer(file)
    extra = ["Too few leads"] if table.marks_too_few else []
    writer.writerow([csv_header(column) for column in table.columns] + extra)
    for row in table.rows:
        values = [
            csv_value(value, column.kind)
            for value, column in zip(row.values, table.columns, strict=True)
        ]
        writer.writerow(values + (["yes" if row.too_few else "no"] if extra else []))

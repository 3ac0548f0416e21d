"""What the report's numbers mean, as pure functions over counts the database has aggregated.

No database and no clock here: the definitions written on the report page and in
docs/reports.md live next to the arithmetic they describe, and both are tested without a
database.
"""

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

# Fewer leads than this in a row and its rates say more about chance than about the segment.
MIN_LEADS = 20

# Speed-to-lead thresholds for hot leads, in seconds.
WITHIN_5_MINUTES = 5 * 60
WITHIN_60_MINUTES = 60 * 60

DEFINITIONS = [
    (
        "Cohort",
        "A lead counts in the period it arrived (its creation date, in the brokerage's time "
        "zone), and every later milestone it reached, up to now, counts for that period. "
        "Recent periods have had less time to convert.",
    ),
    (
        "Segment",
        "The lead's source (the form it came through) × its current intent.",
    ),
    (
        "Personally contacted",
        "An agent logged a call, text, email or meeting with the lead. Automated messages never "
        "count as contact.",
    ),
    (
        "Time to first personal contact",
        "From the lead's arrival to its first personal contact; median and 90th percentile "
        "(interpolated, like PostgreSQL's percentile_cont) over the leads contacted so far. "
        "Read it together with % contacted: leads never contacted are not in it.",
    ),
    (
        "Time to automated acknowledgment",
        "From the lead's arrival to the first automated message sent to it, over the leads "
        "that got one.",
    ),
    (
        "Hot contacted within 5 / 60 min",
        "Of the hot leads, the share personally contacted within 5 (or 60) minutes of arrival. "
        "Hot leads not contacted at all count as not within.",
    ),
    (
        "% engaged, % appointment, % client, % closed",
        "Share of the leads that ever reached that stage (a later stage implies the earlier "
        "ones), even if the lead was lost afterwards.",
    ),
    ("% lost", "Share of the leads whose stage is lost now."),
    ("Opt-out rate", "Share of the leads that opted out of texts or of email."),
    (
        "Too few leads",
        f"Rows with fewer than {MIN_LEADS} leads are greyed and marked †: their rates are "
        "too noisy to compare.",
    ),
    (
        "Channel and origin",
        "How the lead reached us (a hosted form, the Events API, a portal email, Meta lead "
        "ads, an import) and who sent it (the sending system or brand: Zillow, an IDX website, "
        "a Meta page and form), as it first arrived. Origins are grouped ignoring case.",
    ),
    (
        "Campaign cost",
        "Spend entered for the campaign, counted day by day for the days of the spend period "
        "inside the report's range, divided by the leads, appointments or closings of the "
        "leads attributed to the campaign (every key it sets: source, origin, utm_campaign) "
        "that arrived in the range. A lead two campaigns match counts for the more specific "
        "one only. Shown for the whole brokerage only: spend is not split by agent.",
    ),
    (
        "Cost by origin",
        "The spend of the campaigns that match on that origin, divided by those campaigns' "
        "leads (Campaign leads) and appointments; blank where no campaign names the origin.",
    ),
]


def rate(part: int, whole: int) -> float | None:
    """part/whole as a fraction, or None when there is nothing to divide by."""
    return part / whole if whole else None


def cost_per(spend: Decimal, results: int) -> Decimal | None:
    if not results:
        return None
    return (spend / results).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Figures:
    """One row of the report: counts and percentiles the database computed for a group of leads."""

    leads: int = 0
    contacted: int = 0
    engaged: int = 0
    appointment: int = 0
    client: int = 0
    closed: int = 0
    lost: int = 0
    opted_out: int = 0
    acknowledged: int = 0
    hot: int = 0
    hot_within_5: int = 0
    hot_within_60: int = 0
    # Seconds; None when no lead in the group was contacted (or acknowledged).
    personal_p50: float | None = None
    personal_p90: float | None = None
    automated_p50: float | None = None
    automated_p90: float | None = None

    @property
    def too_few(self) -> bool:
        return self.leads < MIN_LEADS

    @property
    def contacted_rate(self):
        return rate(self.contacted, self.leads)

    @property
    def engaged_rate(self):
        return rate(self.engaged, self.leads)

    @property
    def appointment_rate(self):
        return rate(self.appointment, self.leads)

    @property
    def client_rate(self):
        return rate(self.client, self.leads)

    @property
    def closed_rate(self):
        return rate(self.closed, self.leads)

    @property
    def lost_rate(self):
        return rate(self.lost, self.leads)

    @property
    def opted_out_rate(self):
        return rate(self.opted_out, self.leads)

    @property
    def acknowledged_rate(self):
        return rate(self.acknowledged, self.leads)

    @property
    def hot_within_5_rate(self):
        return rate(self.hot_within_5, self.hot)

    @property
    def hot_within_60_rate(self):
        return rate(self.hot_within_60, self.hot)


COUNTS = tuple(spec.name for spec in fields(Figures) if spec.type in (int, "int"))


def add_counts(rows: Iterable[Figures]) -> Figures:
    """The counts of several groups of leads added up (exact: each lead is in one group).
    Percentiles do not add up, so the sum has none."""
    total = Figures()
    for row in rows:
        total = replace(
            total, **{name: getattr(total, name) + getattr(row, name) for name in COUNTS}
        )
    return total


@dataclass(frozen=True)
class CampaignFigures:
    label: str
    source: str
    utm_campaign: str
    spend: Decimal
    leads: int
    appointments: int
    closings: int
    origin: str = ""

    @property
    def cost_per_lead(self):
        return cost_per(self.spend, self.leads)

    @property
    def cost_per_appointment(self):
        return cost_per(self.spend, self.appointments)

    @property
    def cost_per_closing(self):
        return cost_per(self.spend, self.closings)


def spend_in_window(
    amount: Decimal, starts_on: date, ends_on: date, window_start: date, window_end: date
) -> Decimal:
    """The part of a spend that falls in the window, spread evenly over its days (both ends
    included). A spend of 300 over 30 days counts 10 for each day of it inside the window."""
    days = (ends_on - starts_on).days + 1
    overlap = (min(ends_on, window_end) - max(starts_on, window_start)).days + 1
    if days <= 0 or overlap <= 0:
        return Decimal("0.00")
    return (amount * overlap / days).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def bucket_starts(start: date, end: date, grain: str) -> list[date]:
    """The first day of every week (Monday) or month touching start..end, in order."""
    if grain == "week":
        first = start - timedelta(days=start.weekday())
        return [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]
    if grain == "month":
        months = (end.year - start.year) * 12 + end.month - start.month
        return [
            date(start.year + (start.month - 1 + n) // 12, (start.month - 1 + n) % 12 + 1, 1)
            for n in range(months + 1)
        ]
    raise ValueError(f"Unknown grain: {grain!r}")

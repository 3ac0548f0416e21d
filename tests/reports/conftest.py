"""A hand-built month of leads whose every figure the tests work out from the table below.

March 2026 in the brokerage's time zone. Times are offsets from each lead's arrival: minutes to
the first personal contact, seconds to the automated acknowledgment (None: never happened).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from leads.models import Lead
from tests.factories import LeadFactory, TrackFactory

START, END = date(2026, 3, 1), date(2026, 3, 31)


@dataclass(frozen=True)
class Spec:
    name: str
    source: str
    intent: str
    owner: str | None  # "alex", "sam" or unassigned
    arrived: datetime  # local time
    contact_minutes: float | None
    ack_seconds: float | None
    reached: str = ""  # the furthest milestone: engaged, appointment, client, closed
    lost: bool = False
    opted_out: str = ""  # "sms" or "email"
    utm_campaign: str = ""


def local(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.get_default_timezone())


MILESTONES = ["engaged", "appointment", "client", "closed"]
V, G, L = Lead.Source.VALUATION, Lead.Source.GIVEAWAY, Lead.Source.LISTING_AD
HOT, WARM, LONG = Lead.Intent.HOT, Lead.Intent.WARM, Lead.Intent.LONG_TERM

LEADS = [
    # The first second of the range counts...
    Spec("v1", V, HOT, "alex", local(2026, 3, 1, 0, 0), 2, 30, "closed", utm_campaign="Spring-Val"),
    Spec(
        "v2", V, HOT, "alex", local(2026, 3, 3, 9), 5, 60, "appointment", utm_campaign="spring-val"
    ),
    Spec("v3", V, HOT, "alex", local(2026, 3, 10, 14), 30, 10, "engaged"),
    Spec("v4", V, HOT, "alex", local(2026, 3, 11, 8), 90, None, lost=True),
    Spec(
        "v5",
        V,
        WARM,
        "sam",
        local(2026, 3, 12, 19),
        120,
        20,
        "engaged",
        opted_out="sms",
        utm_campaign="SPRING-VAL",
    ),
    Spec("v6", V, WARM, "sam", local(2026, 3, 16, 7), None, 40),
    # Same utm_campaign, other source: not the valuation campaign's lead.
    Spec(
        "g1",
        G,
        LONG,
        "sam",
        local(2026, 3, 17, 12),
        None,
        15,
        lost=True,
        opted_out="email",
        utm_campaign="spring-val",
    ),
    Spec("g2", G, LONG, "sam", local(2026, 3, 20, 10), 24 * 60, 25),
    Spec("g3", G, LONG, "sam", local(2026, 3, 24, 16), None, None),
    Spec("g4", G, HOT, "alex", local(2026, 3, 25, 11), 10, 5, "appointment"),
    # ...and so does the last one; a hot lead nobody called.
    Spec("l1", L, HOT, None, local(2026, 3, 31, 23, 59, 59), None, 50),
]
OUTSIDE = [
    Spec("before", V, HOT, "alex", local(2026, 2, 28, 23, 59, 59), 1, 5, "closed"),
    Spec("after", V, HOT, "sam", local(2026, 4, 1, 0, 0), 1, 5, "closed"),
]
TRACK_FOR = {HOT: "hot_seller", WARM: "homeowner_market_90", LONG: "long_term_local"}


def make_lead(spec: Spec, owners: dict) -> Lead:
    at = spec.arrived
    fields = {
        "first_name": spec.name,
        "source": spec.source,
        "intent": spec.intent,
        "owner": owners.get(spec.owner),
        "created_at": at,
        "nurture_track": TrackFactory(key=TRACK_FOR[spec.intent]) if spec.owner else None,
        "utm_campaign": spec.utm_campaign,
        "stage": Lead.Stage.LOST if spec.lost else (spec.reached or Lead.Stage.NEW),
    }
    if spec.contact_minutes is not None:
        fields["first_personal_contact_at"] = at + timedelta(minutes=spec.contact_minutes)
    if spec.ack_seconds is not None:
        fields["first_automated_contact_at"] = at + timedelta(seconds=spec.ack_seconds)
    if spec.reached:
        for day, milestone in enumerate(MILESTONES[: MILESTONES.index(spec.reached) + 1], 1):
            fields[f"{milestone}_at"] = at + timedelta(days=day)
    if spec.opted_out:
        fields[f"{spec.opted_out}_opted_out_at"] = at + timedelta(days=2)
    return LeadFactory(**fields)


@pytest.fixture
def month(people):
    """The leads above, plus two just outside the range."""
    return {spec.name: make_lead(spec, people) for spec in LEADS + OUTSIDE}

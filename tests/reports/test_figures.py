"""The report's arithmetic and formatting, without a database."""

from datetime import date
from decimal import Decimal

import pytest

from reports.figures import (
    MIN_LEADS,
    CampaignFigures,
    Figures,
    bucket_starts,
    cost_per,
    rate,
    spend_in_window,
)
from reports.tables import Column, csv_header, csv_value, display, duration_label


def test_rate_is_none_when_there_is_nothing_to_divide_by():
    assert rate(1, 4) == 0.25
    assert rate(0, 0) is None
    assert Figures().closed_rate is None


def test_hot_speed_rates_are_shares_of_hot_leads_not_of_all_leads():
    figures = Figures(leads=10, hot=4, hot_within_5=1, hot_within_60=3)
    assert (figures.hot_within_5_rate, figures.hot_within_60_rate) == (0.25, 0.75)


def test_a_row_with_fewer_leads_than_the_threshold_is_too_few():
    assert Figures(leads=MIN_LEADS - 1).too_few
    assert not Figures(leads=MIN_LEADS).too_few


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "expected"),
    [
        (date(2026, 3, 1), date(2026, 3, 31), "310.00"),  # inside the window: all of it
        (date(2026, 2, 15), date(2026, 3, 16), "160.00"),  # 16 of its 30 days are inside
        (date(2026, 4, 1), date(2026, 4, 30), "0.00"),  # after the window
        (date(2026, 3, 31), date(2026, 3, 31), "310.00"),  # one day, inside
    ],
)
def test_spend_counts_day_by_day_for_the_days_inside_the_window(starts_on, ends_on, expected):
    amount = Decimal("310") if starts_on.month == 3 else Decimal("300")
    assert spend_in_window(
        amount, starts_on, ends_on, date(2026, 3, 1), date(2026, 3, 31)
    ) == Decimal(expected)


def test_cost_per_result_rounds_to_cents_and_is_none_without_results():
    assert cost_per(Decimal("100"), 3) == Decimal("33.33")
    assert cost_per(Decimal("100"), 0) is None
    campaign = CampaignFigures(
        "c", "valuation", "x", Decimal("90"), leads=9, appointments=2, closings=0
    )
    assert (campaign.cost_per_lead, campaign.cost_per_appointment, campaign.cost_per_closing) == (
        Decimal("10.00"),
        Decimal("45.00"),
        None,
    )


def test_weeks_start_on_monday_and_cover_the_whole_range():
    weeks = bucket_starts(date(2026, 3, 1), date(2026, 3, 16), "week")  # a Sunday to a Monday
    assert weeks == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]


def test_months_run_across_a_new_year():
    months = bucket_starts(date(2025, 11, 20), date(2026, 2, 3), "month")
    assert months == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]


@pytest.mark.parametrize(
    ("seconds", "label"),
    [(45, "45 s"), (12 * 60, "12 min"), (3.5 * 3600, "3.5 h"), (2.5 * 86400, "2.5 d")],
)
def test_durations_read_in_the_unit_a_person_expects(seconds, label):
    assert duration_label(seconds) == label


def test_values_display_for_people_and_export_for_spreadsheets():
    assert display(0.2567, "rate") == "25.7%"
    assert display(None, "rate") == "—"
    assert display(1234, "count") == "1,234"
    assert display(Decimal("1234.5"), "money") == "$1,234.50"
    assert csv_value(0.2567, "rate") == 25.7
    assert csv_value(90, "seconds") == 1.5  # minutes
    assert csv_value(None, "seconds") == ""
    assert csv_header(Column("p", "Median to contact", "seconds")) == "Median to contact (minutes)"
    assert csv_header(Column("r", "% closed", "rate")) == "% closed"


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_defused():
    assert csv_value('=HYPERLINK("http://x")', "text") == '\'=HYPERLINK("http://x")'
    assert csv_value("Spring valuation", "text") == "Spring valuation"

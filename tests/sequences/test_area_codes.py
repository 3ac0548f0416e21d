"""The area-code table quiet hours read (sequences/data/nanp_area_codes.csv), and the phone
library's geocoder, which nothing loads any more."""

import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pytest

from sequences import checks, policy

ROOT = Path(__file__).resolve().parents[2]
TABLE = policy.area_codes()
# The 50 states and DC.
STATES = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY",
}  # fmt: skip
TERRITORIES = {"PR", "VI", "GU", "MP", "AS"}
PROVINCES = {"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"}


def test_the_shipped_table_parses_with_one_row_per_area_code():
    text = (policy.DATA / "nanp_area_codes.csv").read_text(encoding="utf-8")
    header, *rows = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert header == "area_code,country,region,time_zones"
    codes = [row.split(",")[0] for row in rows]
    assert len(TABLE) == len(codes)
    assert codes == sorted(TABLE)  # kept sorted, so a new code's neighbours are easy to check


def test_a_duplicate_or_malformed_row_is_refused():
    header = "area_code,country,region,time_zones\n"
    with pytest.raises(ValueError, match="305 is listed twice"):
        policy.parse_area_codes(header + "305,US,FL,America/New_York\n305,US,GA,America/New_York\n")
    for bad in ("30,US,FL,America/New_York", "305,US,FL,", "105,US,FL,America/New_York"):
        with pytest.raises(ValueError):
            policy.parse_area_codes(header + bad)


def test_every_zone_is_a_real_iana_zone_and_every_region_a_known_one():
    known = zoneinfo.available_timezones()
    for code, place in TABLE.items():
        assert place.zones and set(place.zones) <= known, code
        assert set(place.regions) <= set(policy.regions()), code
        if place.country in ("US", "CA"):
            assert place.regions, code
        else:
            assert not place.regions, code


def test_every_state_territory_and_province_has_its_area_codes():
    by_region: dict[str, set[str]] = {}
    for code, place in TABLE.items():
        for region in place.regions:
            by_region.setdefault(region, set()).add(code)
    assert set(by_region) == STATES | TERRITORIES | PROVINCES
    us = [code for code, place in TABLE.items() if place.regions[:1] and place.regions[0] in STATES]
    assert len(us) >= 350  # every US area code in service, overlays included
    # The three states with a 20:00 limit, overlays included.
    assert by_region["FL"] >= {"239", "305", "321", "352", "386", "407", "448", "561", "689"}
    assert by_region["FL"] >= {"727", "754", "772", "786", "813", "850", "863", "904", "941"}
    assert by_region["FL"] >= {"954", "324", "645", "656", "728"}
    assert by_region["OK"] == {"405", "539", "572", "580", "918"}
    assert by_region["MD"] == {"227", "240", "301", "410", "443", "667"}


def test_non_geographic_codes_are_not_places():
    for code in ("800", "833", "844", "855", "866", "877", "888", "900", "500", "600", "700"):
        assert code not in TABLE


@pytest.mark.parametrize(
    ("code", "zones"),
    [
        ("850", {"America/Chicago", "America/New_York"}),  # Florida panhandle
        ("305", {"America/New_York"}),
        ("405", {"America/Chicago"}),
        ("410", {"America/New_York"}),
        ("812", {"America/Chicago", "America/Indiana/Indianapolis"}),  # Evansville's corner
        ("317", {"America/Indiana/Indianapolis"}),
        ("915", {"America/Denver"}),  # El Paso
        ("214", {"America/Chicago"}),
        ("541", {"America/Los_Angeles", "America/Boise"}),  # Malheur County
        ("208", {"America/Boise", "America/Los_Angeles"}),
        ("423", {"America/New_York", "America/Chicago"}),
        ("270", {"America/Chicago", "America/New_York"}),
        ("701", {"America/Chicago", "America/Denver"}),
        ("605", {"America/Chicago", "America/Denver"}),
        ("308", {"America/Chicago", "America/Denver"}),
        ("620", {"America/Chicago", "America/Denver"}),
        ("906", {"America/Detroit", "America/Menominee"}),
        ("928", {"America/Phoenix", "America/Denver"}),  # the Navajo Nation
        ("602", {"America/Phoenix"}),
        ("808", {"Pacific/Honolulu"}),
        ("787", {"America/Puerto_Rico"}),
        ("416", {"America/Toronto"}),
        ("807", {"America/Toronto", "America/Winnipeg"}),
    ],
)
def test_an_area_code_spanning_zones_names_them_all(code, zones):
    assert set(TABLE[code].zones) == zones


def test_an_overlay_has_the_state_and_zones_of_the_code_it_overlays():
    for overlay, original in [
        ("786", "305"),
        ("645", "305"),
        ("448", "850"),
        ("572", "405"),
        ("539", "918"),
        ("667", "410"),
        ("227", "301"),
        ("930", "812"),
        ("364", "270"),
        ("458", "541"),
        ("986", "208"),
        ("879", "709"),
    ]:
        assert TABLE[overlay] == TABLE[original], overlay


def test_a_state_is_named_by_postal_code_or_name():
    names = policy.region_names()
    assert names["fl"] == names["florida"] == "FL"
    assert names["prince edward island"] == "PE"
    assert len(policy.regions()) == len(STATES | TERRITORIES | PROVINCES)


def test_a_misspelt_state_stops_the_app_at_start_up(settings):
    settings.SMS_SENDING_HOURS_BY_STATE = "FL=08:00-20:00,Oklahma=08:00-20:00"
    assert [error.id for error in checks.sequences_settings(None)] == ["sequences.E001"]
    # A value written for the old setting (state names) still means the same.
    settings.SMS_SENDING_HOURS_BY_STATE = "Florida=08:00-20:00,Oklahoma=08:00-20:00"
    assert checks.sequences_settings(None) == []


def test_no_process_loads_the_phone_geocoder():
    """phonenumbers' geocoder holds ~98 MB in every process that imports it. A process that
    has loaded every URL, app and the outbox, and decided quiet hours, must not have it."""
    script = (
        "import sys, django\n"
        "django.setup()\n"
        "import realtycrm.urls\n"
        "from datetime import datetime, UTC\n"
        "from sequences import outbox\n"
        "outbox.sms_allowed_from('+13052221234', datetime.now(UTC))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('phonenumbers.geo', "
        "'phonenumbers.timezone', 'phonenumbers.tzdata'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "realtycrm.settings.test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_no_module_imports_the_phone_geocoder():
    for package in ("leads", "sequences", "alerts", "reports", "realtycrm"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "phonenumbers.geocoder" not in text, path
            assert "import geocoder" not in text, path

"""Phone numbers, read and written one way everywhere: stored as E.164 (+14135550123), shown
nationally at home and internationally abroad. The region for numbers typed without a country
code is settings.PHONE_DEFAULT_REGION."""

from functools import lru_cache

import phonenumbers
from django.conf import settings


def phone_e164(text: str) -> str | None:
    """A number typed in any common format, as E.164; None when it is not a valid number."""
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(value: str) -> str:
    """+14135550123 → (413) 555-0123 at home, +44 20 7946 0958 abroad."""
    return _display(value or "", settings.PHONE_DEFAULT_REGION) if value else ""


@lru_cache(maxsize=4096)
def _display(value: str, region: str) -> str:
    # Remembered: a list shows the same few numbers over and over, and parsing one is the
    # slowest thing on a row. The region is in the key, so a settings change shows at once.
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    home = phonenumbers.region_code_for_number(number) == region
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def phone_example() -> str:
    """A mobile number of the home region, as people there write it (for error messages)."""
    region = settings.PHONE_DEFAULT_REGION
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return "+1 413 555 0123"
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)

import phonenumbers
from django import template
from django.conf import settings

register = template.Library()


@register.filter
def phone_display(value: str) -> str:
    """+14135550123 → (413) 555-0123 at home, +44 20 7946 0958 abroad."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return value
    home = phonenumbers.region_code_for_number(number) == settings.PHONE_DEFAULT_REGION
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)

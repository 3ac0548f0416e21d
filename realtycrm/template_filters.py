"""The filters every template has without a {% load %} (TEMPLATES' "builtins"): one way to show
a date, a time, a duration or an amount of money (realtycrm.formats)."""

from django import template

from realtycrm import formats

register = template.Library()

# expects_localtime: an aware datetime arrives in the current time zone (the signed-in user's on
# the dashboard), as it does for Django's own |date.
register.filter("when", formats.when, expects_localtime=True)
register.filter("day", formats.day, expects_localtime=True)
register.filter("time_of_day", formats.time_of_day, expects_localtime=True)
register.filter("duration", formats.duration)
register.filter("money", formats.money)

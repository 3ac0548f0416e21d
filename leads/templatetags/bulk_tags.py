"""Template helpers of the leads list's bulk bar (templates/leads/list/_bulk.html)."""

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

register = template.Library()
SELECTED = mark_safe(" selected")  # a constant: no input in it


@register.simple_tag
def options(choices, current="", blank=None):
    """`<option>`s for (value, label) pairs, the current value selected, with a first blank
    one when `blank` names it: a Python loop, where the template's costs a render per option
    (the list is the busiest page)."""
    current = "" if current is None else str(current)
    rows = [("", blank)] if blank is not None else []
    rows += [(str(value), label) for value, label in choices]
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, SELECTED if value == current else "", label) for value, label in rows),
    )

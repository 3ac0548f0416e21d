from django import template

from reports.tables import display

register = template.Library()


@register.filter
def cell(value, kind):
    """{{ value|cell:column.kind }}: a report value as people read it (escaped as usual)."""
    return display(value, kind)


@register.filter
def zip_columns(values, columns):
    """Pairs each value of a row with its column, for templates."""
    return zip(values, columns, strict=True)

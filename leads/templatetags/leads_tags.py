from django import template

from leads.phones import phone_display

register = template.Library()
register.filter("phone_display", phone_display)

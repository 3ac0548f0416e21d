from django import template

from leads.phones import phone_display
from leads.selectors import user_is_broker

register = template.Library()
register.filter("phone_display", phone_display)
register.filter("is_broker", user_is_broker)

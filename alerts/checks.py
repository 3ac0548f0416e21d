"""System checks for Web Push (run by `manage.py check`, runserver and migrate): the three VAPID
settings are all set or all unset, the private key reads, the public key is its pair (a browser
subscribed with the wrong public key would get nothing, silently), and the subject is a contact.
All three unset is fine: push is off."""

from django.conf import settings
from django.core.checks import Error, register

from .vapid import private_key_from, public_key_of

NAMES = ("VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "VAPID_SUBJECT")


@register()
def vapid_settings(app_configs=None, **kwargs):
    values = {name: getattr(settings, name, "") for name in NAMES}
    if not any(values.values()):
        return []
    missing = [name for name, value in values.items() if not value]
    if missing:
        return [
            Error(
                f"Web Push is half set up: {', '.join(missing)} missing.",
                hint="Set all three (manage.py vapid_keys prints a pair), or none to turn push off.",
                id="alerts.E001",
            )
        ]
    errors = []
    key = private_key_from(values["VAPID_PRIVATE_KEY"])
    if key is None:
        errors.append(
            Error(
                "VAPID_PRIVATE_KEY is not a P-256 private key.",
                hint="Use the raw base64url key that manage.py vapid_keys prints (or PEM).",
                id="alerts.E002",
            )
        )
    elif public_key_of(key) != values["VAPID_PUBLIC_KEY"].strip().rstrip("="):
        errors.append(
            Error(
                "VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY.",
                hint="Set both from the same manage.py vapid_keys output.",
                id="alerts.E003",
            )
        )
    if not values["VAPID_SUBJECT"].startswith(("mailto:", "https://")):
        errors.append(
            Error(
                "VAPID_SUBJECT must be a mailto: address or an https: URL.",
                hint="Push services write to it when something is wrong, e.g. "
                "mailto:it@your-brokerage.com.",
                id="alerts.E004",
            )
        )
    return errors

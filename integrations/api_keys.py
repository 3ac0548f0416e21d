"""Events API keys: issued once, stored as a SHA-256 hash, looked up by that hash.

    api_key_issue          a new key for an API integration (the old one stops working); the
                           key itself is returned once and never stored
    api_integration_create an API integration and its key (manage.py create_api_key, the admin)
    integration_for_key    the active API integration a key belongs to, or why there is none

A key is "rcrm_" and 43 URL-safe characters (32 random bytes): recognizable in a leaked
config file or a secret scanner, and safe as an HTTP Basic username (it holds no colon). Only
its first characters (`key_prefix`) are kept readable, so a broker can tell keys apart.
"""

import hashlib
import secrets
from dataclasses import dataclass

from leads.models import Integration

KEY_PREFIX = "rcrm_"
KEY_PREFIX_LENGTH = 12  # "rcrm_" and 7 random characters: Integration.key_prefix's width


def api_key_hash(key: str) -> str:
    """What is stored of a key. A plain SHA-256 (no salt, no stretching) is enough: the key is
    32 random bytes, not a password a person chose, so there is nothing to guess from a hash."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_issue(integration: Integration) -> str:
    """A new key for this integration, saved as its hash; returns the key (shown once)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    integration.key_hash = api_key_hash(key)
    integration.key_prefix = key[:KEY_PREFIX_LENGTH]
    integration.save(update_fields=["key_hash", "key_prefix"])
    return key


def api_integration_create(name: str, **values) -> tuple[Integration, str]:
    """An Events API integration (origin, default source, default owner… from `values`) and its
    key, which the caller shows once."""
    integration = Integration.objects.create(name=name, kind=Integration.Kind.API, **values)
    return integration, api_key_issue(integration)


@dataclass(frozen=True)
class KeyCheck:
    integration: Integration | None
    refusal: str = ""


def integration_for_key(key: str) -> KeyCheck:
    """The API integration this key opens, or why it opens nothing (unknown, revoked)."""
    if not key.startswith(KEY_PREFIX):
        return KeyCheck(None, "Unknown API key.")
    integration = (
        Integration.objects.filter(key_hash=api_key_hash(key), kind=Integration.Kind.API)
        .select_related("default_owner", "assignment_rule")
        .first()
    )
    if integration is None:
        return KeyCheck(None, "Unknown API key.")
    if not integration.active:
        return KeyCheck(None, "This API key was revoked: ask the brokerage for a new one.")
    return KeyCheck(integration)

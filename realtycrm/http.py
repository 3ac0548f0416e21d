"""Request helpers shared by the public forms, the rate limiter and the webhooks."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The client's address, trusting exactly TRUSTED_PROXY_COUNT proxies in front of us.

    With no trusted proxy, X-Forwarded-For is ignored: anyone can send that header. Always returns
    a valid IP address (the rate limiter and the consent evidence both rely on that).
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return _valid_ip(forwarded[-hops]) or remote
    return remote


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None

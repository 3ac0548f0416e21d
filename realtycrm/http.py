"""Request helpers shared by the public forms, the rate limiter and the webhooks."""

import ipaddress
import json
import math
import re

from django.conf import settings


def client_ip(request) -> str:
    """The client's address, trusting exactly TRUSTED_PROXY_COUNT proxies in front of us.

    With no trusted proxy, X-Forwarded-For is ignored: anyone can send that header. Always returns
    a valid IP address (the rate limiter and the consent evidence both rely on that), in one
    spelling per client: an IPv4 client seen through a dual-stack socket (::ffff:203.0.113.7)
    is 203.0.113.7.
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
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


# One IPv6 subscriber (a home, a phone) is handed a whole /64 and may use any address in it.
IPV6_CLIENT_PREFIX = 64


def client_network(request) -> str:
    """Who a per-client limit counts: the client's IPv4 address, or its IPv6 /64.

    client_ip is the address itself (stored as consent evidence and on the submission); this is
    only the key of the rate limits (django-ratelimit's `key=` on the intake and sign-in forms),
    so that hopping between addresses of one /64 does not buy a fresh limit."""
    address = ipaddress.ip_address(client_ip(request))
    if address.version == 4:
        return str(address)
    network = ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False)
    return str(network)


def rate_limit_key(group, request) -> str:
    """django-ratelimit's key callable: the client's network (see client_network)."""
    return client_network(request)


def public_page(view):
    """Mark a view as a public page (the hosted intake forms and their thank-you pages, the
    privacy notice): realtycrm.middleware leaves its caching and framing headers alone, where
    every other response is `private, no-store`."""
    view.public_page = True
    return view


# What a request can carry and PostgreSQL cannot store: NUL (no text, varchar or jsonb value may
# hold one) and lone surrogates (a JSON body's "\ud800" escape; not encodable as UTF-8).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def pg_safe(value, *, replacement: str = "\ufffd"):
    """Request data as any database can store it: every character PostgreSQL cannot hold becomes
    U+FFFD (the mark of something unreadable), everything else is kept exactly as sent.

    Takes text or JSON-like data (dicts, lists, tuples, cleaned all the way down, keys included;
    numbers, booleans and None pass through). Every place that stores text from a request runs
    it through here first: the intake's submission, the providers' webhooks.
    """
    if isinstance(value, str):
        return _UNSTORABLE.sub(replacement, value)
    if isinstance(value, dict):
        return {
            pg_safe(key, replacement=replacement): pg_safe(item, replacement=replacement)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [pg_safe(item, replacement=replacement) for item in value]
    return value


class JSONTooDeep(ValueError):
    """JSON nested deeper than the reader takes."""


def json_loads_strict(text, *, max_depth: int = 20):
    """JSON as a database can store it: no NaN or Infinity (1e999 included), nesting at most
    `max_depth` deep (pg_safe and the JSON columns recurse). Raises ValueError saying why."""

    def finite(literal: str) -> float:
        number = float(literal)
        if not math.isfinite(number):
            raise ValueError(f"the number {literal[:20]} is out of range")
        return number

    def no_constants(name: str):
        raise ValueError(f"{name} is not JSON")

    try:
        data = json.loads(text, parse_float=finite, parse_constant=no_constants)
    except RecursionError:
        raise JSONTooDeep("nested too deeply") from None
    if json_depth(data) > max_depth:
        raise JSONTooDeep(f"nested more than {max_depth} levels deep")
    return data


def json_depth(data) -> int:
    """How deeply JSON data nests, counted without recursion (it is what is being measured)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def ascii_digits(text) -> bool:
    """Whether `text` is a non-empty run of the digits 0-9, which int() always reads. Check a
    number typed in a URL or sent by a provider with this, not str.isdigit(): "²" is a digit to
    isdigit() but int() refuses it (a 500)."""
    return isinstance(text, str) and text.isascii() and text.isdigit()

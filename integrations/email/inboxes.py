"""Which inbox an email reached (the Integration whose inbox_address it was sent to) and which
agent a plus-address names (leads+alex@… → the active agent whose username is alex).

An inbox address is written in the admin as a whole address (zillow@leads.example.com) or as a
local part alone (zillow: any domain SendGrid receives for). A recipient matches it by either,
ignoring case and any +tag. The SMTP envelope's recipient is tried first: a forwarded email's To
header is the agent's own address, the envelope the inbox it was forwarded to.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from leads.models import Integration
from realtycrm.http import pg_safe

User = get_user_model()


@dataclass(frozen=True)
class Inbox:
    integration: Integration | None  # the active inbox it reached; None: no inbox matched
    refused: Integration | None = None  # it reached only an inbox switched off in the admin
    address: str = ""  # the recipient that matched (or the first one)
    tag: str = ""  # its +tag, lower-case


def split_address(address: str) -> tuple[str, str, str]:
    """leads+Alex@Example.com → ("leads", "alex", "example.com")."""
    local, _, domain = address.strip().lower().rpartition("@")
    if not local:
        local, domain = domain, ""
    base, _, tag = local.partition("+")
    return base, tag, domain


def _matches(recipient: str, inbox_address: str) -> int:
    """2 for the whole address, 1 for a local part alone, 0 for no match."""
    base, _tag, domain = split_address(recipient)
    inbox_base, _inbox_tag, inbox_domain = split_address(inbox_address)
    if not inbox_base or base != inbox_base:
        return 0
    if inbox_domain:
        return 2 if domain == inbox_domain else 0
    return 1


def inbox_for(recipients: tuple[str, ...]) -> Inbox:
    """The email inbox integration these recipients reach: an active one, best match first (the
    envelope before the headers, a whole address before a local part)."""
    inboxes = list(
        Integration.objects.filter(kind=Integration.Kind.EMAIL).exclude(inbox_address="")
    )
    best: tuple[int, int, Integration, str] | None = None
    refused = None
    for position, recipient in enumerate(recipients):
        for integration in inboxes:
            score = _matches(recipient, integration.inbox_address)
            if not score:
                continue
            if not integration.active:
                refused = refused or integration
                continue
            rank = (score, -position)
            if best is None or rank > best[:2]:
                best = (*rank, integration, recipient)
    if best is not None:
        _score, _position, integration, address = best
        return Inbox(integration=integration, address=address, tag=split_address(address)[1])
    tagged = next((r for r in recipients if split_address(r)[1]), "")
    return Inbox(
        integration=None,
        refused=refused,
        address=tagged or (recipients[0] if recipients else ""),
        tag=split_address(tagged)[1] if tagged else "",
    )


def agent_named(tag: str, *, email: str = "", name: str = ""):
    """The user a +tag names (the active agent whose username it is, any case), else the agent
    the email itself says the lead is assigned to (Lead Metadata lead_assigned_agent_email, else
    lead_assigned_agent when exactly one active agent has that full name); None for nobody.
    Whether they can take the lead now (paused, off duty) is the assignment's business."""
    agents = User.objects.filter(is_active=True, agent__active=True).select_related("agent")
    tag, email, name = pg_safe(tag), pg_safe(email), pg_safe(name)  # a NUL matches nobody
    if tag:
        user = agents.filter(username__iexact=tag).first()
        if user is not None:
            return user
    if email and "@" in email:
        user = agents.filter(email__iexact=email.strip()).first()
        if user is not None:
            return user
    first, _, last = (name or "").strip().partition(" ")
    if first and last:
        named = list(agents.filter(first_name__iexact=first, last_name__iexact=last.strip())[:2])
        if len(named) == 1:
            return named[0]
    return None

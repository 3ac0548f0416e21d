"""The words of an alert. Internal messages to agents, built from the lead's fields in code (no
broker-edited text is involved, so nothing here is a template)."""

from django.conf import settings
from django.urls import reverse

from leads.names import person_name
from leads.phones import phone_display

from .calls import call_link_url


def _open_url(alert) -> str:
    return settings.SITE_URL + reverse("alerts:open", args=[alert.pk])


def _call_link(alert) -> str:
    """The signed link that rings the agent's phone and connects them to the lead (only for
    the agent it was sent to, signed in, for CALL_LINK_HOURS); none for an offer to claim."""
    if alert.reason == "claim" or not alert.lead.phone:
        return ""
    return call_link_url(alert)


def _where(lead) -> str:
    return lead.property_address or lead.open_house or lead.neighbourhood or ""


def _facts(lead) -> list[str]:
    facts = [lead.get_source_display()]
    if _where(lead):
        facts.append(_where(lead))
    if lead.timeline != lead.Timeline.UNKNOWN:
        facts.append(f"moving {lead.get_timeline_display().lower()}")
    if lead.asked_for_showing:
        facts.append("wants a showing")
    return facts


def alert_sms(alert) -> str:
    lead = alert.lead
    head = {
        "hot_lead": "HOT lead",
        "claim": "New lead to claim",
        "reinquiry": "Hot lead asked again",
        "reply": "Lead replied",
        "escalation": "Not acknowledged",
        "reassignment": "Reassigned to you",
        "warm_outreach": "Warm lead: reach out today",
    }[alert.reason]
    phone = f" Call {phone_display(lead.phone)}." if lead.phone else ""
    detail = f" {alert.detail}." if alert.detail and alert.reason != "reply" else ""
    quote = f' "{alert.detail[:80]}"' if alert.reason == "reply" and alert.detail else ""
    connect = f" Connect a call: {_call_link(alert)}" if _call_link(alert) else ""
    return (
        f"{head}: {lead.full_name or lead.email or lead.phone}{quote} · {' · '.join(_facts(lead))}."
        f"{phone}{detail} {_open_url(alert)}{connect}"
    )


def alert_digest_sms(count: int, hot: int) -> str:
    """The one text that stands for the alerts past an agent's hourly cap."""
    url = settings.SITE_URL + reverse("alerts:inbox")
    if count == hot:
        what = f"{count} new hot lead{'s' if count != 1 else ''}"
    else:
        what = f"{count} new alert{'s' if count != 1 else ''} ({hot} hot lead{'s' if hot != 1 else ''})"
    return f"{what} — open RealtyCRM: {url}"


def alert_email(alert) -> tuple[str, str]:
    lead = alert.lead
    subject = f"{alert.get_reason_display()}: {lead.full_name or lead.email or lead.phone}"
    lines = [
        f"{alert.get_reason_display()}.",
        "",
        f"Name:      {lead.full_name or '—'}",
        f"Source:    {lead.get_source_display()}",
        f"Property:  {_where(lead) or '—'}",
        f"Timeline:  {lead.get_timeline_display()}",
        f"Intent:    {lead.get_intent_display()} ({lead.intent_reason or 'no reason recorded'})",
        f"Phone:     {phone_display(lead.phone) or '—'}"
        + (f"  tel:{lead.phone}" if lead.phone else ""),
        f"Email:     {lead.email or '—'}",
    ]
    if alert.detail:
        lines += ["", alert.detail]
    lines += ["", f"Open the lead (this acknowledges the alert): {_open_url(alert)}"]
    if _call_link(alert):
        lines.append(
            f"Connect a call (rings your phone, then theirs from the office line): "
            f"{_call_link(alert)}"
        )
    return subject, "\n".join(lines)


def reassigned_away(lead, new_owner) -> str:
    name = person_name(new_owner)
    return (
        f"{lead.full_name or 'A hot lead'} ({lead.get_source_display()}) had no personal contact "
        f"in time and was reassigned to {name}.\n\nNo action is needed from you."
    )

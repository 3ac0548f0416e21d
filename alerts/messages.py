"""The words of an alert. Internal messages to agents, built from the lead's fields in code (no
broker-edited text is involved, so nothing here is a template)."""

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

from leads.names import person_name
from leads.phones import phone_display

from .calls import call_link_token, call_link_url


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


# --- Web Push (alerts/push.py) -----------------------------------------------------------------
# A notification is a title and a few short lines on a lock screen: the source in two words, the
# place and the timeline, the number. Its links are paths on the site the service worker serves.

SOURCE_WORDS = {
    "valuation": "valuation",
    "listing_ad": "listing ad",
    "giveaway": "giveaway",
    "open_house": "open house",
    "website": "website",
    "reactivation": "reactivation",
}


def _push_title(alert) -> str:
    lead = alert.lead
    name = lead.full_name or lead.email or phone_display(lead.phone) or "a lead"
    source = SOURCE_WORDS.get(lead.source, "")
    heat = "Hot" if lead.intent == lead.Intent.HOT else "New"
    return {
        "hot_lead": f"Hot {source} lead: {name}",
        "claim": f"{heat} {source} lead to claim: {name}",
        "reinquiry": f"Hot lead asked again: {name}",
        "escalation": f"Not acknowledged: {name}",
        "reassignment": f"Reassigned to you: {name}",
    }.get(alert.reason, f"{alert.get_reason_display()}: {name}")


def _push_body(alert) -> str:
    lead = alert.lead
    facts = [_where(lead)] if _where(lead) else []
    if lead.timeline != lead.Timeline.UNKNOWN:
        facts.append(f"moving {lead.get_timeline_display().lower()}")
    if lead.asked_for_showing:
        facts.append("wants a showing")
    lines = [" · ".join(facts)] if facts else [lead.get_source_display()]
    if lead.phone:
        lines.append(phone_display(lead.phone))
    if alert.detail:
        lines.append(alert.detail[:120])
    return "\n".join(lines)


def alert_push(alert, *, step: str = "raised") -> dict:
    """The Web Push payload of an urgent alert, read by the service worker (templates/webapp/
    sw.js): what the notification says, what a tap opens (the lead, through the alert's link,
    which acknowledges it, as the text's link does), and its two buttons: Claim (a claim offer's
    claim, otherwise "I'm on it") and Call (the alert's signed call-connect link, the text's
    own: it opens the "ring my phone" page; a claim offer has none, its lead is not theirs yet).
    One tag per alert: a reminder replaces the first notification and rings
    again; the same push delivered twice replaces itself silently."""
    lead = alert.lead
    lead_url = reverse("leads:lead-detail", args=[lead.pk])
    claim = "alerts:claim" if alert.reason == "claim" else "alerts:acknowledge"
    actions = [{"action": "claim", "title": "Claim", "url": reverse(claim, args=[alert.pk])}]
    if lead.phone and alert.reason != "claim":
        call_url = reverse("alerts:call-link", args=[call_link_token(alert)])
        actions.append({"action": "call", "title": "Call", "url": call_url})
    title = _push_title(alert)
    return {
        "title": f"Reminder · {title}" if step == "reminder" else title,
        "body": _push_body(alert),
        "url": lead_url,
        "open_url": reverse("alerts:open", args=[alert.pk]),
        "actions": actions,
        "tag": f"alert-{alert.pk}",
        "renotify": step != "raised",
        "icon": static("webapp/icon-192.png"),
        "badge": static("webapp/badge-96.png"),
        "timestamp": int(alert.created_at.timestamp() * 1000),
        "alert": alert.pk,
        "lead": lead.pk,
        "reason": alert.reason,
    }

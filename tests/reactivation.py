"""Dormant contacts of an imported database, as the import leaves them, for the campaign tests."""

from datetime import timedelta

from django.utils import timezone

from leads.models import Tag
from tests.factories import LeadFactory


def dormant_contact(*, tags=(), texting=False, **fields):
    """An imported contact: dormant, source reactivation, channel import, no timeline or intent
    yet, imported a year ago, a past client unless told otherwise."""
    now = timezone.now()
    values = {
        "dormant": True,
        "channel": "import",
        "source": "reactivation",
        "timeline": "unknown",
        "intent": "unknown",
        "side": "unknown",
        "imported_at": now - timedelta(days=365),
        "created_at": now - timedelta(days=365),
        "relationship": "past_client",
        "property_address": "",
        **fields,
    }
    if texting:
        values.setdefault("sms_consent_at", now - timedelta(days=400))
        values.setdefault("sms_consent_version", "import-2025")
    lead = LeadFactory(**values)
    for name in tags:
        lead.tags.add(Tag.objects.get_or_create(name=name)[0])
    return lead

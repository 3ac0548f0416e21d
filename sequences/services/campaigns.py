"""Reactivation campaigns, the writes.

    campaign_save            a draft's name, smart list and copy (the broker's form)
    campaign_send            the broker sends: the smart list becomes recipient rows, fixed now
                             (one per contact), the campaign is `sending`, and the first batch
                             is handed to a worker; a campaign that is not a draft sends nothing
    campaign_send_batch      one django-q2 task: up to REACTIVATION_BATCH_SIZE waiting
                             recipients → their email (and text, with consent) in the outbox
                             as marketing (purpose campaign), or skipped with why; then the
                             next batch, or the campaign is sent
    recipient_clicked        a contact opened its personal link (the first time counts)
    recipient_for_reengagement / recipient_reengaged
                             a contact answered: which campaign it answers, and the mark

Sending twice sends nothing new: a contact has one recipient row per campaign (unique), a
recipient is queued once (only a waiting one is taken, locked), and each message's idempotency
key names the campaign, the lead and the channel. The outbox then applies what it applies to
every message to a lead: the suppression list, consent, quiet hours, the per-number cap, the
postal address and unsubscribe link in every email, the opt-out line in a first text.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django_q.tasks import async_task

from leads.models import Lead

from .. import outbox, policy
from ..campaigns import campaign_audience, campaign_render
from ..models import CampaignRecipient, Message, ReactivationCampaign, Suppression
from .suppressions import normalise, suppression_sentence

logger = logging.getLogger(__name__)


class CampaignNotDraft(Exception):
    """Only a draft's list and copy can change; a campaign that went out stays as it was sent."""


@transaction.atomic
def campaign_save(
    campaign: ReactivationCampaign | None, *, actor, tags=(), **fields
) -> ReactivationCampaign:
    """Create a draft (campaign None) or change one: `fields` are the model's (name, owner,
    last_contact_before, relationship, email_subject, email_body, sms_body)."""
    if campaign is None:
        campaign = ReactivationCampaign(created_by=actor)
    elif campaign.status != ReactivationCampaign.Status.DRAFT:
        raise CampaignNotDraft
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.save()
    campaign.tags.set(tags)
    return campaign


@transaction.atomic
def campaign_send(campaign: ReactivationCampaign, *, actor) -> int:
    """Fix the audience and start sending; returns how many contacts it reaches (0 when the
    campaign was not a draft any more: a second click, or another broker, sends nothing)."""
    campaign = ReactivationCampaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != ReactivationCampaign.Status.DRAFT:
        return 0
    now = timezone.now()
    contacts = campaign_audience(campaign).values_list("pk", "owner_id")
    CampaignRecipient.objects.bulk_create(
        (
            CampaignRecipient(campaign=campaign, lead_id=lead_id, owner_id=owner_id, created_at=now)
            for lead_id, owner_id in contacts.iterator(chunk_size=2000)
        ),
        batch_size=1000,
        ignore_conflicts=True,
    )
    count = CampaignRecipient.objects.filter(campaign=campaign).count()
    ReactivationCampaign.objects.filter(pk=campaign.pk).update(
        status=ReactivationCampaign.Status.SENDING, send_started_at=now, recipient_count=count
    )
    logger.info("Campaign %s (%s) sending to %s contacts", campaign.pk, actor, count)
    transaction.on_commit(lambda: campaign_batch_later(campaign.pk), robust=True)
    return count


def campaign_batch_later(campaign_id: int) -> None:
    async_task(
        "sequences.tasks.campaign_send_batch", campaign_id, task_name=f"campaign-{campaign_id}"
    )


def campaign_send_batch(campaign_id: int, *, size: int | None = None) -> int:
    """Queue the messages of the next `size` waiting recipients (several workers may run
    batches of one campaign side by side: each takes its own rows). Returns how many
    recipients it took; after commit, the next batch is handed on while any are waiting."""
    size = size or settings.REACTIVATION_BATCH_SIZE
    with transaction.atomic():
        campaign = ReactivationCampaign.objects.filter(
            pk=campaign_id, status=ReactivationCampaign.Status.SENDING
        ).first()
        if campaign is None:
            return 0
        ids = list(
            CampaignRecipient.objects.select_for_update(skip_locked=True)
            .filter(campaign=campaign, status=CampaignRecipient.Status.PENDING)
            .order_by("id")
            .values_list("pk", flat=True)[:size]
        )
        recipients = list(
            CampaignRecipient.objects.filter(pk__in=ids)
            .select_related("lead__owner__agent")
            .order_by("id")
        )
        _queue(campaign, recipients)
        waiting = CampaignRecipient.objects.filter(
            campaign=campaign, status=CampaignRecipient.Status.PENDING
        ).exists()
        if not waiting:
            ReactivationCampaign.objects.filter(
                pk=campaign.pk, status=ReactivationCampaign.Status.SENDING
            ).update(status=ReactivationCampaign.Status.SENT, sent_at=timezone.now())
    if waiting and recipients:  # at once, unless a caller's transaction is still open
        transaction.on_commit(lambda: campaign_batch_later(campaign_id), robust=True)
    return len(recipients)


def _queue(campaign: ReactivationCampaign, recipients: list[CampaignRecipient]) -> None:
    """Each recipient's messages, or why it gets none, in a few queries for the whole batch."""
    now = timezone.now()
    suppressed = _suppressions(recipients)
    outgoing, planned = [], {}
    for recipient in recipients:
        lead = recipient.lead
        channels, why = _channels(campaign, lead, suppressed)
        if not channels:
            recipient.status, recipient.skip_reason = CampaignRecipient.Status.SKIPPED, why
            continue
        copy = campaign_render(campaign, lead)
        planned[recipient.pk] = {}
        for channel in channels:
            key = message_key(campaign.pk, lead.pk, channel)
            planned[recipient.pk][channel] = key
            email = channel == Message.Channel.EMAIL
            outgoing.append(
                outbox.Outgoing(
                    channel=channel,
                    to=lead.email if email else lead.phone,
                    subject=copy.email.subject if email else "",
                    body=copy.email.body if email else copy.sms,
                    idempotency_key=key,
                    purpose=Message.Purpose.CAMPAIGN,
                    lead=lead,
                )
            )
    outbox.messages_queue_many(outgoing, now=now)
    # Each queued recipient's messages, found by their keys, in one UPDATE (a bulk_update of
    # five columns over a batch costs more than the rest of the batch together).
    CampaignRecipient.objects.filter(pk__in=list(planned)).update(
        status=CampaignRecipient.Status.QUEUED,
        queued_at=now,
        email_message=_message_of(campaign.pk, Message.Channel.EMAIL),
        sms_message=_message_of(campaign.pk, Message.Channel.SMS),
    )
    skipped = [recipient for recipient in recipients if recipient.pk not in planned]
    CampaignRecipient.objects.bulk_update(skipped, ["status", "skip_reason"], batch_size=500)
    ReactivationCampaign.objects.filter(pk=campaign.pk).update(
        processed_count=F("processed_count") + len(recipients),
        emails_queued=F("emails_queued")
        + sum(1 for item in outgoing if item.channel == Message.Channel.EMAIL),
        texts_queued=F("texts_queued")
        + sum(1 for item in outgoing if item.channel == Message.Channel.SMS),
        skipped_count=F("skipped_count") + (len(recipients) - len(planned)),
    )


def message_key(campaign_id: int, lead_id: int, channel: str) -> str:
    """A campaign message's idempotency key: one per campaign, contact and channel."""
    return f"campaign:{campaign_id}:{lead_id}:{channel}"


def _message_of(campaign_id: int, channel: str) -> Subquery:
    """The recipient's message on `channel` (message_key, in SQL), or NULL when none went."""
    key = Concat(
        Value(f"campaign:{campaign_id}:"),
        Cast(OuterRef("lead_id"), CharField()),
        Value(f":{channel}"),
        output_field=CharField(),
    )
    return Subquery(Message.objects.filter(idempotency_key=key).values("pk")[:1])


def _suppressions(recipients: list[CampaignRecipient]) -> dict[tuple[str, str], Suppression]:
    addresses = {normalise(Message.Channel.EMAIL, r.lead.email) for r in recipients} | {
        r.lead.phone for r in recipients
    }
    addresses.discard("")
    return {(s.channel, s.address): s for s in Suppression.objects.filter(address__in=addresses)}


def _channels(
    campaign: ReactivationCampaign, lead: Lead, suppressed: dict
) -> tuple[list[str], str]:
    """Which channels this contact gets, and why it gets nothing when none: an email unless it
    has no address or unsubscribed (or the address is suppressed: a bounce, a spam report); a
    text when the campaign has one and the contact consented and never opted out."""
    if not lead.dormant:
        return [], "Re-engaged before the campaign reached them"
    facts = outbox.lead_facts(lead)
    wanted = [Message.Channel.EMAIL] + ([Message.Channel.SMS] if campaign.sms_body else [])
    channels, reasons = [], []
    for channel in wanted:
        address = lead.email if channel == Message.Channel.EMAIL else lead.phone
        suppression = suppressed.get((channel, normalise(channel, address)))
        reason = policy.lead_blocked_reason(facts, channel) or (
            suppression_sentence(suppression) if suppression is not None else ""
        )
        if reason:
            reasons.append(reason)
        else:
            channels.append(channel)
    return channels, "; ".join(reasons)


# --- What contacts do with it ----------------------------------------------------------------------


def recipient_clicked(*, lead_id: int, campaign_id: int) -> bool:
    """The contact opened its personal link: the first open is its click (a later one changes
    nothing). False when the link names no recipient (a campaign not sent to this contact)."""
    return bool(
        CampaignRecipient.objects.filter(
            campaign_id=campaign_id, lead_id=lead_id, clicked_at__isnull=True
        ).update(clicked_at=timezone.now())
    )


def recipient_for_reengagement(lead: Lead, campaign_id: int | None = None):
    """The campaign a contact who answers is answering: the one its link names, else the
    latest that reached it within REACTIVATION_LINK_DAYS (a reply to the text, or a form it
    found by itself). None when no campaign reached it."""
    reached = CampaignRecipient.objects.filter(
        lead=lead, status=CampaignRecipient.Status.QUEUED, reengaged_at__isnull=True
    ).select_related("campaign")
    if campaign_id is not None:
        named = reached.filter(campaign_id=campaign_id).first()
        if named is not None:
            return named
    since = timezone.now() - timedelta(days=settings.REACTIVATION_LINK_DAYS)
    return reached.filter(queued_at__gte=since).order_by("-queued_at", "-id").first()


def recipient_reengaged(recipient: CampaignRecipient, lead: Lead) -> None:
    """The contact answered the campaign and is a lead again, at the intent it was given."""
    recipient.reengaged_at = lead.created_at
    recipient.reengaged_intent = lead.intent
    recipient.save(update_fields=["reengaged_at", "reengaged_intent"])

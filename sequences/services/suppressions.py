"""The suppression list: the one answer to "may we text or email this address", and its writer.

    address_suppress     nothing more goes to this number or address, starting with what is queued
    address_unsuppress   the number or address may be messaged again (START, fresh consent)
    email_unsubscribe    the one-click unsubscribe link
    suppression_sentence why nothing goes, in words an agent reads

The lead's `sms_opted_out_at` / `email_opted_out_at` are a cache of this list for the dashboard and
the reports, written only from here (leads.services.leads_mark_opted_out / _opted_in).
"""

from django.db import transaction
from django.utils import timezone

from leads.services import leads_mark_opted_in, leads_mark_opted_out

from ..models import Message, Suppression
from ..policy import on_date

LABEL = {Message.Channel.SMS: "texts", Message.Channel.EMAIL: "email"}


def normalise(channel: str, address: str) -> str:
    return address.lower() if channel == Message.Channel.EMAIL else address


@transaction.atomic
def address_suppress(channel: str, address: str, *, reason: str, detail: str = "") -> Suppression:
    """Nothing more goes to this number or address, from any sender, starting with what is
    already queued. Opt-outs (STOP, spam report, unsubscribe) also mark the lead."""
    address = normalise(channel, address)
    now = timezone.now()
    suppression, _ = Suppression.objects.get_or_create(
        channel=channel,
        address=address,
        defaults={"reason": reason, "detail": detail[:255], "created_at": now},
    )
    Message.objects.filter(
        channel=channel, to__iexact=address, status=Message.Status.QUEUED
    ).update(status=Message.Status.SUPPRESSED, status_reason=Suppression.Reason(reason).label)
    if reason != Suppression.Reason.BOUNCE:
        leads_mark_opted_out(
            channel,
            address,
            at=now,
            summary=f"Opted out of {LABEL[channel]}: {Suppression.Reason(reason).label}",
            data={"reason": reason, "detail": detail[:200]},
        )
    return suppression


@transaction.atomic(savepoint=False)
def address_unsuppress(
    channel: str, address: str, *, summary: str, data: dict, no_lead_opted_out: bool = False
) -> None:
    """The number or address may get messages again: it texted START, or its owner gave fresh
    consent on a form (`data` records the evidence). Each lead that was opted out says so on
    its timeline with `summary`. `no_lead_opted_out`: the caller knows no lead has this address
    marked opted out (intake: the one lead with this number was created in this transaction),
    so none is looked for."""
    address = normalise(channel, address)
    Suppression.objects.filter(channel=channel, address=address).delete()
    if not no_lead_opted_out:
        leads_mark_opted_in(channel, address, summary=summary, data=data)


def is_suppressed(channel: str, address: str) -> bool:
    return Suppression.objects.filter(channel=channel, address=normalise(channel, address)).exists()


def email_unsubscribe(address: str) -> Suppression:
    """The one-click unsubscribe link (or the List-Unsubscribe POST) was used."""
    return address_suppress(Message.Channel.EMAIL, address, reason=Suppression.Reason.UNSUBSCRIBE)


def suppression_sentence(suppression: Suppression) -> str:
    """Why nothing more goes to this address, in words an agent reads next to the send form."""
    on = on_date(suppression.created_at)
    return {
        Suppression.Reason.SMS_STOP: f"{suppression.address} replied STOP on {on}",
        Suppression.Reason.CARRIER_OPT_OUT: f"{suppression.address} opted out of texts on {on}",
        Suppression.Reason.BOUNCE: f"Email to {suppression.address} bounced on {on}",
        Suppression.Reason.SPAM_REPORT: f"{suppression.address} marked our email as spam on {on}",
        Suppression.Reason.UNSUBSCRIBE: f"{suppression.address} unsubscribed on {on}",
        Suppression.Reason.CONFIRMED_STOP: f"{suppression.address} asked to stop texts on {on}",
    }[suppression.reason]

"""What the metrics and the logs learn from the use cases (docs/deployment.md, "Monitoring").

Thin by design: the outbox and intake know nothing of Prometheus. They get here by
- `sequences.signals.message_sent` → `on_message_sent_measure`: an acknowledgment's or an alert's
  latency (creation → the provider's acceptance) and one log line naming the message and its
  lead;
- `@intake_observed` on `flows.intake.submission_process` (its one line there): what became of
  each processed submission (a new lead, an existing one, a failure), its log lines naming it;
- Django's `post_save` of a Submission → `on_submission_saved`: the payloads intake refused
  without processing (rejected: unreadable; spam: quarantined), whichever entry point stored
  them.
The receivers are connected in flows/apps.py.
"""

import logging
from functools import wraps

from django.db import transaction

from leads.models import Submission
from realtycrm import metrics
from realtycrm.logs import log_context
from sequences.models import Message

logger = logging.getLogger("realtycrm.outbox")


def on_message_sent_measure(sender, *, message: Message, **kwargs) -> None:
    """Once the send's effects commit (a rolled-back attempt is recorded again, and counted
    once, by lease recovery): the latency of an acknowledgment to a lead or an alert to an agent,
    and a log line for every message sent."""
    transaction.on_commit(lambda: _sent_record(message))


def _sent_record(message: Message) -> None:
    seconds = (message.sent_at - message.created_at).total_seconds()
    logger.info(
        "Message %s sent: %s %s to the %s, %.2f s after it was queued",
        message.pk,
        message.purpose,
        message.channel,
        message.audience,
        seconds,
        extra={"message_id": message.pk, "lead_id": message.lead_id},
    )
    acknowledgment = (
        message.purpose == Message.Purpose.ACKNOWLEDGMENT
        and message.audience == Message.Audience.LEAD
    )
    alert = message.purpose == Message.Purpose.ALERT and message.audience == Message.Audience.AGENT
    if not (acknowledgment or alert):
        return
    waited = (message.scheduled_for - message.created_at).total_seconds()
    metrics.message_latency_observe(
        alert=alert,
        channel=message.channel,
        seconds=seconds,
        deferred=waited > metrics.DEFERRED_AFTER_SECONDS,
    )


def intake_observed(process):
    """For `submission_process(submission, ...) -> Lead | None` (None: it failed, and the error
    is on the submission): counts the outcome, and every log line inside names the submission."""

    @wraps(process)
    def observed(submission: Submission, *args, **kwargs):
        with log_context(submission_id=submission.pk):
            lead = process(submission, *args, **kwargs)
        if lead is None:
            outcome = "failed"
        else:
            outcome = "new_lead" if submission.created_lead else "existing_lead"
        metrics.intake_count(channel=submission.channel, source=submission.source, outcome=outcome)
        return lead

    return observed


# Statuses a submission is stored with (or put in) when intake will not process it.
REFUSED = {Submission.Status.REJECTED: "rejected", Submission.Status.SPAM: "spam"}


def on_submission_saved(sender, *, instance: Submission, created: bool, update_fields, **kwargs):
    """A payload stored as rejected (no adapter could read it), or quarantined as spam."""
    status_written = created or (update_fields is not None and "status" in update_fields)
    outcome = REFUSED.get(instance.status)
    if status_written and outcome:
        metrics.intake_count(channel=instance.channel, source=instance.source, outcome=outcome)

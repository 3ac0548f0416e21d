"""Provider backends, like Django's EMAIL_BACKEND: a dotted path in settings, one class each.

    SMS_BACKEND    sequences.backends.sms.ConsoleBackend (default) | .sms.LocmemBackend (tests)
                   | sequences.backends.twilio.TwilioBackend
    EMAIL_BACKEND  Django's console (default) | sequences.backends.email.LocmemEmailBackend
                   (tests) | sequences.backends.sendgrid.EmailBackend

A backend returns the provider's message id or raises a ProviderError that says whether trying
again could help. sequences.messaging is the one place that calls them.

A provider's module also reads that provider's webhooks into neutral events (events.py:
DeliveryEvent, InboundText), so its field names, event names and error codes stay here:
twilio.status_events and sendgrid.events_from_payload, picked by sequences.tracking.
"""


class ProviderError(Exception):
    """The provider did not take the message. `transient`: trying later may work."""

    transient = False
    # The provider says the recipient opted out (Twilio 21610): suppress, never retry.
    recipient_opted_out = False
    # We cannot tell whether the provider took it (a read timeout): ask before sending again.
    outcome_unknown = False

    def __init__(self, message: str, *, code: str | int | None = None):
        super().__init__(message)
        self.code = code


class TransientError(ProviderError):
    transient = True


class OutcomeUnknownError(TransientError):
    outcome_unknown = True


class PermanentError(ProviderError):
    pass


class RecipientOptedOutError(PermanentError):
    recipient_opted_out = True

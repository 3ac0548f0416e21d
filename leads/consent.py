"""The SMS consent wording shown on every intake form, versioned.

The version and the exact text are stored with every consent (ConsentRecord), so the evidence
says what the prospect agreed to. Change the wording by adding a version, never by editing one.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils.dateparse import parse_datetime

SMS_CONSENT_WORDING = {
    "sms-2026-11-v1": (
        "Yes, text me. By checking this box I agree that {brokerage} and its agents may send "
        "text messages to the mobile number above about my inquiry and local real-estate "
        "information, including by automated means. Up to 6 messages a week. Consent is not a "
        "condition of any purchase or service. Msg & data rates may apply. Reply STOP to opt "
        "out at any time, HELP for help."
    ),
}
SMS_CONSENT_VERSION = "sms-2026-11-v1"


def sms_consent_text(version: str = SMS_CONSENT_VERSION) -> str:
    return SMS_CONSENT_WORDING[version].format(brokerage=settings.BROKERAGE_NAME)


INTEGRATION_RECORD = "integration record"


@dataclass(frozen=True)
class ConsentEvidence:
    """What proves an SMS consent that did not come from our own form: the wording the prospect
    agreed to, its version (or where the wording came from), when, and the channel's other
    evidence. Stored on the Submission (mapped) and then as a ConsentRecord."""

    wording: str
    version: str
    given_at: datetime | None = None
    detail: dict = field(default_factory=dict)

    @property
    def lifts_opt_out(self) -> bool:
        """Only the person's own act (our form's box, a payload's evidence of what they agreed
        to and when) may undo their STOP. An integration's standing statement that its source
        collects consent is not that person's act: it records consent, never lifts a STOP."""
        return self.detail.get("basis") != INTEGRATION_RECORD

    def as_data(self) -> dict:
        return {
            "wording": self.wording,
            "version": self.version,
            "given_at": self.given_at.isoformat() if self.given_at else None,
            "detail": self.detail,
        }

    @classmethod
    def from_data(cls, data: dict | None) -> "ConsentEvidence | None":
        if not data or not data.get("wording"):
            return None
        given_at = parse_datetime(data["given_at"]) if data.get("given_at") else None
        return cls(
            wording=data["wording"],
            version=data.get("version", "")[:40],
            given_at=given_at,
            detail=data.get("detail") or {},
        )


def form_consent() -> ConsentEvidence:
    """Our own forms' consent: the checkbox's current wording."""
    return ConsentEvidence(
        wording=sms_consent_text(SMS_CONSENT_VERSION), version=SMS_CONSENT_VERSION
    )

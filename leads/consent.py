"""The SMS consent wording shown on every intake form, versioned.

The version and the exact text are stored with every consent (ConsentRecord), so the evidence
says what the prospect agreed to. Change the wording by adding a version, never by editing one.
"""

from django.conf import settings

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

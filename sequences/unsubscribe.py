"""One-click email unsubscribe (RFC 8058): a signed link per address, in the footer and headers.

The token is the address signed with SECRET_KEY (no expiry: an unsubscribe link must keep
working). Mail providers POST `List-Unsubscribe=One-Click` to the same URL the footer links to;
a person opening the link sees a page with one button, so a link scanner's GET changes nothing.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "sequences.unsubscribe"


def unsubscribe_token(address: str) -> str:
    return signing.Signer(salt=SALT).sign_object({"e": address.lower()}, compress=True)


def address_from_token(token: str) -> str | None:
    try:
        return signing.Signer(salt=SALT).unsign_object(token)["e"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def unsubscribe_url(address: str) -> str:
    path = reverse("sequences:unsubscribe", args=[unsubscribe_token(address)])
    return f"{settings.SITE_URL}{path}"


def unsubscribe_headers(address: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(address)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def email_footer(address: str) -> str:
    """Every email to a lead ends with the brokerage's postal address and the link."""
    return (
        f"\n\n--\n{settings.BROKERAGE_NAME}\n{settings.BROKERAGE_ADDRESS}\n"
        f"You are getting this because you contacted us. Unsubscribe with one click: "
        f"{unsubscribe_url(address)}"
    )

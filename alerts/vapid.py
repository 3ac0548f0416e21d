"""VAPID keys (RFC 8292): the P-256 key pair that signs every Web Push request, in the forms
the settings hold them: the public key as the browser's applicationServerKey (the uncompressed
point, base64url) and the private key as its raw 32 bytes (base64url). pywebpush reads the
private key in that form, or as PEM/DER.

cryptography is imported by the functions that use it, not with this module: the system check
reads the keys only where they are set, and a web or worker process that never touches a key
need not map the library's ~6 MB (docs/performance.md, "Memory")."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def vapid_key_pair() -> tuple[str, str]:
    """A new (public, private) pair."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return public_key_of(key), b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def public_key_of(key: ec.EllipticCurvePrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def private_key_from(text: str) -> ec.EllipticCurvePrivateKey | None:
    """The private key from its setting: raw base64url, or PEM / base64 DER. None when it is
    none of these."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            if len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            else:
                key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError, binascii.Error):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        return None
    return key

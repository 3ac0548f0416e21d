"""Message copy as untrusted text: a fixed set of {placeholders}, filled by string substitution.

Pure functions, no database. Brokers write templates; the Django template engine never sees
them. `{first_name}` is the only syntax: `{{ first_name }}`, `{% if %}`, `{lead.email}`,
`{name[0]}` or `{first_name!r}` are rejected when the template is saved, and even if one got
into the database, `fill` only ever replaces the exact names below and leaves anything else as
the literal text it is.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError

# name → what it is (shown to brokers). The fallback phrases live in sequences/rendering.py.
PLACEHOLDERS = {
    "first_name": "The lead's first name",
    "lead_name": "The lead's full name",
    "agent_name": "The lead's agent",
    "agent_phone": "The agent's phone number",
    "agent_email": "The agent's email address",
    "property_address": "The address they asked about",
    "neighbourhood": "Their neighborhood",
    "open_house": "The open house they visited",
    "inquiry": "What a website visitor asked about",
    "submission": "What they submitted, in a few words (for agents' task titles)",
    "brokerage": "The brokerage's name",
    "brokerage_phone": "The brokerage's phone number",
    "brokerage_email": "The brokerage's email address",
    "reactivation_link": "A reactivation campaign's personal link to update their details "
    "(elsewhere: the plain reactivation form)",
    "appointment_kind": "An appointment's kind: listing presentation, showing, buyer "
    "consultation (appointment messages)",
    "appointment_time": "When the appointment is, e.g. Tue, May 5, 10:00 a.m. (appointment "
    "messages)",
    "appointment_place": "Where the appointment is (appointment messages)",
}

_TOKEN = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_]+)\}(?!\})")  # not inside {{ }}


def template_errors(text: str) -> list[str]:
    """Everything wrong with a template's use of braces, as sentences a broker can act on."""
    errors = []
    if "{{" in text or "}}" in text or "{%" in text or "%}" in text:
        errors.append(
            "Use single braces for placeholders, like {first_name}; template tags such as "
            "{{ … }} and {% … %} are not supported."
        )
        return errors
    for match in _TOKEN.finditer(text):
        name = match.group(1)
        if name not in PLACEHOLDERS:
            errors.append(f"Unknown placeholder {{{name}}}.")
    # Braces that do not form a {placeholder} at all (a lone "{" or "}").
    leftover = _TOKEN.sub("", text)
    if "{" in leftover or "}" in leftover:
        errors.append("Curly braces are only for placeholders, like {first_name}.")
    if errors and any(e.startswith("Unknown") for e in errors):
        errors.append("Available: " + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS) + ".")
    return errors


def validate_template_text(text: str) -> None:
    """Model-field validator: unknown placeholders are rejected when a template is saved."""
    errors = template_errors(text or "")
    if errors:
        raise ValidationError(errors, code="bad_placeholder")


# Values written as they are even where a sentence starts: a link or an address ("Http://…"
# is no link in some mail clients).
VERBATIM = {"agent_email", "brokerage_email", "reactivation_link"}


def fill(text: str, values: dict[str, str]) -> str:
    """Replace each known {name} with its value. Nothing is evaluated: values are inserted as
    they are, and are never themselves searched for placeholders."""

    def replace(match):
        name = match.group(1)
        if name not in PLACEHOLDERS or name not in values:
            return match.group(0)
        value = values[name]
        before = text[: match.start()].rstrip(" ")
        if value and name not in VERBATIM and (not before or before[-1] in ".!?\n"):
            value = value[0].upper() + value[1:]  # "our team" opening a line reads "Our team"
        return value

    return _PLACEHOLDER.sub(replace, text)


# --- Values typed by prospects --------------------------------------------------------------
# A bot can put anything in a public form and choose whose phone number it gives, so a value
# that looks like a link or an address is never copied into a message: it would let anyone make
# us text a stranger their URL. Such a value falls back to the neutral phrase instead.
_LINK_LIKE = re.compile(
    r"(https?:|www\.|@|\b[a-z0-9-]+\.(com|net|org|io|co|ly|me|info|biz|xyz|app|link|site)\b)",
    re.IGNORECASE,
)


def clean_value(value: str, *, max_length: int) -> str:
    """A prospect-typed value made safe to put in a message, or "" to use the fallback."""
    text = unicodedata.normalize("NFC", str(value or ""))
    text = "".join(" " if unicodedata.category(char)[0] == "C" else char for char in text)
    text = " ".join(text.split())
    if not text or _LINK_LIKE.search(text) or len(text) > max_length:
        return ""
    return text


# --- SMS length ------------------------------------------------------------------------------
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def sms_segments(text: str) -> tuple[str, int, int]:
    """(encoding, length in characters as billed, number of segments) for one SMS.

    GSM-7 carries 160 characters in one segment, 153 per segment when split; any other
    character (an emoji, a curly quote, "ë") switches the whole message to UCS-2: 70, then 67.
    """
    if all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text):
        length = sum(2 if char in GSM7_EXTENDED else 1 for char in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        # UCS-2 counts UTF-16 code units: characters outside the BMP (most emoji) take two.
        length = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if length <= single:
        return encoding, length, 1 if length else 0
    return encoding, length, -(-length // multi)

"""What Meta sends, read as ours: the webhook's signature and notifications, and a lead's answers
from the Graph API as Lead fields. Pure functions over plain values (no database, no network);
integrations/meta_intake.py stores and fetches, integrations/graph.py speaks to the Graph API.

A lead's `field_data` is a list of {"name": question key, "values": [answers]}. Meta's standard
questions have fixed keys (STANDARD_FIELDS); a custom question's key is its text, snake-cased
("when_are_you_planning_to_move?"), and a multiple-choice answer is the option's key
("0-3_months"). An integration's `field_mapping` ({"their key": "our field"}) overrides the
defaults for its form; the timeline question is found by its answers when nothing maps it; any
other answer is kept in the lead's message, so the agent reads everything the prospect said.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from leads.models import Side, Source
from leads.names import name_split
from leads.phones import phone_e164
from leads.timelines import timeline_from_text

SIGNATURE_PREFIX = "sha256="

# Meta's standard question keys → our field (see TARGETS).
STANDARD_FIELDS = {
    "full_name": "full_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone_number": "phone",
    "street_address": "street",
    "city": "city",
    "state": "state",
    "province": "state",
    "zip_code": "postal_code",
    "post_code": "postal_code",
}
# What a form's question (or disclaimer checkbox) may be mapped to in an integration's
# field_mapping: Lead answer fields, the parts of the property address, "side", the checkbox
# that asks for SMS consent, and "ignore" to leave an answer out of the message too.
TARGETS = {
    "first_name": "first name",
    "last_name": "last name",
    "full_name": "full name (split into first and last)",
    "email": "email",
    "phone": "phone",
    "timeline": "when they plan to move",
    "street": "street (of the property address)",
    "city": "city (of the property address)",
    "state": "state (of the property address)",
    "property_address": "the whole property address",
    "postal_code": "ZIP / postal code",
    "bedrooms": "bedrooms",
    "bathrooms": "bathrooms",
    "open_house": "which open house",
    "message": "message",
    "asked_for_showing": "asked for a showing (yes/no)",
    "side": "buying or selling",
    "sms_consent": "the disclaimer checkbox that asks for SMS consent",
    "ignore": "leave it out",
}
# A source's side when the form does not ask (as our own forms do).
SOURCE_SIDE = {Source.VALUATION: Side.SELLER, Source.LISTING_AD: Side.BUYER}
# Words in a custom question's key that say it is the timeline question.
TIMELINE_KEY = re.compile(r"when|time|move|moving|plan|sell|buy|soon|month", re.IGNORECASE)
SMS_CHECKBOX_KEY = re.compile(r"sms|text|mobile|phone", re.IGNORECASE)
CHECKED = {"1", "true", "yes", "checked", "on"}
MESSAGE_MAX = 2000


class PayloadError(ValueError):
    """A signed post that is not a Meta webhook notification."""


# --- The webhook ---------------------------------------------------------------------------------


def signature_valid(body: bytes, header: str, secret: str) -> bool:
    """Meta signs the raw body with the app secret: X-Hub-Signature-256: sha256=<hex>."""
    if not secret or not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    given = header[len(SIGNATURE_PREFIX) :].strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected, given)  # bytes: a non-ASCII header is just wrong


def verify_token_valid(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def notification_leads(payload) -> list[dict]:
    """The `value` of every leadgen change in a notification ({"object": "page", "entry":
    [{"id", "time", "changes": [{"field": "leadgen", "value": {...}}]}]}). Changes of other
    fields are not ours and are skipped."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise PayloadError('Expected {"object": "page", "entry": [...]}')
    if payload.get("object") not in (None, "page"):
        raise PayloadError(f"Not a page notification: object={str(payload.get('object'))[:40]!r}")
    values = []
    for entry in payload["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            raise PayloadError("An entry without a list of changes")
        for change in changes:
            if not isinstance(change, dict):
                raise PayloadError("A change that is not an object")
            if change.get("field") != "leadgen":
                continue
            if not isinstance(change.get("value"), dict):
                raise PayloadError("A leadgen change without a value")
            values.append(change["value"])
    return values


def graph_id(value) -> str:
    """An id as Meta may send it (a string, or a number in some payloads), as a string."""
    if isinstance(value, bool) or value is None:
        return ""
    return str(value).strip()[:40] if isinstance(value, str | int) else ""


def meta_time(value) -> datetime | None:
    """Meta's times: "2026-05-04T18:00:00+0000" from the Graph API, a Unix time in webhooks."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def origin_for(page: str, form: str) -> str:
    """Where a Meta lead came from, one convention for reports: "Meta · Harbor & Main Realty ·
    Home value form" (the page's and the form's names, or their ids)."""
    return " · ".join(part for part in ("Meta", page, form) if part)[:200]


# --- A lead --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadRead:
    """What a Graph lead says, as ours: Lead fields (`fields`), what could not be used and why
    (`problems`), the SMS checkbox's (key, checked) when the form has one, the ad it came from
    (`attribution`, and the same as utm_* values), and when the prospect sent it."""

    fields: dict
    problems: dict = field(default_factory=dict)
    sms_checkbox: tuple[str, bool] | None = None
    attribution: dict = field(default_factory=dict)
    utm: dict = field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def reachable(self) -> bool:
        return bool(self.fields.get("email") or self.fields.get("phone"))


def lead_read(lead: dict, *, mapping: dict | None, source: str) -> LeadRead:
    mapping = {
        str(key).casefold(): value.strip()
        for key, value in (mapping if isinstance(mapping, dict) else {}).items()
        if isinstance(value, str)
    }
    answers = _answers(lead.get("field_data"))
    by_target, leftovers = {}, []
    for key, answer in answers:
        target = mapping.get(key.casefold(), STANDARD_FIELDS.get(key.casefold()))
        if target == "ignore":
            continue
        if target in TARGETS and target != "sms_consent" and target not in by_target:
            by_target[target] = answer
        else:
            leftovers.append((key, answer))
    if "timeline" not in by_target:
        found = _timeline_question(leftovers)
        if found is not None:
            leftovers.remove(found)
            by_target["timeline"] = found[1]
    fields, problems = _fields(by_target, leftovers, source)
    return LeadRead(
        fields=fields,
        problems=problems,
        sms_checkbox=sms_checkbox(lead.get("custom_disclaimer_responses"), mapping),
        attribution=attribution(lead),
        utm=utm(lead),
        created_at=meta_time(lead.get("created_time")),
    )


def _answers(field_data) -> list[tuple[str, str]]:
    """[(question key, answer)], several values of one question joined ("a, b")."""
    answers = []
    for item in field_data if isinstance(field_data, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        values = item.get("values")
        values = values if isinstance(values, list) else [values]
        text = ", ".join(str(value).strip() for value in values if str(value or "").strip())
        if text:
            answers.append((item["name"].strip()[:200], text[:MESSAGE_MAX]))
    return answers


def _timeline_question(leftovers: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The custom question whose answer is a timeline ("0-3_months", "ASAP"), preferring one
    whose key reads like the question ("when_are_you_planning_to_move?")."""
    asked = [
        (key, answer)
        for key, answer in leftovers
        if TIMELINE_KEY.search(key) and timeline_from_text(answer)
    ]
    # Another question's answer counts only in a timeline's exact wording ("0-3_months"): "12
    # years" answers "how long have you owned your home?", not when they move.
    found = [(key, answer) for key, answer in leftovers if timeline_from_text(answer, loose=False)]
    return (asked or found or [None])[0]


def _fields(by_target: dict, leftovers: list, source: str) -> tuple[dict, dict]:
    fields, problems = {}, {}
    first, last = by_target.get("first_name", ""), by_target.get("last_name", "")
    if not (first or last) and by_target.get("full_name"):
        first, last = name_split(by_target["full_name"])
    if first:
        fields["first_name"] = first[:100]
    if last:
        fields["last_name"] = last[:100]
    if by_target.get("email"):
        email = by_target["email"].strip().lower()
        try:
            validate_email(email)
            fields["email"] = email
        except ValidationError:
            problems["email"] = f"Not an email address: {email[:100]}"
    if by_target.get("phone"):
        phone = phone_e164(by_target["phone"])
        if phone:
            fields["phone"] = phone
        else:
            problems["phone"] = f"Not a phone number: {by_target['phone'][:40]}"
    if by_target.get("timeline"):
        timeline = timeline_from_text(by_target["timeline"])
        if timeline:
            fields["timeline"] = timeline
        else:
            leftovers.append(("timeline", by_target["timeline"]))
    address = by_target.get("property_address") or ", ".join(
        by_target[part] for part in ("street", "city", "state") if by_target.get(part)
    )
    if address:
        fields["property_address"] = address[:255]
    if by_target.get("postal_code"):
        fields["postal_code"] = by_target["postal_code"][:12]
    _numbers(by_target, fields, problems)
    if by_target.get("open_house"):
        fields["open_house"] = by_target["open_house"][:200]
    if by_target.get("asked_for_showing", "").casefold() in CHECKED:
        fields["asked_for_showing"] = True
    fields["side"] = _side(by_target.get("side", "")) or SOURCE_SIDE.get(source, Side.UNKNOWN)
    message = _message(by_target.get("message", ""), leftovers)
    if message:
        fields["message"] = message
    return fields, problems


def _numbers(by_target: dict, fields: dict, problems: dict) -> None:
    bedrooms = re.search(r"\d+", by_target.get("bedrooms", ""))
    if bedrooms and int(bedrooms.group()) <= 20:
        fields["bedrooms"] = int(bedrooms.group())
    elif by_target.get("bedrooms"):
        problems["bedrooms"] = f"Not a number of bedrooms: {by_target['bedrooms'][:40]}"
    bathrooms = re.search(r"\d+(?:\.\d)?", by_target.get("bathrooms", ""))
    try:
        value = Decimal(bathrooms.group()) if bathrooms else None
    except InvalidOperation:
        value = None
    if value is not None and value <= 20:
        fields["bathrooms"] = str(value)
    elif by_target.get("bathrooms"):
        problems["bathrooms"] = f"Not a number of bathrooms: {by_target['bathrooms'][:40]}"


def _side(text: str) -> str:
    text = text.casefold()
    selling, buying = "sell" in text, "buy" in text or "purchas" in text
    if "both" in text or (selling and buying):
        return Side.BOTH
    return Side.SELLER if selling else Side.BUYER if buying else ""


def _message(message: str, leftovers: list[tuple[str, str]]) -> str:
    """The mapped message, then every other answer as "Question? answer"."""
    lines = [message] if message else []
    lines += [f"{_question(key)}: {answer}" for key, answer in leftovers]
    return "\n".join(lines)[:MESSAGE_MAX]


def _question(key: str) -> str:
    """ "when_are_you_planning_to_move?" → "When are you planning to move?"."""
    text = " ".join(key.replace("_", " ").split())
    return text[:1].upper() + text[1:]


def sms_checkbox(responses, mapping: dict) -> tuple[str, bool] | None:
    """The form's SMS-consent checkbox in `custom_disclaimer_responses` ([{"checkbox_key",
    "is_checked"}]) and whether it was ticked: the key mapped to "sms_consent", else one whose key
    says SMS/text. None when the form has no such checkbox: a form's only checkbox may be about
    privacy or marketing email, and taking it for SMS consent would text people who never agreed
    (or refuse those who did), so an unnamed checkbox counts only once a broker maps it."""
    boxes = [
        (str(item.get("checkbox_key") or ""), _checked(item.get("is_checked")))
        for item in (responses if isinstance(responses, list) else [])
        if isinstance(item, dict) and item.get("checkbox_key")
    ]
    mapped = {key for key, target in mapping.items() if target == "sms_consent"}
    chosen = [box for box in boxes if box[0].casefold() in mapped]
    if not chosen and not mapped:
        chosen = [box for box in boxes if SMS_CHECKBOX_KEY.search(box[0])]
    return chosen[0] if chosen else None


def _checked(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().casefold() in CHECKED


def attribution(lead: dict) -> dict:
    """The ad a lead came from, by id and name, and where it ran (fb/ig, organic or paid)."""
    keys = ("ad_id", "ad_name", "adset_id", "adset_name", "campaign_id", "campaign_name")
    found = {key: str(lead[key])[:200] for key in keys if lead.get(key) not in (None, "")}
    found["form_id"] = graph_id(lead.get("form_id"))
    found["leadgen_id"] = graph_id(lead.get("id"))
    if lead.get("platform"):
        found["platform"] = str(lead["platform"])[:20]
    if isinstance(lead.get("is_organic"), bool):
        found["is_organic"] = lead["is_organic"]
    return {key: value for key, value in found.items() if value not in ("", None)}


def utm(lead: dict) -> dict:
    """The same as the utm_* values a form lead from that ad would carry, so reports and
    campaigns (matched by utm_campaign) treat a Meta lead like one from its landing page."""
    platform = str(lead.get("platform") or "").casefold()
    values = {
        "utm_source": {"fb": "facebook", "ig": "instagram"}.get(platform, "meta"),
        "utm_medium": "organic_social" if lead.get("is_organic") is True else "paid_social",
        "utm_campaign": str(lead.get("campaign_name") or lead.get("campaign_id") or ""),
        "utm_content": str(lead.get("ad_name") or lead.get("ad_id") or ""),
    }
    return {key: value[:200] for key, value in values.items() if value}

"""The hosted intake forms, one per source.

Each form asks what makes sense for its source and nothing more, always the timeline question and
the SMS consent. Field names match the Lead model. The source is the form's own, never a field.
The public forms carry no session and no CSRF cookie (a form framed by the brokerage's own site,
another origin, would get none): each carries a signed form token instead, bound to its form and
valid for INTAKE_FORM_TOKEN_HOURS, beside the honeypot and the rate limit. Spam checks are kept
apart from validation: a clear bot (the honeypot filled, no token or a forged one) is quarantined,
never shown an error that teaches it what to fix. Fill time is a signal, not a verdict: a form sent
faster than INTAKE_MIN_FILL_SECONDS (browser autofill does that) that looks like a person becomes a
lead, marked for review.

What each form says (headline, intro, submit button, thank-you text, the giveaway's prize, rules and
end date) is the broker's to edit (leads.FormCopy, read by `intake_copy`); the wording on the
classes below is what ships and what shows when a form has no row. In kiosk mode (an open-house
tablet at the door, ?kiosk=1) a form turns the browser's autofill off, so no visitor is offered
the previous one's answers.
"""

import time
import unicodedata
from dataclasses import dataclass
from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html

from realtycrm.http import pg_safe

from .consent import sms_consent_text
from .intake import ANSWER_FIELDS
from .models import FormCopy, InquiryType, Lead, Side, Source, Timeline
from .phones import phone_e164, phone_example
from .rulebook import rulebook_cached

TOKEN_SALT = "leads.intake.form-token"  # noqa: S105 - a signing namespace, not a secret
HONEYPOT_FIELD = "company_website"
LINE_BREAKS = {"\n", "\r", "\t"}
EMAIL_MAX_LENGTH = Lead._meta.get_field("email").max_length


def intake_token(
    form: str, *, issued_at: float | None = None, shown_at: float | None = None
) -> str:
    """A signed note of which form was shown (its source) and when: it stands in for the CSRF
    cookie, and measures how long the form took to fill in. `shown_at` when the form is shown
    again with a fresh token (the old one expired): the fill time still counts from the first."""
    payload = {"f": form, "t": time.time() if issued_at is None else issued_at}
    if shown_at is not None:
        payload["s"] = shown_at
    return signing.dumps(payload, salt=TOKEN_SALT)


@dataclass(frozen=True)
class FormToken:
    """What a POSTed form token says: `problem` is '' for a good one, else missing, forged,
    expired or "other form"; `shown_at` is when the prospect first saw the form."""

    problem: str
    shown_at: float | None = None

    @property
    def fill_seconds(self) -> float | None:
        return None if self.shown_at is None else time.time() - self.shown_at


def token_read(token: str, form: str) -> FormToken:
    if not token:
        return FormToken("missing")
    try:
        payload = signing.loads(token, salt=TOKEN_SALT)
        issued_at = float(payload["t"])
        shown_at = float(payload.get("s", issued_at))
        token_form = payload.get("f")
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return FormToken("forged")
    if token_form != form:
        return FormToken("other form", shown_at)
    if time.time() - issued_at > settings.INTAKE_FORM_TOKEN_HOURS * 3600:
        return FormToken("expired", shown_at)
    return FormToken("", shown_at)


# A good person's form that cannot be taken as it is: shown again, answers kept, a fresh token.
TOKEN_REFUSALS = {
    "expired": "This form was open for a long time, so we could not accept it as it was. Your "
    "answers are still below: please check them and send the form again.",
    "other form": "Your browser sent us the details of another of our forms (perhaps from "
    "another tab). Your answers are still below: please check them and send the form again.",
}


class TextField(forms.CharField):
    """Text as typed: NFC-normalised, trimmed, no control characters (line breaks only where a
    field is multi-line). HTML is kept as text; templates escape it when shown."""

    def __init__(self, *, multiline: bool = False, **kwargs):
        self.multiline = multiline
        if multiline:
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return unicodedata.normalize("NFC", value) if value else value

    def validate(self, value):
        super().validate(value)
        for char in value or "":
            if unicodedata.category(char) == "Cc" and not (self.multiline and char in LINE_BREAKS):
                raise ValidationError(
                    "Please remove the special (control) characters from this field.",
                    code="control_characters",
                )


class PhoneField(forms.CharField):
    """A phone number in any common format, stored as E.164 (+14135550123)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return ""
        number = phone_e164(value)
        if number is None:
            raise ValidationError(
                f"Please enter a valid phone number with its area code, like {phone_example()}.",
                code="invalid_phone",
            )
        return number


def _without_nul(data):
    """The POST as the form reads it: without NUL, which nobody types (it comes from a broken
    autofill or a bot) and no column can hold. The submission keeps it, marked, as received.
    A stored submission (a dict, re-read by a release or the stranded sweep) reads the same: a
    key sent twice as its values, and the U+FFFD that stands for a stored NUL dropped."""
    if data is None:
        return data
    if hasattr(data, "lists"):
        items = data.lists()
    elif isinstance(data, dict):
        items = (
            (key, value if isinstance(value, list) else [value]) for key, value in data.items()
        )
    else:
        return data
    cleaned = QueryDict(mutable=True)
    for key, values in items:
        cleaned.setlist(
            key, [pg_safe(str(value), replacement="").replace("\ufffd", "") for value in values]
        )
    return cleaned


def _idna_address(email: str) -> str:
    """The address as it is sent: the domain in its ASCII (IDNA) form."""
    local, _, domain = email.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return email  # EmailField has validated the domain; nothing longer to measure


TIMELINE_QUESTION = "When are you thinking of making a move?"
TIMELINE_CHOICES = [
    (value, label) for value, label in Timeline.choices if value != Timeline.UNKNOWN
]


class IntakeForm(forms.Form):
    """What every intake form asks. Subclasses add their source's questions."""

    source: str = ""
    # The shipped wording (a broker's FormCopy row replaces it: intake_copy).
    title: str = ""
    intro: str = ""
    submit_label: str = "Send"
    thank_you: str = "Thank you. We will be in touch soon."
    # Whether its copy may set an end date (only the giveaway's: leads.FormCopy.clean).
    can_end: bool = False
    # Fields (or crispy layout objects) shown before the contact details: why the prospect came.
    lead_questions: tuple = ()

    first_name = TextField(
        max_length=100,
        label="First name",
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": "Please tell us your first name."},
    )
    last_name = TextField(
        max_length=100,
        required=False,
        label="Last name",
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        max_length=EMAIL_MAX_LENGTH,
        required=False,
        label="Email",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": "Please enter a valid email address, like name@example.com."},
    )
    phone = PhoneField(required=False, label="Mobile phone")
    timeline = forms.ChoiceField(
        choices=TIMELINE_CHOICES,
        widget=forms.RadioSelect,
        label=TIMELINE_QUESTION,
        error_messages={
            "required": "Please choose when you are thinking of making a move.",
            "invalid_choice": "Please choose one of the options.",
        },
    )
    sms_consent = forms.BooleanField(required=False)
    company_website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    form_token = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *args, query=None, kiosk=False, **kwargs):
        super().__init__(_without_nul(data), *args, **kwargs)
        self.query = query or {}
        self.kiosk = kiosk
        if kiosk:
            # A shared tablet: the browser must not offer the next visitor what the last typed.
            for field in self.fields.values():
                field.widget.attrs["autocomplete"] = "off"
        self.fields["sms_consent"].label = format_html(
            '{} <a href="{}" target="_blank" rel="noopener">Privacy policy</a>',
            sms_consent_text(),
            reverse("leads:privacy"),
        )
        if not self.is_bound:
            self.initial["form_token"] = intake_token(self.source)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            *self.lead_questions,
            Div(
                Div("first_name", css_class="col-sm-6"),
                Div("last_name", css_class="col-sm-6"),
                css_class="row",
            ),
            Div(
                Div("email", css_class="col-sm-6"),
                Div("phone", css_class="col-sm-6"),
                css_class="row",
            ),
            "timeline",
            Field("sms_consent", wrapper_class="consent small"),
            Div(HONEYPOT_FIELD, css_class="hp-field", aria_hidden="true"),
            "form_token",
        )

    def prefill(self, field: str, value: str | None) -> None:
        """Prefill a field from the page's query string (?listing=, ?event=), capped and cleaned."""
        if value and not self.is_bound:
            limit = self.fields[field].max_length or 200
            cleaned = "".join(ch for ch in value if unicodedata.category(ch) != "Cc")
            self.initial[field] = unicodedata.normalize("NFC", cleaned).strip()[:limit]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        # Lower-casing can lengthen an address ("İ" becomes two characters), and an address is
        # sent with its domain in IDNA form: refuse here, with a message, what would not fit the
        # lead's email column or could not be sent, rather than fail after "thanks".
        if email and max(len(email), len(_idna_address(email))) > EMAIL_MAX_LENGTH:
            raise ValidationError(
                "This email address is too long for us to use. Please check it, or give us your "
                "phone number instead.",
                code="email_too_long",
            )
        return email

    def clean(self):
        cleaned = super().clean()
        contact_errors = self.errors.get("email") or self.errors.get("phone")
        if not contact_errors and not cleaned.get("email") and not cleaned.get("phone"):
            raise ValidationError(
                "Please give us an email address or a phone number so we can reach you.",
                code="no_contact",
            )
        if cleaned.get("sms_consent") and not cleaned.get("phone") and not self.errors.get("phone"):
            self.add_error(
                "phone", "Add your mobile number to get texts, or uncheck the box to skip them."
            )
        return cleaned

    def token(self) -> FormToken:
        if not hasattr(self, "_token"):
            self._token = token_read(self.data.get("form_token", ""), self.source)
        return self._token

    def spam_reason(self) -> str:
        """Why this POST is a clear bot ('' when it is not). Reads raw data: works whether or
        not the form is valid."""
        if self.data.get(HONEYPOT_FIELD, "").strip():
            return "honeypot"
        if self.token().problem in ("missing", "forged"):
            return f"{self.token().problem} form token"
        return ""

    def token_refusal(self) -> str:
        """What to tell a person whose form token expired or belongs to another form ('' when
        the token is good)."""
        return TOKEN_REFUSALS.get(self.token().problem, "")

    def renewed(self) -> "IntakeForm":
        """The same answers with a fresh token and the refusal on top, to send again."""
        data = self.data.copy()
        data["form_token"] = intake_token(self.source, shown_at=self.token().shown_at)
        form = type(self)(data, query=self.query, kiosk=self.kiosk)
        form.is_valid()  # anything else to fix shows at the same time
        form.add_error(None, ValidationError(self.token_refusal(), code="form_token"))
        return form

    def review_reason(self) -> str:
        """Why a person should check this lead ('' when nothing looks odd): fill time is a
        signal, not a verdict (browser autofill fills a form in a second)."""
        seconds = self.token().fill_seconds
        if seconds is not None and seconds < settings.INTAKE_MIN_FILL_SECONDS:
            return f"filled too fast ({max(seconds, 0):.1f} s)"
        return ""

    def lead_side(self) -> str:
        return Side.UNKNOWN

    def lead_fields(self) -> dict:
        """The cleaned answers as Lead field values."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in ANSWER_FIELDS
            if name in data and data[name] not in (None, "")
        }
        fields["side"] = self.lead_side()
        return fields


class ValuationForm(IntakeForm):
    source = Source.VALUATION
    title = "What is your home worth?"
    intro = "Tell us about your home and we will send you a valuation based on recent local sales."
    submit_label = "Get my home's value"
    thank_you = (
        "We are pulling recent sales near your home. Your valuation is on its way by email, and "
        "a local agent may reach out to walk you through it."
    )
    lead_questions = (
        "property_address",
        "postal_code",
        Div(
            Div("bedrooms", css_class="col-6"), Div("bathrooms", css_class="col-6"), css_class="row"
        ),
    )

    property_address = TextField(
        max_length=255,
        label="Property address",
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
        error_messages={"required": "Please enter the address of the home to value."},
    )
    postal_code = TextField(
        max_length=12,
        required=False,
        label="ZIP / postal code",
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    bedrooms = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=20,
        label="Bedrooms",
        error_messages={"invalid": "Please enter a number of bedrooms, like 3."},
    )
    bathrooms = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=20,
        max_digits=3,
        decimal_places=1,
        label="Bathrooms",
        widget=forms.NumberInput(attrs={"step": "0.5"}),
        error_messages={"invalid": "Please enter a number of bathrooms, like 2 or 2.5."},
    )

    def lead_side(self):
        return Side.SELLER


class ListingAdForm(IntakeForm):
    source = Source.LISTING_AD
    title = "Ask about this home"
    intro = "Get the details, the price history and a time to see it."
    submit_label = "Send my request"
    thank_you = (
        "We have your request. You will get the details of this home shortly, and an agent will "
        "contact you about it."
    )
    lead_questions = ("property_address", "asked_for_showing", "message")

    property_address = TextField(
        max_length=255,
        label="The home you are asking about",
        error_messages={"required": "Please tell us which home you are asking about."},
    )
    asked_for_showing = forms.BooleanField(required=False, label="I'd like to see it in person")
    message = TextField(
        max_length=2000, required=False, multiline=True, label="Anything you'd like to know?"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prefill("property_address", self.query.get("listing"))

    def lead_side(self):
        return Side.BUYER


class GiveawayForm(IntakeForm):
    source = Source.GIVEAWAY
    can_end = True
    title = "Enter the giveaway"
    intro = "Leave your name and how to reach you. Good luck!"
    submit_label = "Enter"
    thank_you = (
        "You are entered. We will let you know if you win, and send you the odd bit of local "
        "news worth having, nothing more."
    )


class OpenHouseForm(IntakeForm):
    source = Source.OPEN_HOUSE
    title = "Welcome! Please sign in"
    intro = "Thanks for visiting. Sign in and we will send you the details of this home."
    submit_label = "Sign in"
    thank_you = (
        "Thanks for visiting. We will send you the details of this home and of others like it."
    )
    lead_questions = ("open_house", "side")

    open_house = TextField(
        max_length=200,
        label="Which open house are you visiting?",
        error_messages={"required": "Please tell us which open house you are visiting."},
    )
    side = forms.ChoiceField(
        label="Are you…",
        widget=forms.RadioSelect,
        choices=[
            (Side.BUYER, "Looking to buy"),
            (Side.SELLER, "Thinking of selling"),
            (Side.BOTH, "Both buying and selling"),
            (Side.UNKNOWN, "A neighbor, just looking"),
        ],
        error_messages={
            "required": "Please tell us whether you are buying, selling or a neighbour."
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prefill("open_house", self.query.get("event"))
        if self.kiosk and self.query.get("event"):
            # The tablet at this open house: every visitor signs in to it, none retypes it.
            self.fields["open_house"].widget.attrs["readonly"] = True

    def lead_side(self):
        return self.cleaned_data["side"]

    def lead_fields(self):
        fields = super().lead_fields()
        if fields["side"] == Side.UNKNOWN:
            fields["inquiry_type"] = InquiryType.NEIGHBOUR
        return fields


class WebsiteForm(IntakeForm):
    source = Source.WEBSITE
    title = "How can we help?"
    intro = "Ask us anything about buying, selling or the neighborhoods we know."
    submit_label = "Send my question"
    thank_you = "Thanks for your question. You will hear back from us shortly."
    lead_questions = ("inquiry_type", "message")

    inquiry_type = forms.ChoiceField(
        label="I'm asking about",
        widget=forms.RadioSelect,
        choices=[
            (InquiryType.BUYING, "Buying a home"),
            (InquiryType.SELLING, "Selling a home"),
            (InquiryType.NEIGHBOURHOOD, "A neighborhood"),
            (InquiryType.MARKET_QUESTION, "A market question"),
        ],
        error_messages={"required": "Please choose what your question is about."},
    )
    message = TextField(max_length=2000, required=False, multiline=True, label="Your question")

    def lead_side(self):
        return {InquiryType.BUYING: Side.BUYER, InquiryType.SELLING: Side.SELLER}.get(
            self.cleaned_data["inquiry_type"], Side.UNKNOWN
        )


class ReactivationForm(IntakeForm):
    source = Source.REACTIVATION
    title = "It's been a while. What's new?"
    intro = "Confirm your details and tell us what has changed. We will pick up where we left off."
    submit_label = "Update my details"
    thank_you = "Thanks for updating us. We will be in touch soon."
    lead_questions = ("side", "message")

    side = forms.ChoiceField(
        label="Are you thinking of…",
        widget=forms.RadioSelect,
        choices=[
            (Side.BUYER, "Buying"),
            (Side.SELLER, "Selling"),
            (Side.BOTH, "Both"),
            (Side.UNKNOWN, "Not sure yet"),
        ],
        error_messages={"required": "Please choose one, even if it is “Not sure yet”."},
    )
    message = TextField(
        max_length=2000,
        required=False,
        multiline=True,
        label="What has changed since we last spoke?",
    )

    def lead_side(self):
        return self.cleaned_data["side"]


# URL slug → form. The slug is the only thing that sets a lead's source.
INTAKE_FORMS: dict[str, type[IntakeForm]] = {
    "valuation": ValuationForm,
    "listing-ad": ListingAdForm,
    "giveaway": GiveawayForm,
    "open-house": OpenHouseForm,
    "website": WebsiteForm,
    "reactivation": ReactivationForm,
}
FORM_FOR_SOURCE = {form.source: form for form in INTAKE_FORMS.values()}


@dataclass(frozen=True)
class IntakeCopy:
    """What a form says, as shown: the broker's FormCopy row, or the form's shipped wording."""

    headline: str
    intro: str
    submit_label: str
    thank_you: str
    prize: str = ""
    rules: str = ""
    ends_on: date | None = None

    def ended(self, today: date) -> bool:
        """A giveaway is open through its end date (the brokerage's day), closed after it."""
        return self.ends_on is not None and today > self.ends_on


def _form_copy_rows() -> dict[str, FormCopy]:
    return {row.source: row for row in FormCopy.objects.all()}


def intake_copy(form_class: type[IntakeForm]) -> IntakeCopy:
    """The form's copy (every form's in one query, then from memory while unchanged:
    leads.rulebook), with the class's own wording when it has no row."""
    row = rulebook_cached("form_copy", _form_copy_rows).get(form_class.source)
    if row is None:
        return IntakeCopy(
            headline=form_class.title,
            intro=form_class.intro,
            submit_label=form_class.submit_label,
            thank_you=form_class.thank_you,
        )
    return IntakeCopy(
        headline=row.headline,
        intro=row.intro,
        submit_label=row.submit_label,
        thank_you=row.thank_you,
        prize=row.prize,
        rules=row.rules,
        ends_on=row.ends_on,
    )

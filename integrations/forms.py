"""The broker's "make a lead from this" form for an email no parser could read: prefilled with
what was found in it, validated like the intake forms (the same fields and messages), its cleaned
answers handed to integrations.email.services.inbound_email_make_lead."""

from django import forms
from django.core.exceptions import ValidationError

from leads.forms import EMAIL_MAX_LENGTH, PhoneField, TextField
from leads.models import Side, Source, Timeline
from leads.names import person_name
from leads.phones import phone_display, phone_e164
from leads.selectors import assignable_users
from leads.timelines import timeline_from_text

NO_TIMELINE = ""


class InboxLeadForm(forms.Form):
    first_name = TextField(max_length=100, required=False, label="First name")
    last_name = TextField(max_length=100, required=False, label="Last name")
    email = forms.EmailField(
        max_length=EMAIL_MAX_LENGTH,
        required=False,
        label="Email",
        error_messages={"invalid": "Enter a valid email address, like name@example.com."},
    )
    phone = PhoneField(required=False, label="Phone")
    source = forms.ChoiceField(
        choices=Source.choices,
        label="Source",
        help_text="The message angle: a seller's home value, a listing, an open house…",
    )
    timeline = forms.ChoiceField(
        choices=[(NO_TIMELINE, "Not given (the source's default applies)")]
        + [(value, label) for value, label in Timeline.choices if value != Timeline.UNKNOWN],
        required=False,
        label="When are they thinking of moving?",
    )
    side = forms.ChoiceField(choices=Side.choices, initial=Side.UNKNOWN, label="Side")
    property_address = TextField(max_length=255, required=False, label="Property address")
    asked_for_showing = forms.BooleanField(required=False, label="Asked to see the property")
    message = TextField(max_length=2000, required=False, multiline=True, label="Their message")
    owner = forms.ModelChoiceField(
        queryset=assignable_users(),
        required=False,
        empty_label="By the assignment rules",
        label="Owner",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].label_from_instance = person_name

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if len(email) > EMAIL_MAX_LENGTH:
            raise ValidationError("This email address is too long to use.", code="email_too_long")
        return email

    def clean(self):
        cleaned = super().clean()
        contact_errors = self.errors.get("email") or self.errors.get("phone")
        if not contact_errors and not cleaned.get("email") and not cleaned.get("phone"):
            raise ValidationError(
                "Give an email address or a phone number: a lead needs a way to reach them.",
                code="no_contact",
            )
        return cleaned

    def lead_fields(self) -> dict:
        """The answers as intake's Lead fields (blanks left out, the side always given)."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in (
                "first_name",
                "last_name",
                "email",
                "phone",
                "timeline",
                "property_address",
                "message",
                "asked_for_showing",
            )
            if data.get(name) not in (None, "", False)
        }
        fields["side"] = data["side"]
        return fields


def initial_from_found(found: dict, owner_pk=None) -> dict:
    """The form's starting values from what the email gave (as written: the form cleans them
    when the broker sends it)."""
    phone = str(found.get("phone") or "")
    timeline = found.get("timeline") or timeline_from_text(found.get("time_frame") or "") or ""
    initial = {
        "first_name": str(found.get("first_name") or "")[:100],
        "last_name": str(found.get("last_name") or "")[:100],
        "email": str(found.get("email") or "")[:EMAIL_MAX_LENGTH],
        "phone": phone_display(phone_e164(phone) or "") or phone[:30],
        "source": found.get("source") if found.get("source") in Source.values else Source.WEBSITE,
        "timeline": timeline if timeline in Timeline.values else NO_TIMELINE,
        "side": found.get("side") if found.get("side") in Side.values else Side.UNKNOWN,
        "property_address": str(found.get("property_address") or "")[:255],
        "message": str(found.get("message") or "")[:2000],
        "owner": owner_pk or found.get("owner"),
    }
    return {key: value for key, value in initial.items() if value not in (None, "")}

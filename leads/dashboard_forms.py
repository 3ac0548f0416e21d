"""Forms of the agent dashboard: parse and validate what an agent typed, nothing more.

Each form's view calls one service or flow with the cleaned data (leads/services.py,
realtycrm/flows/).
"""

import re
import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError

from .forms import PhoneField, TextField
from .models import Intent, Lead, LeadEvent, SavedFilter, Side, Stage, Timeline
from .names import person_name
from .selectors import MAX_SAVED_FILTERS, assignable_users

NOTE = "note"
LOG_KINDS = [*LeadEvent.Channel.choices, (NOTE, "Note")]
NOTE_MAX = 240  # a timeline entry's summary holds 255 characters, with the channel's label


class LogForm(forms.Form):
    """A personal contact (call, text, email, in person) or a note, from the lead page or Today."""

    kind = forms.ChoiceField(
        choices=LOG_KINDS, error_messages={"invalid_choice": "Choose call, text, email or note."}
    )
    note = TextField(
        required=False,
        multiline=True,
        max_length=NOTE_MAX,
        label="Note",
        error_messages={"max_length": f"Keep it under {NOTE_MAX} characters."},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == NOTE and not cleaned.get("note"):
            self.add_error("note", "Write the note first.")
        return cleaned


class ClassifyForm(forms.Form):
    """Correct what the lead told us, or override the intent; routing re-segments the lead."""

    timeline = forms.ChoiceField(choices=Timeline.choices, label="Timeline")
    side = forms.ChoiceField(choices=Side.choices, label="Side")
    intent = forms.ChoiceField(choices=Intent.choices, label="Intent")

    def __init__(self, *args, lead: Lead, **kwargs):
        kwargs.setdefault(
            "initial", {"timeline": lead.timeline, "side": lead.side, "intent": lead.intent}
        )
        super().__init__(*args, **kwargs)
        self.lead = lead

    def changes(self) -> dict:
        """Only what the agent changed. An unchanged intent follows the new answers; a changed
        one is the agent's call and overrides them."""
        return {
            field: value
            for field, value in self.cleaned_data.items()
            if value != getattr(self.lead, field)
        }


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=Stage.choices, label="Stage")
    note = TextField(
        required=False, max_length=100, label="Why (optional)", help_text="e.g. Chose another agent"
    )

    def __init__(self, *args, lead: Lead, **kwargs):
        kwargs.setdefault("initial", {"stage": lead.stage})
        super().__init__(*args, **kwargs)


class ContactForm(forms.Form):
    """The lead's contact details; the phone is read in any format and stored E.164."""

    first_name = TextField(max_length=100, required=False, label="First name")
    last_name = TextField(max_length=100, required=False, label="Last name")
    email = forms.EmailField(
        max_length=254,
        required=False,
        error_messages={"invalid": "Please enter a valid email address, like name@example.com."},
    )
    phone = PhoneField(required=False, label="Phone")
    property_address = TextField(max_length=255, required=False, label="Property address")
    neighbourhood = TextField(max_length=100, required=False, label="Neighborhood")
    postal_code = TextField(max_length=12, required=False, label="ZIP / postal code")

    def __init__(self, *args, lead: Lead, **kwargs):
        kwargs.setdefault("initial", {name: getattr(lead, name) for name in self.base_fields})
        super().__init__(*args, **kwargs)

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        if (
            not self.has_error("email")
            and not self.has_error("phone")
            and not cleaned.get("email")
            and not cleaned.get("phone")
        ):
            raise ValidationError("Keep an email address or a phone number to reach them.")
        return cleaned


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=assignable_users(),
        label="Owner",
        empty_label=None,
        error_messages={"invalid_choice": "Choose an active agent."},
    )

    def __init__(self, *args, lead: Lead, **kwargs):
        kwargs.setdefault("initial", {"owner": lead.owner_id})
        super().__init__(*args, **kwargs)
        self.fields["owner"].label_from_instance = person_name


class SavedFilterForm(forms.Form):
    name = TextField(
        max_length=60,
        label="Name this list",
        error_messages={"required": "Give the list a name."},
        widget=forms.TextInput(attrs={"placeholder": "e.g. Hot sellers, Forest Park"}),
    )
    query = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)
    pinned = forms.BooleanField(required=False, initial=True, label="Pin it")

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_name(self):
        name = self.cleaned_data["name"]
        if SavedFilter.objects.filter(owner=self.owner, name__iexact=name).exists():
            raise ValidationError(f"You already have a list called “{name}”.")
        return name

    def clean(self):
        cleaned = super().clean()
        if SavedFilter.objects.filter(owner=self.owner).count() >= MAX_SAVED_FILTERS:
            raise ValidationError(
                f"You have {MAX_SAVED_FILTERS} lists already; delete one to save another."
            )
        return cleaned


# --- Follow-up: one-off messages, tasks, automation (leads/views/followup.py) -------------------

ASKED_TO_STOP, DID_NOT = "stop", "not_stop"


class OptOutAnswerForm(forms.Form):
    """The owner's answer to "did they ask to stop?" about the lead's texts."""

    answer = forms.ChoiceField(
        choices=[(ASKED_TO_STOP, "They asked to stop"), (DID_NOT, "They did not")]
    )


SMS, EMAIL = "sms", "email"
ONE_OFF_MAX = {SMS: 1600, EMAIL: 5000}  # a text: ten segments (the outbox refuses more)
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def one_off_token() -> str:
    """A fresh token for a one-off form: submitting the same form twice sends once."""
    return secrets.token_hex(16)


class OneOffForm(forms.Form):
    """An agent's own text or email to the lead, sent through the outbox."""

    channel = forms.ChoiceField(choices=[(SMS, "Text"), (EMAIL, "Email")], widget=forms.HiddenInput)
    subject = TextField(required=False, max_length=200, label="Subject")
    body = TextField(
        multiline=True, label="Message", error_messages={"required": "Write a message first."}
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=32)
    # Shown when the lead's texts may have asked to stop (sequences: an opt-out question).
    confirmed_not_stop = forms.BooleanField(required=False, label="They did not ask to stop: send")

    def __init__(self, data=None, *args, channel: str = SMS, **kwargs):
        posted = data.get("channel") if data is not None else None
        # Which of the page's two forms this is (templates read form.channel as the field).
        self.chosen_channel = posted if posted in ONE_OFF_MAX else channel
        kwargs.setdefault("initial", {"channel": self.chosen_channel, "token": one_off_token()})
        kwargs.setdefault("auto_id", f"id_{self.chosen_channel}_%s")  # two on a page
        super().__init__(data, *args, **kwargs)
        self.fields["body"].widget.attrs["maxlength"] = ONE_OFF_MAX[self.chosen_channel]

    def clean_token(self):
        token = self.cleaned_data["token"]
        if not _TOKEN.match(token):
            raise ValidationError("This form is out of date; reload the page and try again.")
        return token

    def clean(self):
        cleaned = super().clean()
        body, channel = cleaned.get("body") or "", cleaned.get("channel")
        if channel in ONE_OFF_MAX and len(body) > ONE_OFF_MAX[channel]:
            what = "A text" if channel == SMS else "An email"
            self.add_error("body", f"{what} can be at most {ONE_OFF_MAX[channel]:,} characters.")
        return cleaned


# Snooze a task until …: the choices and when each one is, in the user's own time zone.
SNOOZE_CHOICES = [
    ("1h", "1 hour"),
    ("tomorrow", "Tomorrow 9:00"),
    ("monday", "Monday 9:00"),
]
MORNING = time(9, 0)


def snooze_until(choice: str, *, now: datetime, zone: ZoneInfo) -> datetime:
    """When a task snoozed now with `choice` is due again. "Tomorrow 9:00" and "Monday 9:00"
    are on the wall clock where the user is, daylight saving time included; Monday from a
    Monday is next week's."""
    if choice == "1h":
        return now + timedelta(hours=1)
    today = now.astimezone(zone).date()
    if choice == "tomorrow":
        day = today + timedelta(days=1)
    elif choice == "monday":
        day = today + timedelta(days=7 - today.weekday())
    else:
        raise ValueError(f"Unknown snooze choice {choice!r}")
    return datetime.combine(day, MORNING, tzinfo=zone)


class SnoozeForm(forms.Form):
    until = forms.ChoiceField(
        choices=SNOOZE_CHOICES,
        error_messages={"invalid_choice": "Choose when to be reminded again."},
    )

    def __init__(self, *args, now: datetime, zone: ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.now, self.zone = now, zone

    def clean_until(self) -> datetime:
        return snooze_until(self.cleaned_data["until"], now=self.now, zone=self.zone)


class PauseForm(forms.Form):
    reason = TextField(
        required=False,
        max_length=150,
        label="Why (optional)",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Talking to them by phone"}),
    )

"""Forms of the campaign pages, and of an agent's follow-ups and appointments: parse what a
person typed, nothing more (the views call sequences.services.campaigns, the follow-up and
appointment services, or realtycrm.flows.appointments with the cleaned data)."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import dateformat

from leads.dashboard_forms import one_off_token
from leads.forms import TextField
from leads.models import Relationship, Tag
from leads.names import person_name
from leads.selectors import assignable_users

from .campaigns import Criteria
from .models import Appointment, ReactivationCampaign, Task, Template

CAMPAIGN_TEMPLATE_PREFIX = "campaign_"


def campaign_templates(channel: str):
    """The copy a campaign may start from (Template rows keyed campaign_…, editable in the
    admin)."""
    return Template.objects.filter(
        key__startswith=CAMPAIGN_TEMPLATE_PREFIX, channel=channel, variant=""
    ).order_by("key")


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_name(obj)


class CampaignForm(forms.ModelForm):
    """A draft: its name, the smart list and the copy. The criteria alone are read for the
    live count (`criteria()`), even while the copy is still being written."""

    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.all(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="Contacts with any of these tags (none chosen: any).",
    )
    owner = OwnerChoiceField(
        queryset=assignable_users(), required=False, empty_label="Any owner", label="Owner"
    )
    relationship = forms.ChoiceField(
        choices=[("", "Any relationship"), *Relationship.choices],
        required=False,
        label="Previous relationship",
    )
    last_contact_before = forms.DateField(
        required=False,
        label="Last contact before",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Contacts not reached since this day (or never).",
    )

    class Meta:
        model = ReactivationCampaign
        fields = [
            "name",
            "tags",
            "owner",
            "relationship",
            "last_contact_before",
            "email_subject",
            "email_body",
            "sms_body",
        ]
        labels = {
            "name": "Campaign name",
            "email_subject": "Email subject",
            "email_body": "Email",
            "sms_body": "Text message (optional)",
        }
        widgets = {
            "email_body": forms.Textarea(attrs={"rows": 10}),
            "sms_body": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "email_body": "Placeholders such as {first_name}, {agent_name} and "
            "{reactivation_link} (each contact's personal link; added at the end if you leave it "
            "out). The postal address and unsubscribe link are added to every email.",
            "sms_body": "Only contacts with SMS consent get it. Keep it short: the link and, on a "
            "first text, “Reply STOP to opt out.” are part of it.",
        }

    def criteria(self) -> Criteria:
        """The smart list as typed so far (fields that do not validate count as "any")."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        data = self.cleaned_data
        owner = data.get("owner")
        return Criteria(
            tag_ids=tuple(sorted(tag.pk for tag in data.get("tags") or ())),
            owner_id=owner.pk if owner is not None else None,
            last_contact_before=data.get("last_contact_before"),
            relationship=data.get("relationship") or "",
        )

    def campaign_fields(self) -> dict:
        """The cleaned values as campaign_save takes them."""
        data = self.cleaned_data
        return {name: data[name] for name in self.Meta.fields if name != "tags"}


class StartFromForm(forms.Form):
    """Which shipped (or broker-written) campaign copy a new campaign starts from."""

    start = forms.ModelChoiceField(
        queryset=campaign_templates(Template.Channel.EMAIL),
        required=False,
        empty_label=None,
        label="Start from",
        to_field_name="key",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start"].label_from_instance = lambda template: (
            template.description or template.key
        )

    def initial_copy(self) -> dict:
        """The subject and body (and the shipped text) a new campaign starts with."""
        template = self.cleaned_data.get("start") if self.is_valid() else None
        template = template or campaign_templates(Template.Channel.EMAIL).first()
        sms = campaign_templates(Template.Channel.SMS).first()
        copy = {}
        if template is not None:
            copy |= {"email_subject": template.subject, "email_body": template.body}
        if sms is not None:
            copy["sms_body"] = sms.body
        return copy


# --- An agent's follow-ups and appointments (leads/views/appointments.py) ------------------------

_TOKEN = re.compile(r"^[0-9a-f]{32}$")
FURTHEST = timedelta(days=2 * 365)  # a date further ahead is a typo (2062 for 2026)
GRACE = timedelta(minutes=1)  # "now" typed on a slow phone is not in the past

# What an agent schedules for themselves: the personal touches (answering a reply, reviewing and
# re-engaging are what automation asks for).
FOLLOW_UP_KINDS = [
    (Task.Kind.CALL, "Call"),
    (Task.Kind.TEXT, "Text"),
    (Task.Kind.EMAIL, "Email"),
    (Task.Kind.CHECK_IN, "Check in"),
]
# A follow-up's title when the agent gives none ("Call Dana Whitfield").
FOLLOW_UP_TITLES = {
    Task.Kind.CALL: "Call {lead}",
    Task.Kind.TEXT: "Text {lead}",
    Task.Kind.EMAIL: "Email {lead}",
    Task.Kind.CHECK_IN: "Check in with {lead}",
}
DURATIONS = [
    (15, "15 min"),
    (30, "30 min"),
    (45, "45 min"),
    (60, "1 hour"),
    (90, "1 h 30 min"),
    (120, "2 hours"),
    (180, "3 hours"),
]


class _WhenForm(forms.Form):
    """A day and a time on the wall clock of the person typing (`zone`), read as one moment
    (`cleaned_data["at"]`) that must be ahead of `now` and within two years. Each mistake is
    said on the field it belongs to."""

    date = forms.DateField(
        label="Day",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Choose the day.", "invalid": "Enter a day like 2026-05-05."},
    )
    time = forms.TimeField(
        label="Time",
        widget=forms.TimeInput(attrs={"type": "time"}),
        error_messages={"required": "Choose the time.", "invalid": "Enter a time like 10:00."},
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def __init__(self, *args, now: datetime, zone: ZoneInfo, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("token", one_off_token())
        super().__init__(*args, **kwargs)
        self.now, self.zone = now, zone

    def clean_token(self):
        token = self.cleaned_data["token"]
        if not _TOKEN.match(token):
            raise ValidationError("This form is out of date; reload the page and try again.")
        return token

    def clean(self):
        cleaned = super().clean()
        day, at_time = cleaned.get("date"), cleaned.get("time")
        if day is None or at_time is None:
            return cleaned
        wall = datetime.combine(day, at_time.replace(second=0, microsecond=0))
        # One moment, in UTC: arithmetic on a zone's datetime is on its wall clock, so an hour
        # after 1:30 a.m. on the night clocks go back would end at 2:30, two hours later.
        at = wall.replace(tzinfo=self.zone).astimezone(UTC)
        today = self.now.astimezone(self.zone).date()
        if at.astimezone(self.zone).replace(tzinfo=None) != wall:
            # The hour the clocks skip in spring: 2:30 a.m. would silently become 3:30.
            time_text, day_text = dateformat.format(wall, "g:i a"), dateformat.format(wall, "M j")
            self.add_error(
                "time",
                f"{time_text} does not exist on {day_text}: the clocks go forward that night. "
                "Choose another time.",
            )
        elif day < today:
            self.add_error("date", "That day has passed: choose today or a later day.")
        elif at < self.now - GRACE:
            self.add_error("time", "That time has passed: choose a later one.")
        elif at > self.now + FURTHEST:
            self.add_error("date", "Choose a day within the next two years.")
        else:
            cleaned["at"] = at
        return cleaned


class FollowUpForm(_WhenForm):
    """An agent's own follow-up task: "call back Tuesday 10:00"."""

    kind = forms.ChoiceField(
        choices=FOLLOW_UP_KINDS,
        label="What",
        initial=Task.Kind.CALL,
        error_messages={"invalid_choice": "Choose call, text, email or check in."},
    )
    title = TextField(
        required=False,
        max_length=200,
        label="Title",
        error_messages={"max_length": "Keep the title under 200 characters."},
        widget=forms.TextInput(attrs={"placeholder": "e.g. Call back about the offer"}),
    )
    notes = TextField(
        required=False,
        multiline=True,
        max_length=1000,
        label="Notes",
        error_messages={"max_length": "Keep the notes under 1,000 characters."},
    )
    field_order = ["kind", "title", "date", "time", "notes", "token"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_follow_up_%s")
        super().__init__(*args, **kwargs)


class AppointmentForm(_WhenForm):
    """Book an appointment: its kind, day, time, length, place and notes."""

    kind = forms.ChoiceField(
        choices=Appointment.Kind.choices,
        label="Kind",
        error_messages={
            "required": "Choose the kind of appointment.",
            "invalid_choice": "Choose the kind of appointment.",
        },
    )
    duration = forms.TypedChoiceField(
        choices=DURATIONS,
        coerce=int,
        initial=60,
        label="Length",
        error_messages={"invalid_choice": "Choose how long it takes."},
    )
    place = TextField(
        required=False,
        max_length=255,
        label="Place",
        error_messages={"max_length": "Keep the place under 255 characters."},
        widget=forms.TextInput(attrs={"placeholder": "The address, or “Our office”"}),
    )
    notes = TextField(
        required=False,
        multiline=True,
        max_length=2000,
        label="Notes",
        error_messages={"max_length": "Keep the notes under 2,000 characters."},
    )
    field_order = ["kind", "date", "time", "duration", "place", "notes", "token"]

    def __init__(self, *args, lead=None, **kwargs):
        kwargs.setdefault("auto_id", "id_appointment_%s")
        if lead is not None:
            kwargs.setdefault("initial", {}).setdefault("place", lead.property_address)
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if "at" in cleaned and cleaned.get("duration"):
            cleaned["ends_at"] = cleaned["at"] + timedelta(minutes=cleaned["duration"])
        return cleaned


class RescheduleForm(AppointmentForm):
    """A booked appointment's new day, time, length or place (its kind and notes stay)."""

    field_order = ["date", "time", "duration", "place"]

    def __init__(self, *args, appointment: Appointment, **kwargs):
        zone = kwargs["zone"]
        start = appointment.starts_at.astimezone(zone)
        minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
        kwargs.setdefault("auto_id", f"id_reschedule_{appointment.pk}_%s")
        kwargs.setdefault(
            "initial",
            {
                "date": start.date(),
                "time": start.time().replace(second=0, microsecond=0),
                "duration": minutes if minutes in dict(DURATIONS) else 60,
                "place": appointment.place,
            },
        )
        super().__init__(*args, **kwargs)
        # Its kind and notes stay; moving it twice to the same time changes nothing, so it needs
        # no token against a double submit.
        del self.fields["kind"], self.fields["notes"], self.fields["token"]
        if minutes not in dict(DURATIONS):  # booked elsewhere with another length: keep it
            self.fields["duration"].choices = [*DURATIONS, (minutes, f"{minutes} min")]


class CancelForm(forms.Form):
    notify_lead = forms.BooleanField(required=False, initial=True, label="Let them know")
    reason = TextField(
        required=False,
        max_length=150,
        label="Why (optional)",
        error_messages={"max_length": "Keep it under 150 characters."},
    )


class OutcomeForm(forms.Form):
    """How a booked appointment went: done, or the lead did not come."""

    status = forms.ChoiceField(
        choices=[(Appointment.Status.DONE, "Done"), (Appointment.Status.NO_SHOW, "No-show")],
        error_messages={
            "required": "Choose done or no-show.",
            "invalid_choice": "Choose done or no-show.",
        },
    )

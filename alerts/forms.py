from django import forms

from leads.models import Agent
from leads.phones import phone_e164, phone_example

WEEKDAYS = [
    ("0", "Mon"),
    ("1", "Tue"),
    ("2", "Wed"),
    ("3", "Thu"),
    ("4", "Fri"),
    ("5", "Sat"),
    ("6", "Sun"),
]


class AvailabilityForm(forms.ModelForm):
    """An agent pauses new leads, and sets working hours and quiet hours for non-urgent alerts."""

    work_days = forms.MultipleChoiceField(
        choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple, required=False, label="Working days"
    )

    class Meta:
        model = Agent
        fields = [
            "phone",
            "paused",
            "paused_reason",
            "work_start",
            "work_end",
            "work_days",
            "alert_quiet_start",
            "alert_quiet_end",
        ]
        labels = {
            "phone": "Your mobile number (alert texts and calls ring it)",
            "paused": "Pause new leads (vacation, off duty)",
            "paused_reason": "Why (shown to your broker)",
            "work_start": "Working hours from",
            "work_end": "to",
            "alert_quiet_start": "Quiet hours for non-urgent alerts from",
            "alert_quiet_end": "to",
        }
        widgets = {
            name: forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            for name in ("work_start", "work_end", "alert_quiet_start", "alert_quiet_end")
        }
        error_messages = {
            name: {"invalid": "Enter a time like 08:30."}
            for name in ("work_start", "work_end", "alert_quiet_start", "alert_quiet_end")
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and not self.is_bound:
            self.initial["work_days"] = list(self.instance.work_days)

    def clean_phone(self):
        """Stored E.164 like every number; a call-connect rings it before dialing the lead."""
        typed = self.cleaned_data["phone"].strip()
        if not typed:
            return ""
        number = phone_e164(typed)
        if number is None:
            raise forms.ValidationError(f"Enter a phone number like {phone_example()}.")
        return number

    def clean_work_days(self):
        return "".join(sorted(self.cleaned_data["work_days"]))

    def clean(self):
        cleaned = super().clean()
        for start, end, what in (
            ("work_start", "work_end", "working hours"),
            ("alert_quiet_start", "alert_quiet_end", "quiet hours"),
        ):
            if (cleaned.get(start) is None) != (cleaned.get(end) is None):
                self.add_error(end, f"Give both ends of your {what}, or neither.")
        return cleaned

"""The report's filters: a date range, optionally one agent, the trend's grain.

Bad input answers with a message on the form (and a 400), never an error page.
"""

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from leads.names import person_name
from leads.selectors import user_is_broker

from .selectors import Scope, agent_choices

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366  # three years: enough for any trend, small enough to answer quickly
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)  # beyond these, time zone arithmetic breaks
DATE = {"type": "date", "class": "form-control form-control-sm", "min": EARLIEST, "max": LATEST}
SELECT = {"class": "form-select form-select-sm"}


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return person_name(user)


class ReportFilterForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs=DATE))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs=DATE))
    agent = AgentChoiceField(
        queryset=None,
        required=False,
        empty_label="All agents",
        label="Agent",
        widget=forms.Select(attrs=SELECT),
    )
    grain = forms.ChoiceField(
        label="Trend by",
        choices=[("week", "Week"), ("month", "Month")],
        widget=forms.Select(attrs=SELECT),
    )

    def __init__(self, data=None, *, user, **kwargs):
        today = timezone.localdate()
        defaults = {
            "start": (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
            "end": today.isoformat(),
            "grain": "week",
        }
        # The filters live in the query string; what it leaves out (or blank) is the default,
        # so the form is always bound and always shows what the report covers.
        given = {key: value for key, value in (data or {}).items() if value}
        super().__init__({**defaults, **given}, **kwargs)
        if user_is_broker(user):
            self.fields["agent"].queryset = agent_choices()
        else:
            # Agents see their own leads' report only: no choice to offer.
            del self.fields["agent"]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        for name, day in (("start", start), ("end", end)):
            if day and not EARLIEST <= day <= LATEST:
                self.add_error(name, f"Pick a date from {_day(EARLIEST)} to {_day(LATEST)}.")
        if self.errors:
            return cleaned
        if start and end:
            if end < start:
                raise forms.ValidationError(
                    "The end date is before the start date: pick a “To” on or after “From”."
                )
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(
                    f"Pick a range of at most {MAX_DAYS} days (three years); this one has "
                    f"{(end - start).days + 1}."
                )
        return cleaned

    def scope(self) -> Scope:
        """The validated filters (call after is_valid())."""
        data = self.cleaned_data
        return Scope(
            start=data["start"], end=data["end"], agent=data.get("agent"), grain=data["grain"]
        )


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"

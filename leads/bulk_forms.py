"""The leads list's bulk form and the lead page's tag form: parse and validate, nothing more.

The bulk form names the action, what it needs (an owner, a stage, a tag, a track, a reason) and
the selection: the ticked rows (`lead`, repeated) or every lead matching the list's filter
(`all` with the list's `query`). Which of those leads the person may change is decided later,
by leads.bulk, never by what the form says.
"""

from django import forms
from django.core.exceptions import ValidationError

from realtycrm.http import ascii_digits

from .bulk import MAX_PICKED
from .forms import TextField
from .models import BulkJob, Lead, Stage, Tag
from .names import person_name
from .selectors import assignable_users
from .services import TAG_MAX_LENGTH, tag_name_clean

Action = BulkJob.Action
EXPORT = "export"
ACTION_CHOICES = [*Action.choices, (EXPORT, "Export CSV")]
TRACKS = Lead._meta.get_field("nurture_track").related_model
# What each action needs besides the selection.
NEEDS = {
    Action.REASSIGN: "owner",
    Action.STAGE: "stage",
    Action.TAG_ADD: "tag",
    Action.TAG_REMOVE: "tag",
    Action.TRACK: "track",
}
MISSING = {
    "owner": "Choose who gets the leads.",
    "stage": "Choose the stage.",
    "tag": "Type the tag.",
    "track": "Choose the track.",
}


class LeadIdsField(forms.Field):
    """The ticked rows' lead ids (`lead`, repeated): whole numbers, at most MAX_PICKED."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        if len(values) > MAX_PICKED:
            raise ValidationError(
                f"Tick at most {MAX_PICKED:,} leads, or choose all the leads matching the filter."
            )
        ids = []
        for item in values:
            text = str(item).strip()
            if not ascii_digits(text) or len(text) > 18:
                raise ValidationError("The selection is not a list of leads; reload the page.")
            ids.append(int(text))
        return sorted(set(ids))


class TagNameField(TextField):
    def clean(self, value):
        return tag_name_clean(super().clean(value))


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=ACTION_CHOICES, error_messages={"invalid_choice": "Choose what to do."}
    )
    lead = LeadIdsField(required=False)
    all = forms.BooleanField(required=False)
    query = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)
    owner = forms.ModelChoiceField(
        queryset=assignable_users(),
        required=False,
        label="New owner",
        error_messages={"invalid_choice": "Choose an active agent."},
    )
    stage = forms.ChoiceField(
        choices=[("", "Choose…"), *Stage.choices], required=False, label="Stage"
    )
    note = TextField(required=False, max_length=100, label="Why (optional)")
    tag = TagNameField(
        required=False,
        max_length=TAG_MAX_LENGTH,
        label="Tag",
        widget=forms.TextInput(attrs={"list": "tag-names", "placeholder": "e.g. VIP"}),
    )
    track = forms.ModelChoiceField(
        queryset=TRACKS.objects.all(),
        required=False,
        label="Track",
        error_messages={"invalid_choice": "Choose one of the tracks."},
    )
    reason = TextField(
        required=False,
        max_length=150,
        label="Why (optional)",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Talking to them by phone"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].label_from_instance = person_name

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        needed = NEEDS.get(action)
        if needed and not cleaned.get(needed) and not self.has_error(needed):
            self.add_error(needed, MISSING[needed])
        if action == Action.TAG_REMOVE and cleaned.get("tag"):
            tag = Tag.objects.filter(name__iexact=cleaned["tag"]).order_by("id").first()
            if tag is None:
                self.add_error("tag", f"No lead has a tag called “{cleaned['tag']}”.")
            cleaned["existing_tag"] = tag
        if not self.has_error("lead") and not cleaned.get("all") and not cleaned.get("lead"):
            raise ValidationError("Tick the leads to change first.")
        return cleaned

    @property
    def is_export(self) -> bool:
        return self.cleaned_data.get("action") == EXPORT

    def job_params(self, tag: Tag | None = None) -> dict:
        """What the job stores: ids, and a label for the page ("Reassign to Sam Chen")."""
        data, action = self.cleaned_data, self.cleaned_data["action"]
        if action == Action.REASSIGN:
            owner = data["owner"]
            return {"owner": owner.pk, "label": f"Reassign to {person_name(owner)}"}
        if action == Action.STAGE:
            label = f"Stage: {Stage(data['stage']).label}"
            return {"stage": data["stage"], "note": data["note"], "label": label}
        if action in (Action.TAG_ADD, Action.TAG_REMOVE):
            verb = "Add tag" if action == Action.TAG_ADD else "Remove tag"
            return {"tag": tag.pk, "label": f"{verb} “{tag.name}”"}
        if action == Action.TRACK:
            track = data["track"]
            return {"track": track.pk, "label": f"Move to {track}"}
        if action == Action.PAUSE:
            return {"reason": data["reason"], "label": "Pause automation"}
        return {"label": "Resume automation"}


class TagForm(forms.Form):
    """A tag added on the lead page, or one taken off it (by name)."""

    name = TagNameField(
        max_length=TAG_MAX_LENGTH,
        label="Add a tag",
        error_messages={
            "required": "Type the tag first.",
            "max_length": f"A tag is at most {TAG_MAX_LENGTH} characters.",
        },
    )


class TagRemoveForm(forms.Form):
    """The tag taken off the lead page (its id: names typed long ago may hold odd spacing)."""

    tag = forms.IntegerField(min_value=1, error_messages={"invalid": "Choose a tag to remove."})

"""The import pages' forms: the file, and the mapping with the import's options."""

from django import forms

from ..models import OnDuplicate
from ..names import person_name
from ..selectors import assignable_users
from .columns import COLUMN_CHOICES
from .files import max_upload_bytes
from .services import mapping_problems


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Contacts file",
        help_text="CSV or Excel (.xlsx), with a header row naming the columns.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt,.tsv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = max_upload_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the most an import takes is "
                f"{limit // 1024 // 1024} MB. Split it into smaller files."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return person_name(user)


class MappingForm(forms.Form):
    """One choice per column of the file (guessed), the owner of rows naming none, what to do
    with a row matching an existing lead, and the consent wording when there are consent dates."""

    owner = OwnerChoiceField(
        queryset=assignable_users(),
        required=False,
        empty_label="Nobody (unassigned)",
        label="Owner of rows that name no owner",
    )
    on_duplicate = forms.ChoiceField(
        choices=OnDuplicate.choices,
        initial=OnDuplicate.SKIP,
        widget=forms.RadioSelect,
        label="A row matching a lead we already have (same email or phone)",
    )
    consent_wording = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="SMS consent wording",
        help_text="Only if a column holds the dates contacts agreed to texts: paste the exact "
        "wording they agreed to. It is kept as evidence with each of their consents.",
    )

    def __init__(self, *args, batch, **kwargs):
        super().__init__(*args, **kwargs)
        self.batch = batch
        self.column_names = []
        for index, header in enumerate(batch.headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                choices=COLUMN_CHOICES,
                required=False,
                label=header or f"Column {index + 1}",
                initial=batch.mapping[index] if index < len(batch.mapping) else "",
            )
            self.column_names.append(name)
        if not self.is_bound:
            self.initial.setdefault("owner", batch.owner_id)
            self.initial.setdefault("on_duplicate", batch.on_duplicate)
            self.initial.setdefault("consent_wording", batch.consent_wording)

    def column_fields(self):
        return [self[name] for name in self.column_names]

    def clean(self):
        cleaned = super().clean()
        mapping = [cleaned.get(name, "") or "" for name in self.column_names]
        for problem in mapping_problems(
            self.batch.headers, mapping, cleaned.get("consent_wording", "")
        ):
            self.add_error(None, problem)
        cleaned["mapping"] = mapping
        return cleaned

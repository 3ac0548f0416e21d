"""Forms of the campaign pages: parse what a broker typed, nothing more (the views call
sequences.services.campaigns with the cleaned data)."""

from django import forms

from leads.models import Relationship, Tag
from leads.names import person_name
from leads.selectors import assignable_users

from .campaigns import Criteria
from .models import ReactivationCampaign, Template

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

"""The leads list's filters (django-filter), its sort orders, and saved-filter query strings.

The view hands in a queryset already narrowed by `lead_visible_to`; nothing here widens it.
"""

import functools
from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q
from django.http import QueryDict
from django.utils import timezone
from django_filters.fields import ChoiceField, ModelChoiceField, MultipleChoiceField
from django_filters.widgets import DateRangeWidget

from .models import Channel, Intent, Lead, Side, Source, Stage, Tag, Timeline
from .names import person_name
from .selectors import (
    assignable_users,
    lead_search,
    origins_visible_to,
    tags_visible_to,
    user_is_broker,
)

# The tracks a lead can be in: the model its nurture_track points at (sequences sits above leads).
TRACKS = Lead._meta.get_field("nurture_track").related_model

# ?sort= value → ORDER BY. Every order ends on the primary key so pages never overlap.
SORTS = {
    "-created": (F("created_at").desc(), F("id").desc()),
    "created": (F("created_at").asc(), F("id").asc()),
    "name": (F("last_name").asc(), F("first_name").asc(), F("id").asc()),
    "-name": (F("last_name").desc(), F("first_name").desc(), F("id").desc()),
    # "Longest without a personal touch" first: never contacted comes before anything dated.
    "last_contact": (F("last_personal_contact_at").asc(nulls_first=True), F("id").asc()),
    "-last_contact": (F("last_personal_contact_at").desc(nulls_last=True), F("id").desc()),
}
DEFAULT_SORT = "-created"
SORT_CHOICES = [
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("name", "Name A–Z"),
    ("-name", "Name Z–A"),
    ("last_contact", "Longest without contact"),
    ("-last_contact", "Most recently contacted"),
]


def _choices(choices):
    return [(value, label) for value, label in choices]


class UserChoiceField(ModelChoiceField):
    def label_from_instance(self, user):
        return person_name(user)


class OwnerFilter(django_filters.ModelChoiceFilter):
    field_class = UserChoiceField


class OriginField(ChoiceField):
    """A choice among the origins the user's leads have, that still takes any other origin (a
    saved list or a link naming one the cached choices do not hold yet): matched exactly, so
    the lead_origin_created index finds it."""

    def valid_value(self, value):
        return isinstance(value, str) and 0 < len(value) <= 200


class OriginFilter(django_filters.ChoiceFilter):
    field_class = OriginField


class TagField(MultipleChoiceField):
    """One or more tag names, among those of the user's leads, that still takes any other name
    (a saved list or a link naming a tag the page does not offer yet)."""

    def valid_value(self, value):
        return isinstance(value, str) and 0 < len(value) <= TAG_NAME_MAX


class TagFilter(django_filters.MultipleChoiceFilter):
    field_class = TagField


TAG_NAME_MAX = Tag._meta.get_field("name").max_length
MAX_FILTER_TAGS = 5


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, email, phone or address"}
        ),
    )
    source = django_filters.ChoiceFilter(choices=_choices(Source.choices), empty_label="Any")
    intent = django_filters.ChoiceFilter(choices=_choices(Intent.choices), empty_label="Any")
    timeline = django_filters.ChoiceFilter(choices=_choices(Timeline.choices), empty_label="Any")
    side = django_filters.ChoiceFilter(choices=_choices(Side.choices), empty_label="Any")
    channel = django_filters.ChoiceFilter(choices=_choices(Channel.choices), empty_label="Any")
    origin = OriginFilter(choices=[], empty_label="Any")
    stage = django_filters.ChoiceFilter(choices=_choices(Stage.choices), empty_label="Any")
    track = django_filters.ModelChoiceFilter(
        field_name="nurture_track", queryset=TRACKS.objects.all(), empty_label="Any"
    )
    owner = OwnerFilter(queryset=assignable_users(), empty_label="Anyone", null_label="Unassigned")
    # Imported contacts who have not re-engaged (leads.imports): listed, never in a new-lead queue.
    dormant = django_filters.ChoiceFilter(
        choices=[("true", "Dormant only"), ("false", "Not dormant")],
        method=lambda queryset, name, value: queryset.filter(dormant=value == "true"),
        empty_label="Any",
    )
    # Leads with every tag named (?tag=VIP&tag=pool): each is an EXISTS on the tags' through
    # table (indexed by lead and tag), so no join multiplies the rows and no DISTINCT is needed.
    # Names match exactly, as the choices and the rows' tag links spell them.
    tag = TagFilter(choices=[], method="filter_tags", label="Tags")
    neighbourhood = django_filters.CharFilter(
        label="Neighborhood",
        lookup_expr="iexact",
        max_length=100,
        widget=forms.TextInput(attrs={"list": "hoods"}),
    )
    no_contact_days = django_filters.NumberFilter(
        method="filter_no_contact_days",
        label="No personal contact in (days)",
        min_value=1,
        max_value=3650,
        widget=forms.NumberInput(attrs={"min": 1, "max": 3650, "placeholder": "e.g. 30"}),
    )
    never_contacted = django_filters.BooleanFilter(
        method="filter_never_contacted",
        label="Never personally contacted",
        widget=forms.CheckboxInput,
    )
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at",
        label="Created between",
        widget=DateRangeWidget(attrs={"type": "date"}),
    )
    sort = django_filters.ChoiceFilter(
        method="filter_sort", choices=SORT_CHOICES, empty_label=None, label="Sort"
    )

    class Meta:
        model = Lead
        fields = []

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        if request is None or not user_is_broker(request.user):
            # An agent sees only their own leads: filtering by owner would mean nothing.
            del self.filters["owner"]
        # The origins of the leads this user sees (another agent's would tell them too much),
        # and the one asked for even when it is not among them yet.
        origins = origins_visible_to(request.user) if request is not None else []
        asked = (self.data or {}).get("origin", "")
        if isinstance(asked, str) and 0 < len(asked) <= 200 and asked not in origins:
            origins = [*origins, asked]
        self.filters["origin"].extra["choices"] = [(name, name) for name in origins]
        # Likewise the tags: those on the user's own leads, and any asked for. Read once, when
        # the list filters by a tag or shows the form (TagField takes any name meanwhile).
        user = request.user if request is not None else None
        self.tags_visible = functools.cache(lambda: tags_visible_to(user) if user else [])
        asked_tags = self.data.getlist("tag") if hasattr(self.data, "getlist") else []
        self.filters["tag"].extra["choices"] = functools.cache(
            lambda: _tag_choices([name for _pk, name in self.tags_visible()], asked_tags)
        )

    @property
    def form(self):
        """The filter form with Bootstrap's classes on its widgets (rendered without crispy: the
        list is the busiest page, and crispy costs more than the rest of it)."""
        form = super().form
        if not getattr(form, "styled", False):
            for field in form.fields.values():
                widget = field.widget
                css = {
                    forms.Select: "form-select",
                    forms.CheckboxInput: "form-check-input",
                }.get(type(widget), "form-control")
                if not isinstance(widget, DateRangeWidget):
                    widget.attrs["class"] = css
            form.styled = True
        return form

    @property
    def sort_key(self) -> str:
        value = self.form.cleaned_data.get("sort") if self.is_bound and self.is_valid() else None
        return value if value in SORTS else DEFAULT_SORT

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*SORTS[self.sort_key])

    def filter_search(self, queryset, name, value):
        return lead_search(queryset, value)

    def filter_tags(self, queryset, name, values):
        """The names become ids first (the user's tags, read for the form anyway): with
        `tag_id = 7` the planner knows from its statistics how common the tag is, and reads a
        common one's leads newest first off the created index, probing the through table,
        rather than sorting all its leads."""
        names = list(dict.fromkeys(values))[:MAX_FILTER_TAGS]
        known = {name: pk for pk, name in self.tags_visible()}
        missing = [name for name in names if name not in known]
        if missing:  # more tags than the form offers, or one the cached list does not hold yet
            known.update(Tag.objects.filter(name__in=missing).values_list("name", "pk"))
        if any(name not in known for name in names):
            return queryset.none()  # no such tag
        tag_ids = [known[name] for name in names]
        through = Lead.tags.through.objects
        for tag_id in tag_ids:
            queryset = queryset.filter(
                Exists(through.filter(lead_id=OuterRef("pk"), tag_id=tag_id))
            )
        return queryset

    def filter_no_contact_days(self, queryset, name, value):
        since = timezone.now() - timedelta(days=int(value))
        return queryset.filter(
            Q(last_personal_contact_at__isnull=True) | Q(last_personal_contact_at__lt=since)
        )

    def filter_never_contacted(self, queryset, name, value):
        return queryset.filter(first_personal_contact_at__isnull=True) if value else queryset

    def filter_sort(self, queryset, name, value):
        return queryset  # applied last, in filter_queryset


def _tag_choices(names: list[str], asked: list) -> list[tuple[str, str]]:
    names += [name for name in asked if isinstance(name, str) and name not in names]
    return [(name, name) for name in names]


def _query_keys(filterset) -> tuple[str, ...]:
    """The query-string keys a FilterSet reads, in its order (a date range reads two)."""
    keys = []
    for name, declared in filterset.base_filters.items():
        if isinstance(declared, django_filters.DateFromToRangeFilter):
            keys += [f"{name}_after", f"{name}_before"]
        else:
            keys.append(name)
    return tuple(keys)


# Keys a saved filter keeps: the filters themselves and the sort, never the page number.
SAVED_KEYS = _query_keys(LeadFilter)


def normalised_query(params: QueryDict) -> str:
    """The list's query string as a saved filter keeps it: known keys, non-empty, in one order."""
    kept = QueryDict(mutable=True)
    for key in SAVED_KEYS:
        for value in params.getlist(key):
            value = value.strip()[:200]
            if value:
                kept.appendlist(key, value)
    return kept.urlencode()

"""A lead's tags on its page: add one (a new name makes a new tag), take one off. Each change is
on the timeline ("Tag added: VIP"), and answers like every action on the lead page
(leads/views/lead.py: the lead re-rendered, or 422 with the message next to the form)."""

from django.views.decorators.http import require_POST

from ..bulk_forms import TagForm, TagRemoveForm
from ..selectors import lead_for_dashboard
from ..services import leads_tag_add, leads_tag_remove, tag_get_or_create
from .base import dashboard_view
from .lead import action_done, action_invalid


@require_POST
@dashboard_view
def lead_tag_add(request, pk):
    lead = lead_for_dashboard(request.user, pk)
    form = TagForm(request.POST)
    if not form.is_valid():
        return action_invalid(request, lead, tag_form=form)
    tag = tag_get_or_create(form.cleaned_data["name"])
    if not leads_tag_add([lead], tag, actor=request.user):
        return action_done(request, lead, f"Already tagged “{tag.name}”.")
    return action_done(request, lead, f"Tagged “{tag.name}”.")


@require_POST
@dashboard_view
def lead_tag_remove(request, pk):
    lead = lead_for_dashboard(request.user, pk)
    form = TagRemoveForm(request.POST)
    if not form.is_valid():
        return action_invalid(request, lead, message="Choose a tag to remove.")
    tag = lead.tags.filter(pk=form.cleaned_data["tag"]).first()
    if tag is None:
        return action_done(request, lead, "Nothing changed.")
    leads_tag_remove([lead], tag, actor=request.user)
    return action_done(request, lead, f"Tag “{tag.name}” removed.")

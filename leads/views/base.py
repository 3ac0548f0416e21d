"""What every dashboard view shares: sign-in required, and answers that suit htmx."""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from ..selectors import user_time_zone

# Fired (HX-Trigger) after any change to a lead, so every part of a page showing it can refresh.
LEAD_CHANGED = "lead-changed"


def dashboard_view(view):
    """Signed-in users only, their times shown in their own time zone. An htmx request whose
    session ended sends the whole page to the sign-in form, which returns to the page (not to
    the fragment) afterwards."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            with timezone.override(user_time_zone(request.user)):
                return view(request, *args, **kwargs)
        if request.htmx:
            page = request.htmx.current_url_abs_path or "/"
            login = redirect_to_login(page, resolve_url(settings.LOGIN_URL))
            return HttpResponseClientRedirect(login["Location"])
        return redirect_to_login(request.get_full_path())

    return wrapper


def safe_next(request, default: str) -> str:
    """The ?next= / next= to go back to after a plain (non-htmx) POST, if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class PageSlice:
    """One page of a list shown newest first with "Show more": the rows and whether more
    follow, in one query (no count). Enough for a panel that only ever goes forward."""

    MAX_PAGE = 10_000  # an absurd ?page= must not become an OFFSET the database refuses

    def __init__(self, queryset, per_page: int, number=1):
        try:
            self.number = min(max(int(number), 1), self.MAX_PAGE)
        except (TypeError, ValueError):
            self.number = 1
        start = (self.number - 1) * per_page
        rows = list(queryset[start : start + per_page + 1])
        self.object_list = rows[:per_page]
        self.has_next = len(rows) > per_page

    def next_page_number(self) -> int:
        return self.number + 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

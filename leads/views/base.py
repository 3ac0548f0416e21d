"""What every dashboard view shares: sign-in required, and answers that suit htmx."""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

# Fired (HX-Trigger) after any change to a lead, so every part of a page showing it can refresh.
LEAD_CHANGED = "lead-changed"


def dashboard_view(view):
    """Signed-in users only. An htmx request whose session ended sends the whole page to the
    sign-in form, which returns to the page (not to the fragment) afterwards."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
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

"""Site-wide pages: the installable app's manifest and service worker, and the
sign-in and password-reset forms with their throttles.

django-axes locks a username + client address after LOGIN_FAILURE_LIMIT wrong passwords, on both
sign-in forms (it sits in AUTHENTICATION_BACKENDS); `login_locked_out` is the page it answers
with. On top, django-ratelimit counts POSTs per client address (LOGIN_RATE_LIMIT) and password
reset requests per address asked for and per client address, in the shared cache.
"""

from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit

from .http import public_page, rate_limit_key

# The brand blue of static/css/site.css (--brand): the installed app's title bar.
THEME_COLOR = "#1f4e79"


@public_page
@require_GET
def webmanifest(request):
    """The web app manifest: the dashboard installs as an app named for the brokerage, opening
    on Today in a window of its own. Public (browsers fetch it without cookies); no lead data."""
    name = settings.BROKERAGE_NAME
    icon = "webapp/icon-{}.png"
    response = JsonResponse(
        {
            "id": "/",
            "name": name,
            "short_name": settings.WEBAPP_SHORT_NAME or name,
            "description": f"Leads, alerts and follow-ups at {name}.",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "theme_color": THEME_COLOR,
            "background_color": "#ffffff",
            "icons": [
                {"src": static(icon.format(192)), "sizes": "192x192", "type": "image/png"},
                {"src": static(icon.format(512)), "sizes": "512x512", "type": "image/png"},
                {
                    "src": static(icon.format("maskable-512")),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
        },
        content_type="application/manifest+json",
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


@public_page
@require_GET
def service_worker(request):
    """The service worker, from the site root so that its scope is the whole dashboard. It
    shows pushed alerts and handles taps on them; it caches nothing (no fetch handler: the
    dashboard's pages carry lead data and are never stored). Browsers check it for updates
    themselves; `no-cache` makes every check ask us."""
    response = render(request, "webapp/sw.js", content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    # What the worker itself may load: this origin only (it fetches the claim endpoints).
    response["Content-Security-Policy"] = "default-src 'self'"
    return response


def favicon(request):
    """Browsers ask for /favicon.ico on a page without a <link rel="icon"> (the admin's): the
    brokerage's icon, not a 404 in the log. The static URL is read per request (in production
    it carries the file's hash, known once collectstatic has run)."""
    return redirect(static("img/favicon.svg"))


def _rate(setting_name):
    """A rate read from settings at request time (tests and operators may change it)."""
    return lambda group, request: getattr(settings, setting_name)


def login_locked_out(request, original_response=None, credentials=None):
    """The answer to a sign-in that is locked out or throttled: what happened and when to retry.

    django-axes calls it (AXES_LOCKOUT_CALLABLE) with the response it replaces and the credentials.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def _sign_in_throttled(view):
    """At most LOGIN_RATE_LIMIT sign-in POSTs per client address, whatever the usernames."""

    @ratelimit(
        key=rate_limit_key,
        rate=_rate("LOGIN_RATE_LIMIT"),
        method="POST",
        block=False,
        group="login",
    )
    @wraps(view)
    def throttled(request, *args, **kwargs):
        if getattr(request, "limited", False):
            return login_locked_out(request)
        return view(request, *args, **kwargs)

    return throttled


login = _sign_in_throttled(auth_views.LoginView.as_view())
admin_login = _sign_in_throttled(admin.site.login)


def _reset_email(group, request) -> str:
    """The address a reset is asked for, as Django matches it (case does not matter)."""
    return request.POST.get("email", "").strip().lower()[:254]


_password_reset = auth_views.PasswordResetView.as_view()


@ratelimit(
    key=rate_limit_key,
    rate=_rate("PASSWORD_RESET_RATE_PER_IP"),
    method="POST",
    block=False,
    group="reset-ip",
)
@ratelimit(
    key=_reset_email,
    rate=_rate("PASSWORD_RESET_RATE_PER_EMAIL"),
    method="POST",
    block=False,
    group="reset-email",
)
def password_reset(request):
    """Django's reset form, with no more than a few emails per address and per client an hour."""
    if getattr(request, "limited", False):
        response = render(request, "registration/password_reset_throttled.html", status=429)
        response["Retry-After"] = "3600"
        return response
    return _password_reset(request)

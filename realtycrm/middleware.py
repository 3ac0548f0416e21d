"""Response headers every page of the app gets, unless its view says it is public; and the
answers counted for /metrics (MetricsMiddleware, at the end).

- `Cache-Control: private, no-store` on every response whose view is not marked public
  (realtycrm.http.public_page): dashboard pages, their htmx fragments, JSON feeds, the admin,
  the sign-in pages. A lead's phone number must not stay in a shared proxy, or in the browser's
  cache after the agent signs out. The public intake forms, their thank-you pages and the privacy
  notice are left as they were (they may be cached, and framed: leads/views/public.py), and static
  files never reach this middleware (WhiteNoise answers them first).
- A Content-Security-Policy (DASHBOARD_CSP) on the dashboard's HTML pages: scripts, styles,
  images and requests from this origin only, no inline script or style, no framing. The
  templates carry no inline script, style or event handler (static/js, static/css), so the policy
  needs no nonce. The Django admin is left without it (its own widgets are not ours to vouch for).
"""

from django.conf import settings

from . import metrics

NO_STORE = "private, no-store"


class PrivatePagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "_public_page", False):
            return response
        response["Cache-Control"] = NO_STORE
        response.headers.pop("Expires", None)
        is_html = response.get("Content-Type", "").startswith("text/html")
        if is_html and not _is_admin(request) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.DASHBOARD_CSP
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        request._public_page = getattr(view_func, "public_page", False)


def _is_admin(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and "admin" in match.namespaces


# The endpoints other systems call (docs/deployment.md, "Providers' webhooks"; docs/channels.md):
# an error answered to one of them is a webhook failure (a bad signature is a 403).
WEBHOOKS = {
    "sequences:twilio-inbound",
    "sequences:twilio-status",
    "sequences:sendgrid-events",
    "integrations:meta-leadgen",
    "integrations:inbound-email",
    "alerts:call-answer",
    "alerts:call-connect",
    "alerts:call-whisper",
    "alerts:call-dialed",
    "alerts:call-status",
    "alerts:call-lead-status",
    "api:events",
    "api:people",
}


class MetricsMiddleware:
    """Counts what no view reports itself (realtycrm.metrics): a webhook or API request answered
    with an error, and an intake form POST answered with the form again (its errors: invalid,
    nothing stored; a stored one is answered with a redirect to the thank-you page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is None:
            return response
        if response.status_code >= 400 and match.view_name in WEBHOOKS:
            metrics.webhook_failure_count(endpoint=match.view_name, status=response.status_code)
        elif (
            match.view_name == "leads:intake"
            and request.method == "POST"
            and response.status_code == 200
        ):
            # The form's slug is its source with dashes (listing-ad → listing_ad).
            source = match.kwargs.get("slug", "").replace("-", "_")
            metrics.intake_count(channel="form", source=source, outcome="invalid")
        return response

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from integrations.api import api

from . import views
from .monitoring import views as monitoring

# The admin is the brokerage's, not "Django administration".
admin.site.site_header = settings.BROKERAGE_NAME
admin.site.site_title = f"{settings.BROKERAGE_NAME} admin"
admin.site.index_title = "Administration"

urlpatterns = [
    # The two sign-in forms and the reset request, throttled (realtycrm/views.py); listed before
    # the admin's and django.contrib.auth's own patterns for the same paths, so these answer.
    path("admin/login/", views.admin_login),
    path("admin/", admin.site.urls),
    # Load balancers and Prometheus (realtycrm/monitoring/views.py; docs/deployment.md).
    path("healthz", monitoring.healthz, name="healthz"),
    path("metrics", monitoring.metrics_view, name="metrics"),
    # The installable app: at the root, so the service worker's scope is the whole site.
    path("manifest.webmanifest", views.webmanifest, name="webmanifest"),
    path("sw.js", views.service_worker, name="service-worker"),
    # Browsers ask for it on every page without a <link rel="icon"> (the admin's).
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/login/", views.login, name="login"),
    path("accounts/password_reset/", views.password_reset, name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("reports/", include("reports.urls")),
    # The Events API: /api/v1/events, /api/v1/people, /api/v1/openapi.json, /api/v1/docs.
    path("api/v1/", api.urls),
    path("", include("integrations.urls")),
    path("", include("leads.urls")),
    path("", include("sequences.urls")),
    path("alerts/", include("alerts.urls")),
]

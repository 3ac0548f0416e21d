"""The channels' public endpoints: each authenticates its sender its own way (API key, secret
URL token, Meta's signature), never with a session, so none uses CSRF."""

from django.urls import path

from .api import api

urlpatterns = [
    # The Events API: /api/v1/events, /api/v1/people, /api/v1/openapi.json, /api/v1/docs.
    path("api/v1/", api.urls),
]

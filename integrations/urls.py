"""The channels' public endpoints: each authenticates its sender its own way (API key, secret
URL token, Meta's signature), never with a session, so none uses CSRF."""

from django.urls import path

from . import webhooks

app_name = "integrations"

urlpatterns = [
    path("webhooks/meta/leadgen/", webhooks.meta_leadgen, name="meta-leadgen"),
]

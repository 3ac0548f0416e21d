"""The channels' public endpoints: each authenticates its sender its own way (API key, secret
URL token, Meta's signature), never with a session, so none uses CSRF."""

from django.urls import path

from .inbound_email import inbound_email

urlpatterns = [
    # SendGrid Inbound Parse: the secret token is the only credential it can send.
    path("inbound/email/<str:token>/", inbound_email, name="inbound-email"),
]

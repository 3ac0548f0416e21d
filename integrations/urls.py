"""The channels' endpoints. The public ones authenticate their sender their own way (API key,
secret URL token, Meta's signature), never with a session, so none uses CSRF; the dashboard's
screens (brokers only) are signed in like every other page."""

from django.urls import path

from . import views, webhooks
from .inbound_email import inbound_email

app_name = "integrations"

urlpatterns = [
    path("webhooks/meta/leadgen/", webhooks.meta_leadgen, name="meta-leadgen"),
    # SendGrid Inbound Parse: the secret token is the only credential it can send.
    path("inbound/email/<str:token>/", inbound_email, name="inbound-email"),
    # The portal emails no parser could read, each one click from a lead.
    path("integrations/inbox/", views.inbox, name="inbox"),
    path("integrations/inbox/<int:pk>/", views.inbox_email, name="inbox-email"),
    path("integrations/inbox/<int:pk>/dismiss/", views.inbox_dismiss, name="inbox-dismiss"),
]

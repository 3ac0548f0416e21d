from django.urls import path

from . import views, webhooks

app_name = "sequences"
urlpatterns = [
    path("webhooks/twilio/sms/", webhooks.twilio_inbound, name="twilio-inbound"),
    path("webhooks/twilio/status/", webhooks.twilio_status, name="twilio-status"),
    path("webhooks/sendgrid/events/", webhooks.sendgrid_events, name="sendgrid-events"),
    path("email/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

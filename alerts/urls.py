from django.urls import path

from leads.views import calls

from . import views, webhooks

app_name = "alerts"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("feed/", views.feed, name="feed"),
    path("availability/", views.availability, name="availability"),
    path("<int:pk>/open/", views.open_alert, name="open"),
    path("<int:pk>/ack/", views.acknowledge, name="acknowledge"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("push/subscribe/", views.push_subscribe, name="push-subscribe"),
    path("push/unsubscribe/", views.push_unsubscribe, name="push-unsubscribe"),
    path("push/csrf/", views.push_csrf, name="push-csrf"),
    # Call-connect from an alert, and the signed link in an alert's text (leads/views/calls.py).
    path("<int:pk>/call/", calls.alert_call, name="call"),
    path("call/<str:token>/", calls.call_link, name="call-link"),
    # Twilio Voice's webhooks for one call (signed; alerts/webhooks.py).
    path("calls/<int:pk>/voice/answer/", webhooks.call_answer, name="call-answer"),
    path("calls/<int:pk>/voice/connect/", webhooks.call_connect, name="call-connect"),
    path("calls/<int:pk>/voice/whisper/", webhooks.call_whisper, name="call-whisper"),
    path("calls/<int:pk>/voice/dialed/", webhooks.call_dialed, name="call-dialed"),
    path("calls/<int:pk>/voice/status/", webhooks.call_status, name="call-status"),
    path("calls/<int:pk>/voice/lead-status/", webhooks.call_lead_status, name="call-lead-status"),
]

from django.urls import path

from . import webhooks
from .views import calendar, campaigns, unsubscribe

app_name = "sequences"
urlpatterns = [
    path("webhooks/twilio/sms/", webhooks.twilio_inbound, name="twilio-inbound"),
    path("webhooks/twilio/status/", webhooks.twilio_status, name="twilio-status"),
    path("webhooks/sendgrid/events/", webhooks.sendgrid_events, name="sendgrid-events"),
    path("email/unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
    # Reactivation campaigns (brokers).
    path("campaigns/", campaigns.campaign_list, name="campaign-list"),
    path("campaigns/new/", campaigns.campaign_create, name="campaign-create"),
    path("campaigns/count/", campaigns.campaign_count, name="campaign-count"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign-edit"),
    path("campaigns/<int:pk>/send/", campaigns.campaign_send_view, name="campaign-send"),
    path("campaigns/<int:pk>/progress/", campaigns.campaign_progress, name="campaign-progress"),
    # The signed-in user's account (their calendar link), and the calendar feed itself: no
    # session, the secret in the URL is the key (Google and Apple calendars fetch it).
    path("account/", calendar.account, name="account"),
    path("account/calendar/rotate/", calendar.calendar_rotate, name="calendar-rotate"),
    path("calendar/<int:agent_id>/<str:token>.ics", calendar.calendar_feed, name="calendar-feed"),
]

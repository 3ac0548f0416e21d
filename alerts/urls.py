from django.urls import path

from . import views

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
]

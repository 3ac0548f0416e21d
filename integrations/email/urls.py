"""The channels' screens in the dashboard (signed in, brokers only): the portal emails no parser
could read, each one click from a lead."""

from django.urls import path

from .. import views

app_name = "integrations"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/", views.inbox_email, name="inbox-email"),
    path("inbox/<int:pk>/dismiss/", views.inbox_dismiss, name="inbox-dismiss"),
]

from django.urls import path

from . import views

app_name = "leads"
urlpatterns = [
    path("intake/<slug:slug>/", views.intake, name="intake"),
    path("intake/<slug:slug>/thanks/", views.intake_thanks, name="intake-thanks"),
    path("privacy/", views.privacy, name="privacy"),
]

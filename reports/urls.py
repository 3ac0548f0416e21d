from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.segment_report, name="segment-report"),
    path("export/<slug:table>.csv", views.segment_report_csv, name="segment-report-csv"),
]

from django.urls import path

from .views import (
    appointments,
    bulk,
    calls,
    followup,
    imports,
    lead,
    lead_list,
    public,
    tags,
    today,
)

app_name = "leads"
urlpatterns = [
    # Public: the hosted intake forms (no sign-in).
    path("intake/<slug:slug>/", public.intake, name="intake"),
    path("intake/<slug:slug>/thanks/", public.intake_thanks, name="intake-thanks"),
    path("privacy/", public.privacy, name="privacy"),
    # The agent dashboard (signed in; an agent reaches only their own leads).
    path("", today.today, name="today"),
    path("today/<slug:key>/", today.today_section, name="today-section"),
    path("quarantine/<int:pk>/release/", today.quarantine_release, name="quarantine-release"),
    path("leads/", lead_list.lead_list, name="lead-list"),
    path("leads/export.csv", lead_list.lead_export, name="lead-export"),
    path("leads/lists/", lead_list.saved_filter_create_view, name="saved-filter-create"),
    path("leads/lists/<int:pk>/pin/", lead_list.saved_filter_pin, name="saved-filter-pin"),
    path(
        "leads/lists/<int:pk>/delete/",
        lead_list.saved_filter_delete_view,
        name="saved-filter-delete",
    ),
    # Bulk actions on the list's selection (leads/views/bulk.py); a big one is a background job.
    path("leads/bulk/", bulk.bulk_action, name="bulk"),
    path("leads/bulk/<int:pk>/", bulk.bulk_job_detail, name="bulk-job"),
    path("leads/bulk/<int:pk>/progress/", bulk.bulk_job_progress, name="bulk-job-progress"),
    path("leads/bulk/<int:pk>/resume/", bulk.bulk_job_resume_view, name="bulk-job-resume"),
    path("leads/<int:pk>/", lead.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/timeline/", lead.lead_timeline, name="lead-timeline"),
    path("leads/<int:pk>/log/", lead.lead_log, name="lead-log"),
    path("leads/<int:pk>/classify/", lead.lead_classify, name="lead-classify"),
    path("leads/<int:pk>/stage/", lead.lead_stage, name="lead-stage"),
    path("leads/<int:pk>/contact/", lead.lead_contact, name="lead-contact"),
    path("leads/<int:pk>/reassign/", lead.lead_reassign, name="lead-reassign"),
    path("leads/<int:pk>/tags/", tags.lead_tag_add, name="lead-tag-add"),
    path("leads/<int:pk>/tags/remove/", tags.lead_tag_remove, name="lead-tag-remove"),
    path(
        "leads/<int:pk>/reinquiries/<int:event_pk>/accept/",
        lead.lead_reinquiry_accept,
        name="reinquiry-accept",
    ),
    path(
        "leads/<int:pk>/reinquiries/<int:event_pk>/dismiss/",
        lead.lead_reinquiry_dismiss,
        name="reinquiry-dismiss",
    ),
    # Call-connect: ring the agent's phone, then the lead's (leads/views/calls.py).
    path("leads/<int:pk>/call/", calls.lead_call, name="lead-call"),
    path("leads/<int:pk>/calls/<int:call_pk>/", calls.lead_call_card, name="call-card"),
    path(
        "leads/<int:pk>/calls/<int:call_pk>/outcome/",
        calls.lead_call_outcome,
        name="call-outcome",
    ),
    path("leads/<int:pk>/calls/<int:call_pk>/play/", calls.lead_call_play, name="call-play"),
    # Importing the old database (brokers only).
    path("imports/", imports.import_upload, name="import-upload"),
    path("imports/<int:pk>/", imports.import_detail, name="import-detail"),
    path("imports/<int:pk>/map/", imports.import_map, name="import-map"),
    path("imports/<int:pk>/progress/", imports.import_progress, name="import-progress"),
    path("imports/<int:pk>/start/", imports.import_start, name="import-start"),
    path("imports/<int:pk>/undo/", imports.import_undo, name="import-undo"),
    path("imports/<int:pk>/retry/", imports.import_retry, name="import-retry"),
    path("imports/<int:pk>/not-imported.csv", imports.import_failed_csv, name="import-failed"),
    # Follow-up through the sequences app: messages, one-offs, tasks, automation.
    path("leads/<int:pk>/messages/", followup.lead_messages, name="lead-messages"),
    path("leads/<int:pk>/send/", followup.lead_send, name="lead-send"),
    path(
        "leads/<int:pk>/opt-out/answer/", followup.lead_opt_out_answer, name="lead-opt-out-answer"
    ),
    path("leads/<int:pk>/automation/pause/", followup.lead_automation_pause, name="lead-pause"),
    path("leads/<int:pk>/automation/resume/", followup.lead_automation_resume, name="lead-resume"),
    path("leads/<int:pk>/tasks/", followup.lead_tasks, name="lead-tasks"),
    path("leads/<int:pk>/tasks/<int:task_pk>/done/", followup.task_done, name="task-done"),
    path(
        "leads/<int:pk>/tasks/<int:task_pk>/snooze/",
        followup.task_snooze_view,
        name="task-snooze",
    ),
    # Planning: an agent's own follow-ups and appointments (Today's Plan box loads lead-plan).
    path("leads/<int:pk>/plan/", appointments.lead_plan, name="lead-plan"),
    path("leads/<int:pk>/follow-ups/", appointments.lead_follow_up, name="lead-follow-up"),
    path(
        "leads/<int:pk>/appointments/",
        appointments.lead_appointment_book,
        name="lead-appointment-book",
    ),
    path(
        "leads/<int:pk>/appointments/<int:appointment_pk>/reschedule/",
        appointments.appointment_reschedule_view,
        name="appointment-reschedule",
    ),
    path(
        "leads/<int:pk>/appointments/<int:appointment_pk>/cancel/",
        appointments.appointment_cancel_view,
        name="appointment-cancel",
    ),
    path(
        "leads/<int:pk>/appointments/<int:appointment_pk>/outcome/",
        appointments.appointment_outcome_view,
        name="appointment-outcome",
    ),
]

"""Appointments (and their calendar feed), agents' own follow-ups, and the appointment copy.

Schema: Appointment and CalendarFeed; Task.created_by (a follow-up an agent scheduled); the
"appointment" message purpose; the "email" task kind. Data: what the lead is sent about an
appointment, as templates a broker edits like every other copy (plain ASCII texts, so each stays
in the cheaper GSM-7 encoding; the outbox adds the opt-out line to a first text, and the postal
address and unsubscribe link to every email).
"""

import django.db.models.deletion
import django.utils.timezone
import leads.models
from django.conf import settings
from django.db import migrations, models


SIGN_OFF = "\n\n{agent_name}\n{brokerage} · {agent_phone}"

# (key, channel, description, subject, body)
APPOINTMENT_COPY = [
    (
        "appointment_confirmation_sms",
        "sms",
        "Appointment booked: the text to the lead (with consent), at once",
        "",
        "Hi {first_name}, it's {agent_name} at {brokerage}: your {appointment_kind} is booked "
        "for {appointment_time} at {appointment_place}. See you then! Questions: {agent_phone}",
    ),
    (
        "appointment_confirmation_email",
        "email",
        "Appointment booked: the email to the lead, at once",
        "Your {appointment_kind} with {agent_name}: {appointment_time}",
        "Hi {first_name},\n\nThis confirms your {appointment_kind} with me on "
        "{appointment_time} at {appointment_place}.\n\nIf the time stops working for you, just "
        "reply to this email or call or text me at {agent_phone} and we'll find another."
        + SIGN_OFF,
    ),
    (
        "appointment_reminder_sms",
        "sms",
        "Appointment reminder: the text to the lead (with consent), the day before",
        "",
        "Hi {first_name}, a reminder from {agent_name} at {brokerage}: your {appointment_kind} "
        "is coming up on {appointment_time} at {appointment_place}. Need to change it? Call "
        "{agent_phone}",
    ),
    (
        "appointment_reminder_email",
        "email",
        "Appointment reminder: the email to the lead, the day before",
        "Reminder: your {appointment_kind} on {appointment_time}",
        "Hi {first_name},\n\nA quick reminder of your {appointment_kind} with me on "
        "{appointment_time} at {appointment_place}. I'm looking forward to it.\n\nIf something "
        "came up, reply or call me at {agent_phone} and we'll find another time." + SIGN_OFF,
    ),
    (
        "appointment_moved_sms",
        "sms",
        "Appointment moved: the text to the lead (with consent), at once",
        "",
        "Hi {first_name}, {agent_name} at {brokerage} here: your {appointment_kind} has "
        "changed. It is now {appointment_time} at {appointment_place}. Questions: {agent_phone}",
    ),
    (
        "appointment_moved_email",
        "email",
        "Appointment moved: the email to the lead, at once",
        "New time for your {appointment_kind}: {appointment_time}",
        "Hi {first_name},\n\nYour {appointment_kind} has changed: it is now on "
        "{appointment_time} at {appointment_place}.\n\nIf that doesn't suit you, reply or call "
        "me at {agent_phone}." + SIGN_OFF,
    ),
    (
        "appointment_cancelled_sms",
        "sms",
        "Appointment cancelled: the text to the lead (with consent), at once",
        "",
        "Hi {first_name}, {agent_name} at {brokerage} here: your {appointment_kind} on "
        "{appointment_time} is cancelled. Call or text {agent_phone} to find a new time.",
    ),
    (
        "appointment_cancelled_email",
        "email",
        "Appointment cancelled: the email to the lead, at once",
        "Your {appointment_kind} on {appointment_time} is cancelled",
        "Hi {first_name},\n\nYour {appointment_kind} on {appointment_time} is cancelled.\n\n"
        "Whenever you'd like to find a new time, reply to this email or call me at "
        "{agent_phone}." + SIGN_OFF,
    ),
]


def add_appointment_copy(apps, schema_editor):
    """New keys only: a template a broker already wrote under one of these names is kept."""
    Template = apps.get_model("sequences", "Template")
    for key, channel, description, subject, body in APPOINTMENT_COPY:
        Template.objects.get_or_create(
            key=key,
            variant="",
            defaults={
                "channel": channel,
                "description": description,
                "subject": subject,
                "body": body,
            },
        )


def remove_appointment_copy(apps, schema_editor):
    Template = apps.get_model("sequences", "Template")
    Template.objects.filter(key__in=[row[0] for row in APPOINTMENT_COPY]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0011_lead_channel_index"),
        ("sequences", "0007_reactivation_campaigns"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="purpose",
            field=models.CharField(
                choices=[
                    ("acknowledgment", "Acknowledgment"),
                    ("nurture", "Nurture touch"),
                    ("alert", "Alert to an agent"),
                    ("one_off", "One-off from an agent"),
                    ("service", "Service reply (HELP)"),
                    ("campaign", "Reactivation campaign"),
                    ("appointment", "Appointment"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="step",
            name="task_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("call", "Call"),
                    ("text", "Personal text"),
                    ("check_in", "Check in"),
                    ("review", "Review and plan outreach"),
                    ("re_engage", "Re-engage"),
                    ("reply", "Answer a reply"),
                    ("email", "Email"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="task",
            name="kind",
            field=models.CharField(
                choices=[
                    ("call", "Call"),
                    ("text", "Personal text"),
                    ("check_in", "Check in"),
                    ("review", "Review and plan outreach"),
                    ("re_engage", "Re-engage"),
                    ("reply", "Answer a reply"),
                    ("email", "Email"),
                ],
                max_length=12,
            ),
        ),
        migrations.CreateModel(
            name="CalendarFeed",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("rotated_at", models.DateTimeField(blank=True, null=True)),
                (
                    "agent",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="calendar_feed",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Appointment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("listing_presentation", "Listing presentation"),
                            ("showing", "Showing"),
                            ("buyer_consultation", "Buyer consultation"),
                            ("other", "Other"),
                        ],
                        max_length=24,
                    ),
                ),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField()),
                (
                    "time_zone",
                    models.CharField(default=leads.models.default_time_zone, max_length=64),
                ),
                ("place", models.CharField(blank=True, max_length=255)),
                ("notes", models.TextField(blank=True, max_length=2000)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("booked", "Booked"),
                            ("done", "Done"),
                            ("cancelled", "Cancelled"),
                            ("no_show", "No-show"),
                        ],
                        default="booked",
                        max_length=10,
                    ),
                ),
                ("status_changed_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "sequence",
                    models.PositiveIntegerField(default=0, help_text="Changes so far (iCalendar)."),
                ),
                (
                    "booking_key",
                    models.CharField(blank=True, max_length=64, null=True, unique=True),
                ),
                ("agent_reminder_at", models.DateTimeField(blank=True, null=True)),
                ("lead_reminder_at", models.DateTimeField(blank=True, null=True)),
                (
                    "agent",
                    models.ForeignKey(
                        help_text="Who meets the lead (their calendar feed shows it).",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="appointments",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "lead",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="appointments",
                        to="leads.lead",
                    ),
                ),
            ],
            options={
                "ordering": ["starts_at", "id"],
                "indexes": [
                    models.Index(fields=["agent", "starts_at"], name="appointment_agent_start"),
                    models.Index(fields=["lead", "starts_at"], name="appointment_lead_start"),
                    models.Index(fields=["starts_at"], name="appointment_start"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("ends_at__gt", models.F("starts_at"))),
                        name="appointment_ends_after_start",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status__in", ["booked", "done", "cancelled", "no_show"])
                        ),
                        name="appointment_status_valid",
                    ),
                ],
            },
        ),
        migrations.RunPython(add_appointment_copy, remove_appointment_copy),
    ]

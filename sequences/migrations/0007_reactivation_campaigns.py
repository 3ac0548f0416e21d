"""Reactivation campaigns: the campaign, one recipient row per dormant contact, messages of
purpose "campaign" (marketing: the per-number cap counts them) and when a provider reported a
message delivered; and the copy a broker starts a campaign from (brokers edit it in the admin).

Texts are plain ASCII, to stay in GSM-7; the outbox adds the opt-out line to a first text and the
postal address and unsubscribe link to every email.
"""

import django.db.models.deletion
import django.utils.timezone
import sequences.placeholders
from django.conf import settings
from django.db import migrations, models


SIGN_OFF = "\n\n{agent_name}\n{brokerage} · {agent_phone}"
# (key, channel, description, subject, body)
CAMPAIGN_COPY = [
    (
        "campaign_checkin_email",
        "email",
        "Reactivation campaign: a check-in from their agent",
        "It's been a while, {first_name}",
        "Hi {first_name},\n\nIt's {agent_name} at {brokerage}. It has been a while since we "
        "last spoke, and I wanted to check in: has anything changed for you? A move on the "
        "horizon, a growing family, a question about what your home is worth now?\n\nIf so, "
        "this link takes two minutes: confirm your details, tell me what's new and when you "
        "might move, and I'll take it from there.\n\n{reactivation_link}\n\nIf nothing has "
        "changed, there's no need to reply. I'm glad to stay in touch." + SIGN_OFF,
    ),
    (
        "campaign_value_email",
        "email",
        "Reactivation campaign: what their home is worth now",
        "What your home is worth now, {first_name}",
        "Hi {first_name},\n\nHome values around {neighbourhood} have moved a lot since we last "
        "worked together. If you're curious what yours is worth today, or you're starting to "
        "think about a move, tell me what has changed and when you might move, and I'll send "
        "you the recent sales on your street.\n\n{reactivation_link}" + SIGN_OFF,
    ),
    (
        "campaign_checkin_sms",
        "sms",
        "Reactivation campaign: the text (contacts with SMS consent)",
        "",
        "Hi {first_name}, it's {agent_name} at {brokerage}. It's been a while! Has anything "
        "changed with your plans? Tell me here: {reactivation_link}",
    ),
]


def add_campaign_copy(apps, schema_editor):
    Template = apps.get_model("sequences", "Template")
    for key, channel, description, subject, body in CAMPAIGN_COPY:
        Template.objects.update_or_create(
            key=key,
            variant="",
            defaults={
                "channel": channel,
                "description": description,
                "subject": subject,
                "body": body,
            },
        )


def remove_campaign_copy(apps, schema_editor):
    Template = apps.get_model("sequences", "Template")
    Template.objects.filter(key__in=[row[0] for row in CAMPAIGN_COPY]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0009_dormant_contacts_tags'),
        ('sequences', '0006_opt_out_questions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='delivered_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='message',
            name='purpose',
            field=models.CharField(choices=[('acknowledgment', 'Acknowledgment'), ('nurture', 'Nurture touch'), ('alert', 'Alert to an agent'), ('one_off', 'One-off from an agent'), ('service', 'Service reply (HELP)'), ('campaign', 'Reactivation campaign')], max_length=16),
        ),
        migrations.CreateModel(
            name='ReactivationCampaign',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('last_contact_before', models.DateField(blank=True, help_text='Last personal contact before this day (or never).', null=True)),
                ('relationship', models.CharField(blank=True, choices=[('past_client', 'Past client'), ('past_lead', 'Past lead'), ('sphere', 'Sphere of influence'), ('other', 'Other')], help_text='E.g. past clients.', max_length=12)),
                ('email_subject', models.CharField(max_length=200, validators=[sequences.placeholders.validate_template_text])),
                ('email_body', models.TextField(max_length=5000, validators=[sequences.placeholders.validate_template_text])),
                ('sms_body', models.TextField(blank=True, help_text='Sent only to contacts with SMS consent. Blank: email only.', max_length=1000, validators=[sequences.placeholders.validate_template_text])),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('sending', 'Sending'), ('sent', 'Sent')], default='draft', max_length=10)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('send_started_at', models.DateTimeField(blank=True, null=True)),
                ('sent_at', models.DateTimeField(blank=True, help_text='Every recipient queued.', null=True)),
                ('recipient_count', models.PositiveIntegerField(default=0)),
                ('processed_count', models.PositiveIntegerField(default=0)),
                ('emails_queued', models.PositiveIntegerField(default=0)),
                ('texts_queued', models.PositiveIntegerField(default=0)),
                ('skipped_count', models.PositiveIntegerField(default=0)),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('owner', models.ForeignKey(blank=True, help_text="Only this agent's contacts.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('tags', models.ManyToManyField(blank=True, help_text='Contacts with any of these tags.', related_name='+', to='leads.tag')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='CampaignRecipient',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('pending', 'Waiting for its batch'), ('queued', 'Messages queued'), ('skipped', 'Skipped')], default='pending', max_length=10)),
                ('skip_reason', models.CharField(blank=True, max_length=255)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('queued_at', models.DateTimeField(blank=True, null=True)),
                ('clicked_at', models.DateTimeField(blank=True, null=True)),
                ('reengaged_at', models.DateTimeField(blank=True, null=True)),
                ('reengaged_intent', models.CharField(blank=True, choices=[('hot', 'Hot'), ('warm', 'Warm'), ('long_term', 'Long-term'), ('unknown', 'Unknown')], max_length=12)),
                ('email_message', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sequences.message')),
                ('lead', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='campaign_recipients', to='leads.lead')),
                ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('sms_message', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sequences.message')),
                ('campaign', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='recipients', to='sequences.reactivationcampaign')),
            ],
            options={
                'ordering': ['campaign', 'id'],
                'indexes': [models.Index(fields=['campaign', 'status', 'id'], name='recipient_campaign_status'), models.Index(fields=['lead', '-queued_at'], name='recipient_lead')],
                'constraints': [models.UniqueConstraint(fields=('campaign', 'lead'), name='recipient_one_per_lead')],
            },
        ),
        migrations.RunPython(add_campaign_copy, remove_campaign_copy),
    ]

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0006_leadevent_automation_stopped'),
        ('alerts', '0002_catch_all_rule'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The raw submission lives on Submission only (lead.submissions).
        migrations.RemoveField(
            model_name='lead',
            name='raw_submission',
        ),
        # Ownership lives with the lead: the model moves from alerts, its tables stay where they are
        # (alerts_assignmentrule and alerts_assignmentrule_members).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AssignmentRule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveIntegerField(default=100, help_text='Lower runs first.')),
                        ('name', models.CharField(max_length=100)),
                        ('active', models.BooleanField(default=True)),
                        ('source', models.CharField(blank=True, choices=[('valuation', 'Home valuation funnel'), ('listing_ad', 'Listing ad'), ('giveaway', 'Giveaway'), ('open_house', 'Open house sign-in'), ('website', 'Website inquiry'), ('reactivation', 'Database reactivation')], max_length=20)),
                        ('intent', models.CharField(blank=True, choices=[('hot', 'Hot'), ('warm', 'Warm'), ('long_term', 'Long-term')], max_length=12)),
                        ('side', models.CharField(blank=True, choices=[('seller', 'Seller'), ('buyer', 'Buyer'), ('both', 'Buyer and seller'), ('unknown', 'Unknown')], max_length=10)),
                        ('neighbourhood', models.CharField(blank=True, help_text="Matches the lead's neighbourhood, any case.", max_length=100)),
                        ('postal_code_prefix', models.CharField(blank=True, help_text='Matches postal codes starting with this.', max_length=12)),
                        ('policy', models.CharField(choices=[('round_robin', 'Round robin'), ('first_to_claim', 'First to claim')], default='round_robin', max_length=20)),
                        ('claim_minutes', models.PositiveSmallIntegerField(default=5, help_text='First to claim: minutes before an unclaimed lead goes to the fallback.')),
                        ('backup', models.ForeignKey(blank=True, help_text='Alerted when a hot lead is not acknowledged in time (instead of the brokers).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('fallback', models.ForeignKey(blank=True, help_text='Gets the lead when nobody in the group can take it or claims it in time.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('last_assigned', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('members', models.ManyToManyField(blank=True, help_text='The group. Leave empty for every active agent.', related_name='assignment_rules', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'alerts_assignmentrule',
                        'ordering': ['position', 'id'],
                    },
                ),
            ],
        ),
        migrations.CreateModel(
            name='ClaimOffer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('closed_at', models.DateTimeField(blank=True, null=True)),
                ('agent', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='claim_offers', to=settings.AUTH_USER_MODEL)),
                ('lead', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='claim_offers', to='leads.lead')),
                ('rule', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='leads.assignmentrule')),
            ],
            options={
                'ordering': ['created_at', 'id'],
                'indexes': [models.Index(condition=models.Q(('closed_at__isnull', True)), fields=['agent', 'lead'], name='claimoffer_open_by_agent')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('closed_at__isnull', True)), fields=('lead', 'agent'), name='claimoffer_one_open_per_lead_agent')],
            },
        ),
    ]

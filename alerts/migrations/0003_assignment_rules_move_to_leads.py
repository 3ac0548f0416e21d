import django.db.models.deletion
from django.db import migrations, models


def offers_from_claim_alerts(apps, schema_editor):
    """Open claim alerts on unowned leads become claim offers (who may see and claim the lead)."""
    Alert = apps.get_model("alerts", "Alert")
    ClaimOffer = apps.get_model("leads", "ClaimOffer")
    ClaimOffer.objects.bulk_create(
        ClaimOffer(
            lead_id=alert.lead_id,
            agent_id=alert.agent_id,
            rule_id=alert.rule_id,
            created_at=alert.created_at,
        )
        for alert in Alert.objects.filter(
            reason="claim", closed_at__isnull=True, lead__owner__isnull=True
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_catch_all_rule"),
        ("leads", "0007_ownership_claim_offers"),
    ]

    operations = [
        # State only: the tables stay; the model now belongs to leads (leads/0007).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="alert",
                    name="rule",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="leads.assignmentrule",
                    ),
                ),
                migrations.DeleteModel(name="AssignmentRule"),
            ],
        ),
        migrations.RunPython(offers_from_claim_alerts, migrations.RunPython.noop),
    ]

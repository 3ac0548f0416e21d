"""Ship a catch-all assignment rule: round robin over every active agent. With one agent (a solo
agent's set-up) everything goes to them; with none, to the broker."""

from django.db import migrations


def create_catch_all(apps, schema_editor):
    AssignmentRule = apps.get_model("alerts", "AssignmentRule")
    if not AssignmentRule.objects.exists():
        AssignmentRule.objects.create(
            position=1000, name="Everyone, in turn (catch-all)", policy="round_robin"
        )


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]
    operations = [migrations.RunPython(create_catch_all, migrations.RunPython.noop)]

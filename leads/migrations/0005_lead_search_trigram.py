"""A trigram index for the leads list's search box, on PostgreSQL only.

The search matches every word typed anywhere in one upper-cased text made of the lead's name,
email, phone (E.164 digits) and address (leads.selectors.LeadSearchText builds the very same
expression, so the planner can use this index for `LIKE '%WORD%'`). SQLite, used in development
and in one of the two test runs, has no pg_trgm: there the search scans, which is fine at its size.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS lead_search_trgm ON leads_lead USING gin ("
    "(UPPER(first_name || ' ' || last_name || ' ' || email || ' ' || phone || ' ' || "
    "property_address)) gin_trgm_ops)"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX_SQL)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS lead_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("leads", "0004_dashboard")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]

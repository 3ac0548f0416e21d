"""The six nurture tracks the routing matrix names. Steps come with the sequences work."""

from django.db import migrations

TRACKS = [
    ("hot_seller", "Hot seller", "Within six months of moving: personal call within the hour, "
     "local data for their home, fast follow-up."),
    ("buyer_search", "Buyer search", "Active buyers: the property they asked about, similar "
     "listings, showings."),
    ("homeowner_market_90", "Homeowner market update (90 days)", "Warm sellers and valuation "
     "leads: a 90-day homeowner market-data sequence."),
    ("open_house_followup", "Open house follow-up", "Visitors of an open house: that house, "
     "in person, then similar homes."),
    ("reactivation", "Database reactivation", "Past contacts: speak to the previous "
     "relationship."),
    ("long_term_local", "Long-term local", "Long-term and curious: local resources, no sales "
     "pressure for the first 30 days, then a touch every 30 to 60 days."),
]


def create_tracks(apps, schema_editor):
    Track = apps.get_model("sequences", "Track")
    for key, name, description in TRACKS:
        Track.objects.update_or_create(key=key, defaults={"name": name, "description": description})


class Migration(migrations.Migration):
    dependencies = [("sequences", "0001_initial")]
    operations = [migrations.RunPython(create_tracks, migrations.RunPython.noop)]

"""The default routing matrix (docs/routing.md). Brokers edit it in the admin afterwards.

Blank means "any". The most specific rule wins: source beats intent beats side.
"""

from django.db import migrations

CALL, TEXT, AUTO, SOFT = "personal_call", "targeted_text", "automated", "soft_nurture"

# (source, intent, side, track, alert, first contact, note)
RULES = [
    ("", "hot", "", "hot_seller", True, CALL, "Hot: a personal call within the hour."),
    ("", "hot", "buyer", "buyer_search", True, CALL, "Hot buyers: call, then listings."),
    ("", "warm", "", "homeowner_market_90", False, TEXT, "Warm: same- or next-day personal text."),
    ("", "warm", "buyer", "buyer_search", False, TEXT, "Warm buyers: listings that fit."),
    ("", "long_term", "", "long_term_local", False, SOFT, "Long-term: local value, no pitch."),
    ("", "", "", "long_term_local", False, AUTO, "Catch-all: nothing is left unrouted."),
    ("listing_ad", "hot", "", "buyer_search", True, CALL, "They asked about a specific home."),
    ("listing_ad", "hot", "seller", "hot_seller", True, CALL, "A seller who clicked a listing."),
    ("listing_ad", "warm", "", "buyer_search", False, TEXT, "The property they clicked."),
    ("open_house", "hot", "", "open_house_followup", True, CALL, "Met at the open house: call."),
    ("open_house", "warm", "", "open_house_followup", False, TEXT, "That open house, in person."),
    ("reactivation", "hot", "", "reactivation", True, CALL, "A past contact ready to move."),
    ("reactivation", "warm", "", "reactivation", False, TEXT, "The previous relationship."),
]


def create_rules(apps, schema_editor):
    RoutingRule = apps.get_model("leads", "RoutingRule")
    Track = apps.get_model("sequences", "Track")
    tracks = {track.key: track for track in Track.objects.all()}
    for source, intent, side, track, alert, mode, note in RULES:
        RoutingRule.objects.update_or_create(
            source=source,
            intent=intent,
            side=side,
            defaults={
                "track": tracks[track],
                "alert": alert,
                "first_contact_mode": mode,
                "note": note,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial"), ("sequences", "0002_default_tracks")]
    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]

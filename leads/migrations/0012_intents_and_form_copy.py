"""What a broker edits is data: which answers count as hot, warm or long-term, and what each
intake form says. Seeded with the values that were code until now (leads/segmentation.py's
tables, leads/forms.py's wording, the thank-you texts), so nothing a prospect or an agent sees
changes until a broker edits it (docs/routing.md)."""

from django.db import migrations, models

HOT, WARM, LONG = "hot", "warm", "long_term"
# (kind, answer, intent), in the order the admin lists them.
INTENTS = [
    ("timeline", "within_3_months", HOT),
    ("timeline", "3_to_6_months", HOT),
    ("timeline", "6_to_18_months", WARM),
    ("timeline", "just_curious", LONG),
    ("source", "valuation", WARM),
    ("source", "listing_ad", WARM),
    ("source", "giveaway", LONG),
    ("source", "open_house", WARM),
    ("source", "website", WARM),
    ("source", "reactivation", WARM),
    ("inquiry", "buying", WARM),
    ("inquiry", "selling", WARM),
    ("inquiry", "neighbourhood", LONG),
    ("inquiry", "market_question", LONG),
]

# source: (headline, intro, submit label, thank-you text)
COPY = {
    "valuation": (
        "What is your home worth?",
        "Tell us about your home and we will send you a valuation based on recent local sales.",
        "Get my home's value",
        "We are pulling recent sales near your home. Your valuation is on its way by email, and "
        "a local agent may reach out to walk you through it.",
    ),
    "listing_ad": (
        "Ask about this home",
        "Get the details, the price history and a time to see it.",
        "Send my request",
        "We have your request. You will get the details of this home shortly, and an agent will "
        "contact you about it.",
    ),
    "giveaway": (
        "Enter the giveaway",
        "Leave your name and how to reach you. Good luck!",
        "Enter",
        "You are entered. We will let you know if you win, and send you the odd bit of local "
        "news worth having, nothing more.",
    ),
    "open_house": (
        "Welcome! Please sign in",
        "Thanks for visiting. Sign in and we will send you the details of this home.",
        "Sign in",
        "Thanks for visiting. We will send you the details of this home and of others like it.",
    ),
    "website": (
        "How can we help?",
        "Ask us anything about buying, selling or the neighbourhoods we know.",
        "Send my question",
        "Thanks for your question. You will hear back from us shortly.",
    ),
    "reactivation": (
        "It's been a while. What's new?",
        "Confirm your details and tell us what has changed. We will pick up where we left off.",
        "Update my details",
        "Thanks for updating us. We will be in touch soon.",
    ),
}


def seed(apps, schema_editor):
    IntentMapping = apps.get_model("leads", "IntentMapping")
    FormCopy = apps.get_model("leads", "FormCopy")
    for position, (kind, answer, intent) in enumerate(INTENTS, start=1):
        IntentMapping.objects.get_or_create(
            kind=kind, answer=answer, defaults={"intent": intent, "position": position}
        )
    for source, (headline, intro, submit_label, thank_you) in COPY.items():
        FormCopy.objects.get_or_create(
            source=source,
            defaults={
                "headline": headline,
                "intro": intro,
                "submit_label": submit_label,
                "thank_you": thank_you,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0011_lead_channel_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="FormCopy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("valuation", "Home valuation funnel"),
                            ("listing_ad", "Listing ad"),
                            ("giveaway", "Giveaway"),
                            ("open_house", "Open house sign-in"),
                            ("website", "Website inquiry"),
                            ("reactivation", "Database reactivation"),
                        ],
                        editable=False,
                        max_length=20,
                        unique=True,
                    ),
                ),
                ("headline", models.CharField(max_length=120)),
                (
                    "intro",
                    models.TextField(
                        blank=True, help_text="Shown under the headline.", max_length=600
                    ),
                ),
                ("submit_label", models.CharField(help_text="The button's words.", max_length=40)),
                (
                    "thank_you",
                    models.TextField(
                        blank=True,
                        help_text="The thank-you page, after the form is sent.",
                        max_length=600,
                    ),
                ),
                ("prize", models.CharField(blank=True, help_text="Giveaway only.", max_length=200)),
                (
                    "rules",
                    models.TextField(
                        blank=True,
                        help_text="Giveaway only: the official rules, as text.",
                        max_length=5000,
                    ),
                ),
                (
                    "ends_on",
                    models.DateField(
                        blank=True,
                        help_text="Giveaway only: the last day to enter (the brokerage's time zone). After it the form shows “This giveaway has ended”; anything still sent is kept, not entered.",
                        null=True,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "form copy",
                "verbose_name_plural": "form copy",
                "ordering": ["source"],
            },
        ),
        migrations.CreateModel(
            name="IntentMapping",
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
                            ("timeline", "Timeline answer"),
                            ("source", "Source, when no timeline was given"),
                            ("inquiry", "Website question, when no timeline was given"),
                        ],
                        editable=False,
                        max_length=10,
                    ),
                ),
                ("answer", models.CharField(editable=False, max_length=20)),
                (
                    "intent",
                    models.CharField(
                        choices=[("hot", "Hot"), ("warm", "Warm"), ("long_term", "Long-term")],
                        help_text="Counts for leads classified from now on; leads already classified keep their intent until they are classified again.",
                        max_length=12,
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(default=0, editable=False)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "timeline → intent mapping",
                "verbose_name_plural": "timeline → intent mapping",
                "ordering": ["position", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "answer"), name="intentmapping_one_per_answer"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("intent__in", ["hot", "warm", "long_term"])),
                        name="intentmapping_intent_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                (
                                    "answer__in",
                                    [
                                        "within_3_months",
                                        "3_to_6_months",
                                        "6_to_18_months",
                                        "just_curious",
                                    ],
                                ),
                                ("kind", "timeline"),
                            ),
                            models.Q(
                                (
                                    "answer__in",
                                    [
                                        "valuation",
                                        "listing_ad",
                                        "giveaway",
                                        "open_house",
                                        "website",
                                        "reactivation",
                                    ],
                                ),
                                ("kind", "source"),
                            ),
                            models.Q(
                                (
                                    "answer__in",
                                    ["buying", "selling", "neighbourhood", "market_question"],
                                ),
                                ("kind", "inquiry"),
                            ),
                            _connector="OR",
                        ),
                        name="intentmapping_answer_valid",
                    ),
                ],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]

"""Helpers for posting intake forms the way a person's browser would."""

import time

from django.urls import reverse

from leads.forms import INTAKE_FORMS, intake_token

# One valid answer set per form slug; tests override what they exercise.
VALID = {
    "valuation": {
        "property_address": "12 Elm Street, Springfield",
        "bedrooms": "3",
        "bathrooms": "2.5",
    },
    "listing-ad": {"property_address": "48 Harbor View Drive"},
    "giveaway": {},
    "open-house": {"open_house": "48 Harbor View Drive, Sunday 1-3pm", "side": "buyer"},
    "website": {"inquiry_type": "buying", "message": "Are there 3-bed homes near the park?"},
    "reactivation": {"side": "seller", "message": "Kids moved out; thinking of downsizing."},
}


def answers(slug: str, **overrides) -> dict:
    data = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "(413) 555-0187",
        "timeline": "6_to_18_months",
        # Shown half a minute ago, as a person would, for this form.
        "form_token": intake_token(INTAKE_FORMS[slug].source, issued_at=time.time() - 30),
        **VALID[slug],
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def post_intake(client, slug: str, query: str = "", **overrides):
    url = reverse("leads:intake", args=[slug]) + (f"?{query}" if query else "")
    return client.post(url, answers(slug, **overrides), REMOTE_ADDR="203.0.113.7")

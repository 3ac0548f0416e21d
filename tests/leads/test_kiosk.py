"""Kiosk mode: the open-house sign-in on a tablet at the door (?kiosk=1).

One visitor after another on one browser: each gets an empty form with a fresh token, the open
house kept from the page's query, and nothing the previous visitor typed; the page runs under a
strict CSP (static/js/kiosk.js, nothing inline) and still works framed (?embed=1).
"""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from leads.forms import token_read
from leads.models import Lead
from sequences.campaigns import LINK_PARAMETER, reactivation_token
from tests.factories import LeadFactory, ReactivationCampaignFactory
from tests.helpers import answers

pytestmark = pytest.mark.django_db

EVENT = "48 Harbor View Drive, Sunday 1-3pm"
KIOSK = "/intake/open-house/?kiosk=1&event=48+Harbor+View+Drive%2C+Sunday+1-3pm"


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def sign_in(client, url: str, page: str, **overrides):
    """A visitor fills the form they were shown (its token and the open house it names)."""
    data = answers("open-house", form_token=form_token(page), open_house=EVENT, **overrides)
    return client.post(url, data, REMOTE_ADDR="203.0.113.7")


def input_values(html: str) -> dict[str, str]:
    """Every text-like input's value as the page gives it (blank when it has none)."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if name and kind and kind.group(1) in ("text", "email", "tel"):
            value = re.search(r'value="([^"]*)"', tag)
            values[name.group(1)] = value.group(1) if value else ""
    return values


def test_the_kiosk_page_is_a_large_autofill_free_sign_in(client):
    response = client.get(KIOSK)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="public kiosk"' in html
    assert "/static/css/kiosk.css" in html and "/static/js/kiosk.js" in html
    assert re.search(r'<form [^>]*autocomplete="off"[^>]*data-kiosk-form', html)
    assert 'data-kiosk-url="/intake/open-house/?kiosk=1&amp;event=48+Harbor' in html
    # No field offers the browser's memory of the last visitor.
    for tag in re.findall(r"<input[^>]*>", html):
        assert 'autocomplete="off"' in tag, tag
    # The open house comes from the query, and no visitor retypes it.
    assert re.search(
        r'name="open_house" value="48 Harbor View Drive, Sunday 1-3pm"[^>]*readonly', html
    )
    assert "Privacy policy" in html  # with the consent wording, though the footer is gone
    assert "<footer" not in html


def test_the_kiosk_page_is_never_stored_and_runs_under_a_strict_csp(client):
    response = client.get(KIOSK)
    assert response["Cache-Control"] == "no-store"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert csp.endswith("frame-ancestors 'none'")


def test_two_visitors_in_a_row_each_get_an_empty_form_and_a_fresh_token(client, clock):
    first_page = client.get(KIOSK).content.decode()
    clock.shift(40)
    response = sign_in(client, KIOSK, first_page, first_name="Ada", email="ada@example.com")
    assert response.status_code == 302
    thanks_url = response["Location"]
    assert thanks_url.startswith(reverse("leads:intake-thanks", args=["open-house"]) + "?")
    assert parse_qs(urlsplit(thanks_url).query) == {"kiosk": ["1"], "event": [EVENT]}

    thanks = client.get(thanks_url)
    html = thanks.content.decode()
    assert thanks["Cache-Control"] == "no-store"
    assert "Thanks for visiting." in html
    assert "Ada" not in html and "ada@example.com" not in html
    assert "Ready for the next visitor in <span data-kiosk-countdown>8</span> seconds." in html
    next_url = re.search(r'href="([^"]+)" data-kiosk-next data-kiosk-reset-seconds="8"', html)
    assert next_url.group(1).replace("&amp;", "&") == KIOSK

    clock.shift(20)
    second_page = client.get(KIOSK).content.decode()
    values = input_values(second_page)
    assert values.pop("open_house") == EVENT
    assert set(values.values()) == {""}, values  # nothing the first visitor typed
    assert "checked" not in second_page
    # A token of its own, issued for this visitor (the fill time counts from their page).
    assert form_token(second_page) != form_token(first_page)
    first, second = (
        token_read(form_token(page), "open_house") for page in (first_page, second_page)
    )
    assert second.shown_at - first.shown_at == pytest.approx(60)

    clock.shift(30)
    response = sign_in(
        client,
        KIOSK,
        second_page,
        first_name="Grace",
        last_name="Hopper",
        email="grace@example.com",
        phone="(413) 555-0199",
    )
    assert response.status_code == 302
    leads = Lead.objects.order_by("id")
    assert [(lead.first_name, lead.open_house) for lead in leads] == [
        ("Ada", EVENT),
        ("Grace", EVENT),
    ]
    assert not any(lead.submissions.get().spam_reason for lead in leads)  # not "too fast"


def test_a_visitor_shown_their_errors_keeps_their_answers_marked_for_clearing(client):
    page = client.get(KIOSK).content.decode()
    response = sign_in(client, KIOSK, page, email="not-an-email", phone="")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please enter a valid email address" in html
    assert "data-kiosk-dirty" in html  # kiosk.js empties it if they walk away
    assert response["Cache-Control"] == "no-store"
    assert re.search(r'name="open_house" value="48 Harbor[^"]*"[^>]*readonly', html)


def test_a_framed_kiosk_follows_the_embed_rules(client, settings):
    settings.INTAKE_FRAME_ANCESTORS = ["https://www.harborandmain.example"]
    url = KIOSK + "&embed=1"
    response = client.get(url)
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    csp = response["Content-Security-Policy"]
    assert csp.endswith("frame-ancestors 'self' https://www.harborandmain.example")
    assert "script-src 'self'" in csp
    html = response.content.decode()
    assert 'class="public embed kiosk"' in html and "<header" not in html
    posted = sign_in(client, url, html)
    query = parse_qs(urlsplit(posted["Location"]).query)
    assert query == {"kiosk": ["1"], "event": [EVENT], "embed": ["1"]}
    thanks = client.get(posted["Location"])
    assert "X-Frame-Options" not in thanks
    assert (
        "frame-ancestors 'self' https://www.harborandmain.example"
        in thanks["Content-Security-Policy"]
    )
    assert "embed=1" in re.search(r'href="([^"]+)" data-kiosk-next', thanks.content.decode()).group(
        1
    )


def test_a_kiosk_never_shows_a_contacts_personal_link(client):
    """A reactivation link names one contact: on a shared tablet it would show them to all."""
    lead = LeadFactory(first_name="Dana", email="dana@example.com", dormant=True)
    campaign = ReactivationCampaignFactory()
    token = reactivation_token(lead.pk, campaign.pk)
    personal = client.get(f"/intake/reactivation/?{LINK_PARAMETER}={token}").content.decode()
    assert "dana@example.com" in personal
    html = client.get(f"/intake/reactivation/?kiosk=1&{LINK_PARAMETER}={token}").content.decode()
    assert "dana@example.com" not in html and "Dana" not in html
    assert LINK_PARAMETER + "=" not in re.search(r'data-kiosk-url="([^"]+)"', html).group(1)


def test_the_plain_form_is_as_it_was(client):
    response = client.get("/intake/open-house/?event=48+Harbor+View+Drive")
    html = response.content.decode()
    assert "kiosk" not in html
    assert "Content-Security-Policy" not in response
    assert 'autocomplete="given-name"' in html
    assert "readonly" not in html

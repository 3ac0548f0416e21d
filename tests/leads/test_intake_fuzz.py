"""The six intake forms against random input (Hypothesis): whatever a prospect or a bot puts in
any field or in the query string, the page never answers with a server error, and nothing is
lost: a POST either stores its Submission (thanked, or quarantined as spam) or shows the form
again with its errors, storing nothing. Runs on SQLite and on PostgreSQL (which refuses NUL
and lone surrogates in text: surrogates cannot come from a form post, NUL can)."""

import time
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from leads.forms import INTAKE_FORMS, intake_token
from leads.models import Submission
from tests.helpers import answers

pytestmark = pytest.mark.django_db

# Any character a browser can send (no lone surrogates: they are not encodable as UTF-8).
CHARACTERS = st.characters(exclude_categories=("Cs",))
SHORT = st.text(CHARACTERS, max_size=40)
ODD = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        " ",
        "\u200b",
        "ﬀ",
        "İstanbul",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "<script>alert(1)</script>",
        "{first_name}",
        "{{ 7*7 }}",
        "' OR 1=1 --",
        "NaN",
        "1e309",
        "-1",
        "99999999999999999999",
        "within_3_months",
        "on",
    ]
)
LONG = st.builds(lambda text, times: (text or "x") * times, SHORT, st.integers(50, 600))
EMAILS = st.one_of(
    st.emails(),
    st.builds(lambda local, domain: f"{local}@{domain}", SHORT, SHORT),
    st.builds(lambda local: f"{local}@xn--bcher-kva.example", LONG),
    st.just("İİİİ@example.com"),
)
PHONES = st.one_of(
    st.from_regex(r"\+?1?[ (.-]{0,2}[2-9]\d{2}[ ).-]{0,2}\d{3}[ .-]?\d{4}", fullmatch=True),
    st.from_regex(r"\+\d{1,20}", fullmatch=True),
    st.just("+1 413 555 0187 ext. 12"),
)
VALUES = st.one_of(SHORT, ODD, LONG, EMAILS, PHONES)
QUERY = st.dictionaries(
    st.one_of(st.sampled_from(["utm_source", "listing", "event"]), SHORT),
    st.one_of(SHORT, ODD, LONG),
    max_size=4,
)


def fields_of(slug: str) -> list[str]:
    return [name for name in INTAKE_FORMS[slug].base_fields if name != "form_token"]


def fuzzed_posts(slug: str):
    """A valid answer set with some of its fields (any of them, the honeypot included)
    replaced or removed, a fresh or a missing form token, and a random query string."""
    names = st.sampled_from([*fields_of(slug), "timeline", "email", "phone"])
    return st.tuples(
        st.dictionaries(names, st.one_of(VALUES, st.none()), max_size=6),
        st.sampled_from(["fresh", "fresh", "fresh", "missing", "garbage"]),
        QUERY,
    )


def post(client, slug, changes, token, query):
    data = answers(slug)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    if token == "missing":
        data.pop("form_token", None)
    elif token == "garbage":
        data["form_token"] = "x" * 40
    else:
        data["form_token"] = intake_token(time.time() - 30)
    url = reverse("leads:intake", args=[slug]) + ("?" + urlencode(query) if query else "")
    return client.post(url, data, REMOTE_ADDR="203.0.113.9")


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("slug", INTAKE_FORMS)
@FUZZ
@given(data=st.data())
def test_no_server_error_and_nothing_lost_whatever_is_posted(client, slug, data):
    changes, token, query = data.draw(fuzzed_posts(slug))
    cache.clear()  # the rate limit is not what is being tested
    before = Submission.objects.count()
    response = post(client, slug, changes, token, query)
    stored = Submission.objects.count() - before
    event(f"answered {response.status_code}")
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert stored == 1  # thanked (or, for a bot, quarantined): kept either way
    else:
        assert stored == 0
        assert b"alert-danger" in response.content  # the errors are shown


@pytest.mark.parametrize("slug", INTAKE_FORMS)
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=QUERY)
def test_the_form_page_answers_any_query_string(client, slug, query):
    url = reverse("leads:intake", args=[slug]) + ("?" + urlencode(query) if query else "")
    assert client.get(url).status_code == 200

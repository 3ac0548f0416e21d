"""Sign-in lockout (django-axes) and the sign-in and password-reset limits (django-ratelimit), as
docs/security.md promises them."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.http import HttpRequest
from django.urls import reverse

from tests.factories import PASSWORD, AgentFactory

pytestmark = pytest.mark.django_db

SIGN_IN_FORMS = {"dashboard": reverse("login"), "admin": reverse("admin:login")}
LOCKED = "Too many sign-in attempts"
THROTTLED_RESET = "Too many reset requests"


@pytest.fixture
def staff_agent():
    """A staff agent, so that both sign-in forms let them in."""
    return AgentFactory(user__is_staff=True).user


def sign_in(client, url, username, password, **headers):
    return client.post(url, {"username": username, "password": password}, **headers)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, url, username, times, **headers):
    for _ in range(times):
        response = sign_in(client, url, username, "wrong-guess", **headers)
    return response


@pytest.mark.parametrize("form", SIGN_IN_FORMS)
def test_five_wrong_passwords_lock_the_username_from_that_address(client, staff_agent, form):
    url = SIGN_IN_FORMS[form]
    assert fail(client, url, staff_agent.username, 4).status_code == 200  # the form, again
    locked = fail(client, url, staff_agent.username, 1)
    assert locked.status_code == 429 and LOCKED in locked.content.decode()
    assert "15 minutes" in locked.content.decode() and locked["Retry-After"] == "900"
    # Now even the right password is refused, with the same clear page.
    response = sign_in(client, url, staff_agent.username, PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert not signed_in(client)
    # Counted in the database, which every web process shares.
    attempt = AccessAttempt.objects.get(username=staff_agent.username)
    assert attempt.ip_address == "127.0.0.1" and attempt.failures_since_start >= 5


def test_the_lock_holds_one_username_on_one_address_only(client, staff_agent):
    url = SIGN_IN_FORMS["dashboard"]
    fail(client, url, staff_agent.username, 5)
    colleague = AgentFactory().user
    assert sign_in(client, url, colleague.username, PASSWORD).status_code == 302
    client.logout()
    other_place = sign_in(client, url, staff_agent.username, PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert other_place.status_code == 302 and signed_in(client)


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(client, staff_agent):
    url = SIGN_IN_FORMS["dashboard"]
    for n in range(5):
        sign_in(client, url, staff_agent.username, "nope", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    response = sign_in(
        client, url, staff_agent.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99"
    )
    assert response.status_code == 429 and not signed_in(client)


def test_behind_a_trusted_proxy_the_lock_is_on_the_clients_address(client, staff_agent, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    url = SIGN_IN_FORMS["admin"]
    fail(client, url, staff_agent.username, 5, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"
    same = sign_in(client, url, staff_agent.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert same.status_code == 429
    other = sign_in(
        client, url, staff_agent.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8"
    )
    assert other.status_code == 302 and signed_in(client)


def test_the_lock_lifts_after_the_cool_off(client, staff_agent, clock):
    url = SIGN_IN_FORMS["dashboard"]
    fail(client, url, staff_agent.username, 5)
    clock.shift(timedelta(minutes=14))
    assert sign_in(client, url, staff_agent.username, PASSWORD).status_code == 429
    clock.shift(timedelta(minutes=16))  # 15 minutes after that last (refused) attempt
    assert sign_in(client, url, staff_agent.username, PASSWORD).status_code == 302


def test_a_right_password_forgets_the_earlier_slips(client, staff_agent):
    url = SIGN_IN_FORMS["dashboard"]
    fail(client, url, staff_agent.username, 4)
    assert sign_in(client, url, staff_agent.username, PASSWORD).status_code == 302
    client.logout()
    assert fail(client, url, staff_agent.username, 4).status_code == 200
    assert sign_in(client, url, staff_agent.username, PASSWORD).status_code == 302


@pytest.mark.parametrize("form", SIGN_IN_FORMS)
def test_one_address_gets_a_limited_number_of_sign_in_tries_whatever_the_names(
    client, staff_agent, settings, form
):
    settings.LOGIN_RATE_LIMIT = "3/15m"
    url = SIGN_IN_FORMS[form]
    for name in ("ann", "bob", "cy"):
        assert sign_in(client, url, name, "guess").status_code == 200
    response = sign_in(client, url, staff_agent.username, PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert not signed_in(client)
    elsewhere = sign_in(client, url, staff_agent.username, PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert elsewhere.status_code == 302


def test_a_test_signs_in_with_client_login_by_passing_a_request(client, staff_agent):
    assert client.login(request=HttpRequest(), username=staff_agent.username, password=PASSWORD)


# --- Password reset ---------------------------------------------------------------------------


def ask_reset(client, email, **headers):
    return client.post(reverse("password_reset"), {"email": email}, **headers)


def test_reset_emails_to_one_address_stop_after_three_an_hour(client, mailoutbox, clock):
    AgentFactory(user__email="alex@agents.example")
    for _ in range(3):
        assert ask_reset(client, "alex@agents.example")["Location"] == reverse(
            "password_reset_done"
        )
    response = ask_reset(client, "ALEX@agents.example", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429 and THROTTLED_RESET in response.content.decode()
    assert len(mailoutbox) == 3
    clock.shift(timedelta(minutes=61))
    assert ask_reset(client, "alex@agents.example").status_code == 302
    assert len(mailoutbox) == 4


def test_reset_requests_from_one_address_stop_after_ten_an_hour(client, mailoutbox):
    for n in range(10):
        assert ask_reset(client, f"someone{n}@example.com").status_code == 302
    AgentFactory(user__email="alex@agents.example")
    response = ask_reset(client, "alex@agents.example")
    assert response.status_code == 429 and THROTTLED_RESET in response.content.decode()
    assert mailoutbox == []
    assert ask_reset(client, "alex@agents.example", REMOTE_ADDR="203.0.113.9").status_code == 302
    assert len(mailoutbox) == 1

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, AgentFactory

pytestmark = pytest.mark.django_db


def test_an_agent_signs_in_and_out(client):
    agent = AgentFactory()
    page = client.get(reverse("login"))
    assert page.status_code == 200
    response = client.post(
        reverse("login"), {"username": agent.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_is_refused_with_a_message(client):
    agent = AgentFactory()
    response = client.post(reverse("login"), {"username": agent.user.username, "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content

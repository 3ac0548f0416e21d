import re

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, AgentFactory

pytestmark = pytest.mark.django_db


def test_an_agent_resets_a_forgotten_password_by_email(client, mailoutbox, settings):
    agent = AgentFactory(user__email="alex@agents.example")
    response = client.post(reverse("password_reset"), {"email": "alex@agents.example"})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["alex@agents.example"]
    assert settings.BROKERAGE_NAME in mail.subject
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-much-better-pass-2026", "new_password2": "a-much-better-pass-2026"},
    )
    agent.user.refresh_from_db()
    assert agent.user.check_password("a-much-better-pass-2026")


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_a_signed_in_agent_changes_their_password(client):
    agent = AgentFactory()
    client.force_login(agent.user)
    assert "Change your password" in client.get(reverse("password_change")).content.decode()
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-good-pass-77",
            "new_password2": "another-good-pass-77",
        },
    )
    assert response["Location"] == reverse("password_change_done")
    agent.user.refresh_from_db()
    assert agent.user.check_password("another-good-pass-77")


def test_the_site_root_is_today_and_asks_for_a_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"
    client.force_login(AgentFactory().user)
    assert "Hot, not yet contacted" in client.get("/").content.decode()

"""What each hosted form says is a broker's plain text (leads.FormCopy), shown escaped; the
giveaway's prize, rules and end date with it, and a clear page once the giveaway is over."""

from datetime import date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from leads.forms import FORM_FOR_SOURCE, INTAKE_FORMS
from leads.models import FormCopy, Lead, Source, Submission
from sequences.models import Message
from tests.helpers import post_intake
from tests.moments import NEW_YORK

pytestmark = pytest.mark.django_db


def form_page(client, slug="giveaway", query=""):
    url = reverse("leads:intake", args=[slug]) + (f"?{query}" if query else "")
    return client.get(url)


def edit_copy(source: str, **fields) -> FormCopy:
    """A broker's edit, saved as the admin saves it (every process then reads it again)."""
    row = FormCopy.objects.get(source=source)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def giveaway(**fields) -> FormCopy:
    return edit_copy(Source.GIVEAWAY, **fields)


@pytest.mark.parametrize("slug", INTAKE_FORMS)
def test_the_seeded_copy_is_the_wording_the_forms_shipped_with(slug):
    form_class = INTAKE_FORMS[slug]
    row = FormCopy.objects.get(source=form_class.source)
    assert (row.headline, row.intro, row.submit_label, row.thank_you) == (
        form_class.title,
        form_class.intro,
        form_class.submit_label,
        form_class.thank_you,
    )
    assert (row.prize, row.rules, row.ends_on) == ("", "", None)


def test_the_form_and_its_thank_you_page_show_the_edited_copy(client):
    edit_copy(
        Source.OPEN_HOUSE,
        headline="Welcome to 48 Harbor View Drive",
        intro="Sign in for the floor plans.\nWe never share your details.",
        submit_label="Check in",
        thank_you="Enjoy the tour!",
    )
    html = form_page(client, "open-house").content.decode()
    assert '<h1 class="h3 mb-2">Welcome to 48 Harbor View Drive</h1>' in html
    assert "<title>Welcome to 48 Harbor View Drive · " in html
    assert "Sign in for the floor plans.<br>We never share your details." in html
    assert '<button type="submit" class="btn btn-primary btn-lg">Check in</button>' in html
    assert "Welcome! Please sign in" not in html

    response = post_intake(client, "open-house")
    thanks = client.get(response["Location"]).content.decode()
    assert "Enjoy the tour!" in thanks
    assert "We will send you the details of this home" not in thanks


def test_without_a_row_a_form_shows_its_own_wording(client):
    FormCopy.objects.all().delete()
    html = form_page(client, "valuation").content.decode()
    assert "What is your home worth?" in html
    assert "Get my home&#x27;s value" in html
    response = post_intake(client, "valuation")
    thanks = client.get(response["Location"]).content.decode()
    assert "Your valuation is on its way by email" in thanks


def test_the_copy_is_plain_text_never_html_or_a_template(client):
    """A broker's copy is shown as typed: HTML stays text, template tags stay text."""
    hostile = (
        '<script>alert("x")</script><img src=x onerror=alert(1)> {{ brokerage.name }} {% now "Y" %}'
    )
    giveaway(
        headline=hostile[:120],
        intro=hostile,
        submit_label="<b>Go</b>",
        thank_you=hostile,
        prize="<em>A $250</em> gift card",
        rules=hostile,
    )
    html = form_page(client).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>Go" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "{{ brokerage.name }}" in html  # not "Harbor & Main Realty": never rendered
    assert "{% now &quot;Y&quot; %}" in html
    assert "&lt;b&gt;Go&lt;/b&gt;" in html
    assert "&lt;em&gt;A $250&lt;/em&gt; gift card" in html

    response = post_intake(client, "giveaway")
    thanks = client.get(response["Location"]).content.decode()
    assert "<script>alert" not in thanks
    assert "&lt;script&gt;" in thanks and "{{ brokerage.name }}" in thanks


def test_the_giveaway_shows_its_prize_rules_and_end_date(client, clock):
    giveaway(
        prize="A $250 gift card to Harbor Coffee",
        rules="No purchase necessary.\nOne entry per person.",
        ends_on=date(2026, 6, 1),
    )
    response = form_page(client)
    html = response.content.decode()
    assert response.status_code == 200
    assert "A $250 gift card to Harbor Coffee" in html
    assert "Enter by Jun 1, 2026." in html
    assert "No purchase necessary.<br>One entry per person." in html
    assert "<summary>Official rules</summary>" in html
    assert 'name="first_name"' in html


def test_a_form_without_giveaway_details_shows_none():
    # (and only the giveaway form may have them)
    copy = FormCopy.objects.get(source=Source.VALUATION)
    copy.prize, copy.ends_on = "A boat", date(2026, 6, 1)
    with pytest.raises(ValidationError) as refused:
        copy.full_clean()
    assert set(refused.value.message_dict) == {"prize", "ends_on"}
    copy = FormCopy.objects.get(source=Source.GIVEAWAY)
    copy.prize, copy.ends_on = "A boat", date(2026, 6, 1)
    copy.full_clean()


def test_the_giveaway_is_open_through_its_end_date(client, clock):
    giveaway(ends_on=date(2026, 5, 4))  # the clock's day
    clock.move_to(datetime(2026, 5, 4, 23, 59, tzinfo=NEW_YORK))
    assert form_page(client).status_code == 200
    response = post_intake(client, "giveaway")
    assert response.status_code == 302
    assert Lead.objects.get().source == "giveaway"


def test_a_giveaway_past_its_end_date_says_it_has_ended(client, clock):
    giveaway(prize="A $250 gift card", ends_on=date(2026, 5, 3))
    response = form_page(client, query="embed=1")
    html = response.content.decode()
    assert response.status_code == 410
    assert "This giveaway has ended" in html
    assert "It closed on May 3, 2026 (the prize: A $250 gift card)." in html
    assert 'name="first_name"' not in html
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]  # still framable


def test_an_entry_sent_after_the_end_is_kept_not_entered(client, clock, broker_client, broker):
    giveaway(ends_on=date(2026, 5, 3))
    client.logout()
    response = post_intake(client, "giveaway", first_name="Late")
    assert response.status_code == 410
    html = response.content.decode()
    assert "This giveaway has ended" in html
    assert "Your entry arrived after it closed, so it could not be entered." in html

    submission = Submission.objects.get()
    assert submission.status == Submission.Status.REJECTED
    assert submission.data["first_name"] == "Late"
    assert "after the giveaway ended (2026-05-03)" in submission.error
    assert not Lead.objects.exists()
    assert not Message.objects.exists()  # nobody is told "you're entered"

    # A broker who wants them anyway processes the entry from the admin.
    client.force_login(broker)
    broker_client.post(
        reverse("admin:leads_submission_changelist"),
        {"action": "process_again", "_selected_action": [submission.pk]},
    )
    submission.refresh_from_db()
    assert submission.status == Submission.Status.ACCEPTED
    assert submission.lead.first_name == "Late"


def test_a_bot_after_the_end_is_quarantined_as_ever(client, clock):
    giveaway(ends_on=date(2026, 5, 3))
    response = post_intake(client, "giveaway", company_website="spam.example")
    assert response.status_code == 410
    assert Submission.objects.get().status == Submission.Status.SPAM


def test_the_admin_edits_copy_and_giveaway_details_for_brokers(broker_client, clock):
    row = FormCopy.objects.get(source=Source.GIVEAWAY)
    url = reverse("admin:leads_formcopy_change", args=[row.pk])
    page = broker_client.get(url).content.decode()
    assert "never run on the page" in page
    assert 'name="prize"' in page and 'name="ends_on"' in page
    response = broker_client.post(
        url,
        {
            "headline": "Win a kayak",
            "intro": "",
            "submit_label": "Enter now",
            "thank_you": "Good luck!",
            "prize": "A sea kayak",
            "rules": "One entry each.",
            "ends_on": "2026-06-30",
        },
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.headline, row.prize, row.ends_on) == (
        "Win a kayak",
        "A sea kayak",
        date(2026, 6, 30),
    )
    html = form_page(broker_client).content.decode()
    assert "Win a kayak" in html and "Enter by Jun 30, 2026." in html
    assert 'class="text-body-secondary mb-4"' not in html  # no intro, no empty paragraph

    other = FormCopy.objects.get(source=Source.VALUATION)
    page = broker_client.get(reverse("admin:leads_formcopy_change", args=[other.pk]))
    assert 'name="prize"' not in page.content.decode()
    assert broker_client.get(reverse("admin:leads_formcopy_add")).status_code == 403


def test_restoring_the_shipped_wording(broker_client):
    for row in FormCopy.objects.all():
        edit_copy(row.source, headline="Changed", submit_label="Go")
    giveaway(prize="A sea kayak")
    broker_client.post(
        reverse("admin:leads_formcopy_changelist"),
        {
            "action": "restore_shipped",
            "_selected_action": list(FormCopy.objects.values_list("pk", flat=True)),
        },
    )
    for row in FormCopy.objects.all():
        assert (row.headline, row.submit_label) == (
            FORM_FOR_SOURCE[row.source].title,
            FORM_FOR_SOURCE[row.source].submit_label,
        )
    assert FormCopy.objects.get(source=Source.GIVEAWAY).prize == "A sea kayak"

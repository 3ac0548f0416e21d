"""The old database's whole loop in one real browser: a broker imports a file (upload → map, a
guess corrected and the SMS consent wording pasted → dry run → import with the progress bar →
report), sends a reactivation campaign to contacts picked by a tag from that file, and one of
them answers through the email's personal link. The two halves are each walked in more detail
by test_import_flow.py and test_reactivation_flows.py; this test checks what one hands the
other: imported contacts, their owner from the file, their notes and their consent, are what
the campaign reaches and what the re-engaged lead keeps.
"""

import csv
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from alerts.models import Alert
from leads.models import ImportBatch, Lead, LeadEvent
from sequences.models import CampaignRecipient, Message

from .test_dashboard_flows import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

HEADER = [
    "Client",
    "Email",
    "Mobile",
    "Home",
    "Zip",
    "Tags",
    "Notes",
    "Type",
    "Last Contacted",
    "Agent",
    "Text Opt-In",
]
ROWS = [
    # Row 2: Sam's past client, who agreed to texts; the one who re-engages.
    [
        "Whitfield, Dana",
        "dana@example.com",
        "(413) 555-0142",
        "48 Harbor View Drive",
        "01103",
        "spring list; 2019 sellers",
        "Sold 48 Harbor View in 2019",
        "Past Client",
        "03/15/2023",
        "sam",
        "01/02/2022",
    ],
    # Row 3: no owner in the file (the one chosen on the mapping page), no consent: email only.
    [
        "Omar Reyes",
        "omar@example.com",
        "",
        "12 Chestnut Lane",
        "01108",
        "Spring List",
        "",
        "SOI",
        "2024-01-05",
        "",
        "",
    ],
    # Row 4: another tag, so not in the campaign.
    ["Ines Moreau", "ines@example.com", "413.555.0177", "", "", "vip", "", "Old lead", "", "", ""],
    # Row 5: a day-first date is an error, never read the wrong way round.
    [
        "Theo Grant",
        "theo@example.com",
        "",
        "",
        "",
        "spring list",
        "",
        "Past Client",
        "15/03/2024",
        "",
        "",
    ],
]
OUTCOMES = ("new", "match", "duplicate", "error")  # the dry run's totals, in order
CONSENT_WORDING = (
    "Yes, Harbor Realty may text me about my home and the market. Msg & data rates may apply. "
    "Reply STOP to opt out."
)


def figures(row, names=("reengaged", "hot", "clicked")) -> dict:
    """A campaign report row's counts ("1 100%" is 1)."""
    return {
        name: int(row.locator(f"[data-figure={name}]").inner_text().split()[0]) for name in names
    }


@pytest.fixture
def texts_any_time(settings):
    """The campaign's text to Dana goes whenever the test runs (quiet hours are tested apart)."""
    settings.SMS_SENDING_HOURS = "00:00-24:00"
    settings.SMS_SENDING_HOURS_BY_STATE = ""


def test_an_imported_contact_answers_a_campaign_and_is_a_hot_lead_of_its_owner(
    page, phone_page, live_server, broker, alex, sam, import_worker, texts_any_time, tmp_path
):
    base = live_server.url
    path = tmp_path / "old-crm-export.csv"
    with path.open("w", newline="") as out:
        csv.writer(out).writerows([HEADER, *ROWS])
    sign_in(page, base, "morgan")

    # Upload and map: the guesses, one corrected, the owner of unowned rows, the consent wording.
    page.click("nav >> text=Import")
    page.set_input_files("#id_file", str(path))
    page.click("[data-testid=upload-form] button[type=submit]")
    page.wait_for_selector("[data-testid=mapping-form]")
    guessed = {header: page.input_value(f"tr[data-header='{header}'] select") for header in HEADER}
    assert guessed == {
        "Client": "full_name",
        "Email": "email",
        "Mobile": "phone",
        "Home": "",  # not a header we know
        "Zip": "postal_code",
        "Tags": "tags",
        "Notes": "notes",
        "Type": "relationship",
        "Last Contacted": "last_contact",
        "Agent": "owner",
        "Text Opt-In": "sms_consent",
    }
    page.select_option("tr[data-header='Home'] select", "property_address")  # the correction
    page.select_option("#id_owner", label="Alex Rivera")
    page.fill("#id_consent_wording", CONSENT_WORDING)
    page.click("[data-testid=mapping-form] button[type=submit]")

    # The dry run, a chunk at a time, then every row's outcome; nothing written.
    batch = ImportBatch.objects.get()
    page.wait_for_selector("[data-testid=import-progress]")
    while import_worker(batch.pk):
        pass
    page.wait_for_selector("[data-testid=dry-run]")  # the page reloaded itself
    assert [page.inner_text(f"[data-testid=count-{outcome}]") for outcome in OUTCOMES] == [
        "3",
        "0",
        "0",
        "1",
    ]
    outcomes = page.locator("[data-testid=rows] tr[data-row]")
    assert [
        (row.get_attribute("data-row"), row.get_attribute("data-outcome")) for row in outcomes.all()
    ] == [("2", "new"), ("3", "new"), ("4", "new"), ("5", "error")]
    assert "Last contact date “15/03/2024” is not a date" in page.inner_text("tr[data-row='5']")
    assert not Lead.objects.exists()

    # The import, with its progress bar, to the report.
    page.click("[data-testid=start-import]")
    page.wait_for_selector("[data-testid=import-progress]")
    import_worker(batch.pk)
    page.wait_for_selector("text=2 of 4 rows")
    assert page.get_attribute("progress.import-progress", "value") == "50"
    while import_worker(batch.pk):
        pass
    page.wait_for_selector("[data-testid=report]")
    assert page.inner_text("[data-testid=report-counts]") == (
        "3 created, 0 updated, 0 skipped, 1 errors"
    )
    dana = Lead.objects.get(email="dana@example.com")
    assert (dana.dormant, dana.owner, dana.phone) == (True, sam, "+14135550142")
    assert dana.can_text  # the file's consent date and the pasted wording
    assert Lead.objects.get(email="omar@example.com").owner == alex

    # The campaign: the smart list by a tag from the file, previewed for real contacts, sent.
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    page.fill("#id_name", "Spring check-in")
    assert "3 dormant contacts match" in page.get_by_test_id("audience-count").inner_text()
    page.select_option("#id_tags", label="spring list")  # "Spring List" in the file is the same
    expect(page.get_by_test_id("audience-count")).to_contain_text("2 dormant contacts match")
    page.get_by_role("button", name="Save and preview").click()
    assert "It's been a while, Dana" in page.get_by_test_id("preview-subject").inner_text()
    assert "Tell me here:" in page.get_by_test_id("preview-sms").inner_text()
    page.select_option("#preview-contact", label="Omar Reyes")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("preview-subject")).to_contain_text("It's been a while, Omar")
    assert page.get_by_test_id("preview-sms").count() == 0
    assert "has no SMS consent on record" in page.get_by_test_id("preview").inner_text()
    page.get_by_role("button", name="Send to 2 contacts").click()
    assert "Sending “Spring check-in” to 2 contacts." in page.content()
    assert page.locator("#campaign-progress").get_attribute("data-status") == "sent"

    # What went out: an email to each, a text only to Dana (the file proved her consent).
    sent = Message.objects.filter(purpose=Message.Purpose.CAMPAIGN, status=Message.Status.SENT)
    assert sorted(sent.values_list("lead__first_name", "channel")) == [
        ("Dana", "email"),
        ("Dana", "sms"),
        ("Omar", "email"),
    ]
    email = next(message for message in mail.outbox if message.to == ["dana@example.com"])
    link = re.search(r"http://testserver(/intake/reactivation/\?r=\S+)", email.body).group(1)

    # Dana opens her link on her phone: the form knows her; she moves within 3 months.
    phone_page.goto(f"{base}{link}")
    assert phone_page.input_value("#id_first_name") == "Dana"
    assert phone_page.input_value("#id_last_name") == "Whitfield"
    assert phone_page.input_value("#id_email") == "dana@example.com"
    assert phone_page.input_value("#id_phone") == "(413) 555-0142"
    phone_page.check("input[name=side][value=seller]")
    phone_page.fill("#id_message", "The kids have moved out: we want something smaller.")
    phone_page.check("input[name=timeline][value=within_3_months]")
    phone_page.get_by_role("button", name="Update my details").click()
    phone_page.wait_for_url(f"{base}/intake/reactivation/thanks/")

    # The broker: Dana is no longer dormant, is hot, still Sam's, with her imported history.
    page.goto(f"{base}/leads/?dormant=true")
    assert page.inner_text("[data-testid=result-count]") == "2 leads"
    assert "Dana Whitfield" not in page.inner_text("#results")
    page.goto(f"{base}/leads/{dana.pk}/")
    assert page.get_by_test_id("intent").inner_text() == "Hot"
    assert "owner: Sam Chen" in page.inner_text("#lead header")
    timeline = page.locator("#timeline")
    assert "Imported note: Sold 48 Harbor View in 2019" in timeline.inner_text()
    reengaged = timeline.locator("[data-kind=reengaged]")
    assert "Spring check-in" in reengaged.inner_text()
    for kind in ("imported", "consent_given"):
        assert timeline.locator(f"[data-kind={kind}]").count() == 1
    dana = Lead.objects.get(pk=dana.pk)
    assert (dana.dormant, dana.intent, dana.timeline, dana.owner, dana.nurture_track.key) == (
        False,
        "hot",
        "within_3_months",
        sam,
        "reactivation",
    )
    assert dana.relationship == "past_client" and dana.imported_at is not None
    assert LeadEvent.objects.filter(lead=dana, kind=LeadEvent.Kind.REENGAGED).count() == 1
    acknowledgment = Message.objects.get(
        lead=dana, purpose=Message.Purpose.ACKNOWLEDGMENT, channel=Message.Channel.EMAIL
    )
    assert "Good to hear from you again, Dana" in acknowledgment.subject

    # The campaign's report: one re-engaged, hot, and Sam's.
    page.goto(f"{base}/campaigns/")
    page.get_by_role("link", name="Spring check-in").click()
    report = page.get_by_test_id("campaign-report")
    assert figures(report.locator("tr.total")) == {"reengaged": 1, "hot": 1, "clicked": 1}
    assert figures(report.locator(f"tr[data-row='{sam.pk}']")) == {
        "reengaged": 1,
        "hot": 1,
        "clicked": 1,
    }
    assert figures(report.locator(f"tr[data-row='{alex.pk}']")) == {
        "reengaged": 0,
        "hot": 0,
        "clicked": 0,
    }
    recipient = CampaignRecipient.objects.get(lead=dana)
    assert recipient.reengaged_at is not None and recipient.clicked_at is not None

    # The owner: Sam's Today has the hot alert and Dana at the top of the hot queue.
    page.context.clear_cookies()
    sign_in(page, base, "sam")
    alerts = page.locator("#alerts")
    assert "Hot lead" in alerts.inner_text() and "Dana Whitfield" in alerts.inner_text()
    assert "Dana Whitfield" in page.inner_text("#hot-queue")
    assert Alert.objects.filter(lead=dana, agent=sam, reason="hot_lead").count() == 1
    assert not Alert.objects.filter(agent=alex).exists()

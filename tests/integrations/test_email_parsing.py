"""Reading portal lead emails, with no database: each sample email (fixtures/email/) parses to the
right person, property, timeline, message, source and origin; Lead Metadata wins over a portal's
wording; both of SendGrid's post shapes read the same; bad input never raises."""

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from integrations.email.mapping import lead_mapping
from integrations.email.metadata import lead_from_metadata, lead_tags
from integrations.email.mime import (
    email_from_mime,
    email_from_post,
    html_text,
    normal_message_id,
)
from integrations.email.parsed import Kind, clues_found
from integrations.email.portals import REDFIN, ZILLOW, parse_with, portal_for
from integrations.email.reader import lead_read
from leads.models import Integration
from tests.integrations.email_helpers import eml, fields_post, raw_post

# What each sample email says, as the lead it becomes.
EXPECTED = {
    "zillow_tour_request.eml": {
        "parser": "zillow",
        "origin": "Zillow",
        "source": "listing_ad",
        "first_name": "Jordan",
        "last_name": "Ellis",
        "email": "jordan.ellis@example.net",
        "phone": "+14135550142",
        "property_address": "48 Harbor View Dr, Springfield, MA 01103",
        "postal_code": "01103",
        "timeline": "within_3_months",
        "message": "relocating from Boston",
        "side": "buyer",
        "asked_for_showing": True,
        "listing_id": "2077123456",
    },
    "realtor_com_inquiry.eml": {
        "parser": "realtor_com",
        "origin": "Realtor.com",
        "source": "listing_ad",
        "first_name": "Priya",
        "last_name": "Raman",
        "email": "priya.raman@example.org",
        "phone": "+14135550176",
        "property_address": "12 Elm St, Springfield, MA 01104",
        "postal_code": "01104",
        "timeline": "3_to_6_months",
        "message": "Is the roof recent?",
        "side": "buyer",
        "asked_for_showing": None,
        "listing_id": "M38291-55012",
    },
    "realtor_com_seller_metadata.eml": {
        "parser": "lead_metadata",
        "origin": "Realtor.com",
        "source": "valuation",
        "first_name": "Dana",
        "last_name": "Whitfield",
        "email": "dana.whitfield@example.com",
        "phone": "+14135550134",
        "property_address": "77 Birch Hill Rd, Longmeadow, MA 01106",
        "postal_code": "01106",
        "timeline": "within_3_months",
        "message": "thinking of selling this spring",
        "side": "seller",
        "asked_for_showing": None,
        "listing_id": None,
    },
    "homes_com_home_value.eml": {
        "parser": "homes_com",
        "origin": "Homes.com",
        "source": "valuation",
        "first_name": "Marcus",
        "last_name": "Bell",
        "email": "marcus.bell@example.com",
        "phone": "+14135550163",
        "property_address": "9 Laurel Ct, East Longmeadow, MA 01028",
        "postal_code": "01028",
        "timeline": "6_to_18_months",
        "message": "Curious what our place would list for",
        "side": "seller",
        "asked_for_showing": None,
        "listing_id": None,
    },
    "redfin_open_house.eml": {
        "parser": "redfin",
        "origin": "Redfin",
        "source": "open_house",
        "first_name": "Taylor",
        "last_name": "Brooks",
        "email": "taylor.brooks@example.com",
        "phone": "+14135550155",
        "property_address": "301 Lakeview Terrace, Amherst, MA 01002",
        "postal_code": "01002",
        "timeline": "3_to_6_months",
        "message": "Is there parking on the street?",
        "side": "buyer",
        "asked_for_showing": None,
        "listing_id": "187654321",
    },
    "redfin_question.eml": {
        "parser": "redfin",
        "origin": "Redfin",
        "source": "website",
        "first_name": "Chris",
        "last_name": "Okafor",
        "email": "chris.okafor@example.com",
        "phone": "+14135550191",
        "property_address": None,
        "postal_code": None,
        "timeline": "6_to_18_months",
        "message": "condos in Northampton",
        "side": "buyer",
        "asked_for_showing": None,
        "listing_id": None,
    },
    "forwarded_zillow.eml": {
        "parser": "zillow",
        "origin": "Zillow",
        "source": "listing_ad",
        "first_name": "Riley",
        "last_name": "Novak",
        "email": "riley.novak@example.com",
        "phone": "+14135550128",
        "property_address": "22 Chestnut St, Northampton, MA 01060",
        "postal_code": "01060",
        "timeline": None,
        "message": "What are the HOA fees?",
        "side": "buyer",
        "asked_for_showing": None,
        "listing_id": "2081234567",
    },
}


def _mapped(email):
    reading = lead_read(email)
    assert reading.lead is not None, email.subject
    return reading.lead, lead_mapping(reading.lead, reading.email, None)


def _assert_reads_as(lead, mapped, expected):
    assert lead.parser == expected["parser"]
    assert mapped.origin == expected["origin"]
    assert mapped.source == expected["source"]
    assert mapped.errors == {}
    fields = mapped.fields
    for name in ("first_name", "last_name", "email", "phone", "property_address", "postal_code"):
        assert fields.get(name) == expected[name], name
    assert fields.get("timeline") == expected["timeline"]
    assert expected["message"] in fields["message"]
    assert fields["side"] == expected["side"]
    assert fields.get("asked_for_showing") == expected["asked_for_showing"]
    assert mapped.attribution.get("listing_id") == expected["listing_id"]


@pytest.mark.parametrize("name", EXPECTED)
def test_each_sample_email_reads_as_its_lead(name):
    lead, mapped = _mapped(email_from_mime(eml(name)))
    _assert_reads_as(lead, mapped, EXPECTED[name])


@pytest.mark.parametrize("name", EXPECTED)
def test_the_default_post_reads_like_the_raw_one(name):
    """SendGrid's parsed fields (headers block, text, html) and "send raw" give one email."""
    raw = email_from_post(raw_post(eml(name)))
    fields = email_from_post(fields_post(eml(name)))
    assert (fields.sender, fields.subject, fields.message_id) == (
        raw.sender,
        raw.subject,
        raw.message_id,
    )
    assert fields.recipients[0] == raw.recipients[0]
    lead, mapped = _mapped(fields)
    _assert_reads_as(lead, mapped, EXPECTED[name])


@pytest.mark.parametrize("name", EXPECTED)
def test_crlf_line_breaks_as_mail_travels_read_the_same(name):
    crlf = eml(name).replace(b"\n", b"\r\n")
    for email in (email_from_mime(crlf), email_from_post(fields_post(crlf))):
        lead, mapped = _mapped(email)
        _assert_reads_as(lead, mapped, EXPECTED[name])


@pytest.mark.parametrize("name", EXPECTED)
def test_the_html_alternative_alone_reads_the_same(name):
    """Some portals send a stub plain part: the HTML carries the lead just as well."""
    email = email_from_post(fields_post(eml(name), without=("text",)))
    assert email.text == "" and email.html
    lead, mapped = _mapped(email)
    _assert_reads_as(lead, mapped, EXPECTED[name])


def test_a_tour_request_keeps_the_requested_time_in_the_message():
    _lead, mapped = _mapped(email_from_mime(eml("zillow_tour_request.eml")))
    assert mapped.fields["message"].endswith("Requested tour time: Saturday, Dec 5 at 11:00 AM")
    assert mapped.fields["bedrooms"] == 3
    assert mapped.attribution["mls"] == "73456789"
    assert mapped.attribution["price"] == "429000"
    assert mapped.attribution["details"] == {"pre_approved": "Yes", "financing": "Conventional"}


def test_an_open_house_names_which_one():
    _lead, mapped = _mapped(email_from_mime(eml("redfin_open_house.eml")))
    assert "Sunday, December 6, 1:00–3:00 PM" in mapped.fields["open_house"]


# --- Lead Metadata ---------------------------------------------------------------------------------


def test_lead_metadata_wins_over_the_portal_parser():
    """The visible body masks the contact details; the tags state them. Read first, they win."""
    email = email_from_mime(eml("realtor_com_seller_metadata.eml"))
    by_portal = parse_with(portal_for(email), email)
    assert by_portal.email == "d.whi****@example.com"  # what the wording alone would give
    reading = lead_read(email)
    assert reading.lead.parser == "lead_metadata"
    assert reading.lead.kind == Kind.SELLER
    assert reading.lead.details["lead_assigned_agent"] == "Sam Chen"


def _with_tags(tags: str, *, where: str = "head") -> str:
    head, body = (tags, "") if where == "head" else ("", tags)
    return f"<html><head>{head}</head><body>{body}<p>New lead</p></body></html>"


def test_metadata_tags_in_the_body_are_read_too():
    html = _with_tags(
        '<META NAME="lead_information_version" CONTENT="1.0">'
        '<meta name="lead_name" content="Ann Lee"><meta name="lead_phone" content="413 555 0100">'
        '<meta name="lead_type" content="Open House"><meta name="lead_property_address" '
        'content="5 Oak St">',
        where="body",
    )
    lead = lead_from_metadata(html)
    assert (lead.first_name, lead.last_name, lead.phone) == ("Ann", "Lee", "413 555 0100")
    assert lead.kind == Kind.OPEN_HOUSE


@pytest.mark.parametrize("version", ["", "2.0", "x"])
def test_metadata_without_a_version_we_read_is_ignored(version):
    tags = '<meta name="lead_email" content="a@example.com">'
    if version:
        tags += f'<meta name="lead_information_version" content="{version}">'
    assert lead_tags(_with_tags(tags)) == {}


@pytest.mark.parametrize(
    ("lead_type", "kind"),
    [("Buyer", Kind.LISTING), ("", Kind.LISTING), ("Seller", Kind.SELLER), ("Renter", Kind.RENTER)],
)
def test_lead_type_decides_the_kind_buyer_by_default(lead_type, kind):
    tags = '<meta name="lead_information_version" content="1.0"><meta name="lead_mls" content="M1">'
    if lead_type:
        tags += f'<meta name="lead_type" content="{lead_type}">'
    assert lead_from_metadata(_with_tags(tags)).kind == kind


def test_a_custom_tag_named_in_the_field_mapping_is_read_as_our_field():
    html = _with_tags(
        '<meta name="lead_information_version" content="1.0">'
        '<meta name="lead_email" content="a@example.com">'
        '<meta name="lead_move_timeframe" content="0-3 months">'
    )
    lead = lead_from_metadata(html, {"lead_move_timeframe": "timeline"})
    assert lead.time_frame == "0-3 months"
    assert "lead_move_timeframe" not in lead.details


# --- Which portal ----------------------------------------------------------------------------------


def test_a_forwarded_email_is_detected_by_the_quoted_sender():
    email = email_from_mime(eml("forwarded_zillow.eml"))
    assert email.sender == "alex.rivera@harborandmain.example"
    assert portal_for(email) is ZILLOW


def _message(sender, subject, text, *, reply_to=None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "leads@inbox.harborandmain.example"
    message["Subject"] = subject
    message["Message-ID"] = "<m1@example.com>"
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text)
    return message


def test_a_portal_is_detected_by_reply_to_and_by_its_name():
    by_reply_to = _message("relay@mailer.example", "New lead", "Hi", reply_to="x@redfin.com")
    assert portal_for(email_from_mime(by_reply_to.as_bytes())) is REDFIN
    by_name = _message("agent@harborandmain.example", "Fwd: your Zillow lead", "see below")
    assert portal_for(email_from_mime(by_name.as_bytes())) is ZILLOW
    neither = _message("dana@example.com", "Hello", "Is the house still for sale?")
    assert portal_for(email_from_mime(neither.as_bytes())) is None


def test_a_message_forwarded_as_an_attachment_is_read():
    outer = _message("alex.rivera@harborandmain.example", "Fwd: lead", "See attached.")
    outer.add_attachment(email_from_bytes_message("zillow_tour_request.eml"))
    email = email_from_mime(outer.as_bytes())
    assert len(email.forwarded) == 1
    reading = lead_read(email)
    assert reading.lead.email == "jordan.ellis@example.net"
    assert reading.email is email.forwarded[0]


def email_from_bytes_message(name):
    return message_from_bytes(eml(name), policy=policy.default)


# --- Whatever arrives ------------------------------------------------------------------------------


def test_an_unreadable_email_gives_its_clues():
    email = email_from_mime(eml("unparsed_personal.eml"))
    reading = lead_read(email)
    assert reading.lead is None
    found = clues_found(email, reading.partial)
    assert found["first_name"] == "Dana" and found["last_name"] == "Kim"
    assert found["email"] == "dana.kim@example.com"
    assert found["phone"] == "413-555-0119"
    assert found["subject"] == "Saw your sign on Maple Ave"
    assert "Could someone call me" in found["message"]


def test_a_portal_email_without_a_way_to_reach_them_is_no_lead_but_keeps_what_it_found():
    message = _message(
        "Zillow <no-reply@mail.zillow.com>",
        "Sam Ortiz wants to tour 9 Pine St",
        "Sam Ortiz is requesting a tour of 9 Pine St, Amherst, MA 01002.\n\nName: Sam Ortiz\n",
    )
    email = email_from_mime(message.as_bytes())
    reading = lead_read(email)
    assert reading.lead is None and reading.partial.name == "Sam Ortiz"
    mapped = lead_mapping(reading.partial, email, None)
    assert "no valid email address or phone number" in mapped.errors["email"][0]
    found = clues_found(email, reading.partial)
    assert found["property_address"] == "9 Pine St, Amherst, MA 01002"
    assert "email" not in found  # the portal's own no-reply address is no clue


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\x01\x02 not a message \xff\xfe",
        b"Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain; charset=nope\n\nhi\n",
        b"From: =?bogus?q?broken?=\nSubject: =?utf-8?b?!!!?=\nMessage-ID: <<<>>>\n\nbody",
        b"From: a\nTo: @@@, <>, \nDate: yesterday\n\n" + b"x" * 200_000,
        "Subject: caf\u00e9 \u2603\n\nunencoded 8-bit caf\u00e9".encode(),
    ],
)
def test_garbage_never_raises(raw):
    email = email_from_mime(raw)
    reading = lead_read(email)
    assert reading.lead is None
    clues_found(email, reading.partial)


def test_nul_bytes_and_control_characters_are_cleaned_from_what_is_read():
    message = _message(
        "Zillow <no-reply@mail.zillow.com>",
        "New contact",
        "Name: Jo\x00rdan\x07 Ellis\nEmail: jordan@example.net\nPhone: (413) 555-0142\n",
    )
    lead = lead_read(email_from_mime(message.as_bytes())).lead
    assert lead.name == "Jordan Ellis"


def test_message_ids_are_normalised():
    assert normal_message_id(" <abc.123@mail.example> ") == "abc.123@mail.example"
    assert normal_message_id("abc@x") == "abc@x"
    assert normal_message_id("") == ""
    assert normal_message_id("<a@x> (comment)") == "a@x"


def test_html_text_keeps_table_rows_as_labelled_lines():
    text = html_text(
        "<style>p{}</style><table><tr><td>Name</td><td>Jordan &amp; Sam</td></tr></table>"
        "<p>Hello<br>there</p><script>alert(1)</script>"
    )
    assert text.split("\n") == ["Name\tJordan & Sam", "", "Hello", "there"]


def test_an_inbox_mapping_adds_a_label_and_renames_a_type():
    message = _message(
        "Zillow <no-reply@mail.zillow.com>",
        "Rental inquiry",
        "Name: Ana Ruiz\nEmail: ana@example.com\nInquiry type: Renter\nMove date: ASAP\n",
    )
    email = email_from_mime(message.as_bytes())
    mapping = {"Move date": "timeline", "types": {"renter": "giveaway"}}
    lead = lead_read(email, mapping).lead
    assert (lead.kind, lead.time_frame) == (Kind.RENTER, "ASAP")
    inbox = Integration(kind=Integration.Kind.EMAIL, field_mapping=mapping)
    mapped = lead_mapping(lead, email, inbox)
    assert (mapped.source, mapped.fields["timeline"]) == ("giveaway", "within_3_months")
    assert lead_mapping(lead, email, None).source == "website"

"""Reading an import's file: the column guesses, names, dates, relationships, and the files we
refuse with a clear reason. No database."""

import io
from datetime import date, datetime

import openpyxl
import pytest

from leads.imports.cleaning import RowCleaner
from leads.imports.columns import mapping_guess, parse_when, relationship_from
from leads.imports.files import FileProblem, file_type_of, read_table
from leads.names import name_split


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["First", "Last", "E-mail", "Mobile", "Zip Code", "Last Contacted", "Type"],
            [
                "first_name",
                "last_name",
                "email",
                "phone",
                "postal_code",
                "last_contact",
                "relationship",
            ],
        ),
        (
            ["Name", "Email Address", "Cell Phone", "Street Address", "City", "State", "Postal"],
            ["full_name", "email", "phone", "property_address", "city", "state", "postal_code"],
        ),
        (
            ["Contact Name", "Primary Email", "Phone Number", "Tags", "Notes", "Assigned To"],
            ["full_name", "email", "phone", "tags", "notes", "owner"],
        ),
        (
            ["Client E-mail Address", "SMS Opt-In Date", "Stage"],
            ["email", "sms_consent", "relationship"],
        ),
        (["Favourite colour", ""], ["", ""]),
    ],
)
def test_the_mapping_is_guessed_from_common_header_spellings(headers, expected):
    assert mapping_guess(headers) == expected


def test_each_field_is_guessed_once_the_best_header_winning():
    assert mapping_guess(["Home Phone", "Mobile", "Work Phone"]) == ["", "phone", ""]
    assert mapping_guess(["Email", "E-mail 2"]) == ["email", ""]


def test_a_full_name_beside_first_and_last_names_is_left_out():
    assert mapping_guess(["Name", "First Name", "Last Name"]) == ["", "first_name", "last_name"]


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("John Smith", "John", "Smith"),
        ("Smith, John", "John", "Smith"),
        ("Mary Ann Smith", "Mary Ann", "Smith"),
        ("Dr. John Smith Jr.", "John", "Smith Jr."),
        ("Smith, John Jr.", "John", "Smith Jr."),
        ("Anna de la Cruz", "Anna", "de la Cruz"),
        ("John & Jane Smith", "John & Jane", "Smith"),
        ("Cher", "Cher", ""),
        ("Mrs. Okafor", "", "Okafor"),
        ("   ", "", ""),
    ],
)
def test_full_names_are_split_sensibly(full, first, last):
    assert name_split(full) == (first, last)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03/15/2024", date(2024, 3, 15)),
        ("3/5/24", date(2024, 3, 5)),
        ("2024-03-15", date(2024, 3, 15)),
        ("2024-03-15T09:30:00", date(2024, 3, 15)),
        ("03-15-2024", date(2024, 3, 15)),
        ("Mar 15, 2024", date(2024, 3, 15)),
    ],
)
def test_dates_are_read_in_us_and_iso_formats(text, expected):
    assert parse_when(text).date() == expected


def test_a_date_without_a_time_is_noon_in_the_brokerages_zone_and_nonsense_is_none():
    when = parse_when("03/15/2024")
    assert (when.hour, str(when.tzinfo)) == (12, "America/New_York")
    assert parse_when(datetime(2024, 3, 15, 8, 0)).hour == 8  # an Excel date cell
    assert parse_when("15/03/2024") is None  # day first is not a US date
    assert parse_when("soon") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Past Client", "past_client"),
        ("Closed - Buyer", "past_client"),
        ("SOI", "sphere"),
        ("Friend / family", "sphere"),
        ("Old lead", "past_lead"),
        ("Prospect", "past_lead"),
        ("Vendor", "other"),
        ("", ""),
    ],
)
def test_the_relationship_comes_from_a_stage_or_type(text, expected):
    assert relationship_from(text) == expected


def cleaner(mapping, owners=None):
    return RowCleaner(["x"] * len(mapping), mapping, owners or {})


def test_a_row_is_validated_like_a_form_with_every_reason(settings):
    row = cleaner(["email", "phone", "last_contact", "owner"]).clean(
        ["not-an-email", "555", "someday", "ghost"]
    )
    assert row.errors == [
        "Email “not-an-email” is not a valid address",
        "Phone “555” is not a phone number we can read",
        "Owner “ghost” is not an active agent's username",
        "Last contact date “someday” is not a date (write MM/DD/YYYY or YYYY-MM-DD)",
    ]


def test_a_row_needs_an_email_or_a_phone():
    assert cleaner(["full_name", "email", "phone"]).clean(["Ann Lee", "", ""]).errors == [
        "No email and no phone: a contact needs one of them"
    ]


def test_a_good_row_becomes_a_leads_values():
    row = cleaner(
        ["full_name", "email", "phone", "property_address", "city", "tags", "owner", "sms_consent"],
        owners={"alex": 7},
    ).clean(
        [
            "Okafor, Maya",
            "Maya@Example.com",
            "(413) 555-0187",
            "48 Harbor View Dr",
            "Springfield",
            "VIP; pool, vip",
            "ALEX",
            "01/02/2022",
        ]
    )
    assert row.errors == []
    values = row.values
    assert (values["first_name"], values["last_name"]) == ("Maya", "Okafor")
    assert (values["email"], values["phone"]) == ("maya@example.com", "+14135550187")
    assert values["property_address"] == "48 Harbor View Dr, Springfield"
    assert values["tags"] == ["VIP", "pool"]
    assert values["owner"] == 7
    assert values["sms_consent"].startswith("2022-01-02T12:00")


def test_a_consent_that_is_no_date_is_an_error_and_a_no_is_no_consent():
    assert cleaner(["email", "sms_consent"]).clean(["a@example.com", "yes"]).errors == [
        "SMS consent “yes” is not a date (write MM/DD/YYYY or YYYY-MM-DD)"
    ]
    row = cleaner(["email", "sms_consent"]).clean(["a@example.com", "No"])
    assert row.errors == [] and "sms_consent" not in row.values


def test_a_date_in_the_future_is_an_error():
    errors = cleaner(["email", "last_contact"]).clean(["a@example.com", "01/01/2999"]).errors
    assert errors == ["Last contact date 01/01/2999 is in the future"]


# --- Files ---------------------------------------------------------------------------------------


def xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_excel_workbook_is_read_with_its_numbers_and_dates():
    content = xlsx(
        [["Name", "Phone", "Last Contacted"], ["Ann Lee", 4135550187, datetime(2023, 5, 1)], []]
    )
    assert file_type_of("contacts.xlsx", content) == "xlsx"
    headers, rows = read_table(content, "xlsx")
    assert headers == ["Name", "Phone", "Last Contacted"]
    assert list(rows) == [(2, ["Ann Lee", "4135550187", datetime(2023, 5, 1)])]


def test_a_csv_is_read_in_the_encodings_and_delimiters_spreadsheets_write():
    content = "Nom;Email\r\nRené Dubois;rene@example.com\r\n".encode("cp1252")
    headers, rows = read_table(content, file_type_of("contacts.csv", content))
    assert headers == ["Nom", "Email"]
    assert list(rows) == [(2, ["René Dubois", "rene@example.com"])]
    bom = "\ufeffEmail,Phone\nann@example.com,\n".encode()
    assert read_table(bom, "csv")[0] == ["Email", "Phone"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("contacts.csv", b"   \n", "The file is empty."),
        ("contacts.xls", b"\xd0\xcf\x11\xe0rest", "old Excel file (.xls)"),
        ("contacts.pdf", b"%PDF-1.4 ...", "Upload a CSV file (.csv) or an Excel workbook"),
        (
            "photo.csv",
            b"\x89PNG\r\n\x1a\n\x00\x00",
            "Upload a CSV file (.csv) or an Excel workbook",
        ),
    ],
)
def test_a_file_we_cannot_import_says_why(name, content, message):
    with pytest.raises(FileProblem, match=message.replace("(", r"\(").replace(")", r"\)")):
        file_type_of(name, content)


def test_a_file_whose_first_row_is_data_is_refused():
    with pytest.raises(FileProblem, match="The first row should name the columns"):
        read_table(b"Ann Lee,ann@example.com,413-555-0187\n", "csv")


def test_a_broken_xlsx_is_refused():
    with pytest.raises(FileProblem, match="cannot be opened"):
        read_table(b"PK\x03\x04not really a zip", "xlsx")

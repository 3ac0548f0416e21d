"""Broker-written copy is text with {placeholders}, never a template language."""

import pytest
from django.core.exceptions import ValidationError

from sequences.placeholders import (
    clean_value,
    fill,
    sms_segments,
    template_errors,
    validate_template_text,
)


@pytest.mark.parametrize(
    "text",
    [
        "Hi {first_name}, it's {agent_name} at {brokerage}.",
        "No placeholders at all.",
        "",
    ],
)
def test_known_placeholders_are_accepted(text):
    assert template_errors(text) == []


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("Hi {firstname}", "Unknown placeholder {firstname}."),
        ("Hi {lead.email}", "Unknown placeholder {lead.email}."),
        ("Hi {first_name[0]}", "Unknown placeholder {first_name[0]}."),
        ("Hi {first_name!r}", "Unknown placeholder {first_name!r}."),
        ("Hi {first_name:>20}", "Unknown placeholder {first_name:>20}."),
        ("Hi {__class__}", "Unknown placeholder {__class__}."),
        ("Hi {{ first_name }}", "Use single braces"),
        ("{% if lead %}Hi{% endif %}", "Use single braces"),
        ("Hi {first_name", "Curly braces are only for placeholders"),
    ],
)
def test_anything_but_a_known_placeholder_is_rejected_with_a_reason(text, complaint):
    errors = template_errors(text)
    assert any(error.startswith(complaint) for error in errors), errors
    with pytest.raises(ValidationError):
        validate_template_text(text)


def test_fill_replaces_only_known_names_and_never_evaluates():
    values = {"first_name": "Ada", "brokerage": "Harbor & Main"}
    text = "Hi {first_name} from {brokerage}: {lead.email} {{first_name}} {first_name.__class__}"
    assert fill(text, values) == (
        "Hi Ada from Harbor & Main: {lead.email} {{first_name}} {first_name.__class__}"
    )


def test_values_are_inserted_as_text_and_not_searched_again():
    # A prospect who types "{brokerage}" as their name gets exactly that, not a substitution.
    assert fill("Hi {first_name}", {"first_name": "{brokerage}", "brokerage": "X"}) == (
        "Hi {brokerage}"
    )


def test_a_fallback_that_opens_a_line_is_capitalised():
    text = "Thanks,\n{agent_name}\nat {brokerage}. {agent_name} will call."
    assert fill(text, {"agent_name": "our team", "brokerage": "Harbor"}) == (
        "Thanks,\nOur team\nat Harbor. Our team will call."
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Ada   Lovelace ", "Ada Lovelace"),
        ("Zoë", "Zoë"),
        ("Ada\x00\x07", "Ada"),
        ("visit https://spam.example now", ""),
        ("www.cheap-pills.biz", ""),
        ("win at prizes.com", ""),
        ("ada@example.com", ""),
        ("x" * 41, ""),
    ],
)
def test_prospect_typed_values_that_look_like_links_are_never_copied(value, expected):
    assert clean_value(value, max_length=40) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 0, 0)),
        ("a" * 160, ("GSM-7", 160, 1)),
        ("a" * 161, ("GSM-7", 161, 2)),
        ("a" * 306, ("GSM-7", 306, 2)),
        ("a" * 307, ("GSM-7", 307, 3)),
        ("{}" + "a" * 156, ("GSM-7", 160, 1)),  # braces cost two characters each
        ("Zoë" + "a" * 67, ("UCS-2", 70, 1)),
        ("it’s" + "a" * 67, ("UCS-2", 71, 2)),  # one curly quote makes it UCS-2
        ("🏡", ("UCS-2", 2, 1)),
    ],
)
def test_sms_length_and_segments_as_carriers_bill_them(text, expected):
    assert sms_segments(text) == expected

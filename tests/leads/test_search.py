import pytest
from django.db import connection

from leads.models import Lead
from leads.selectors import lead_search, search_terms
from tests.factories import LeadFactory


@pytest.mark.parametrize(
    ("typed", "terms"),
    [
        ("(413) 555-0187", ["14135550187"]),
        ("+1 413 555 0187", ["14135550187"]),
        ("413.555.0187", ["14135550187"]),
        ("+44 20 7946 0958", ["442079460958"]),
        ("555-0187", ["5550187"]),
        ("12 Elm", ["12", "ELM"]),
        ("  ada   LOVELACE ", ["ADA", "LOVELACE"]),
        ("ada@example.com", ["ADA@EXAMPLE.COM"]),
        ("", []),
        ("   ", []),
    ],
)
def test_what_a_search_box_entry_must_match(typed, terms):
    assert search_terms(typed) == terms


def test_a_search_has_at_most_a_handful_of_words():
    assert len(search_terms("a b c d e f g h i j")) == 6


@pytest.mark.django_db
def test_search_characters_are_matched_literally():
    LeadFactory(first_name="100%", last_name="Sure")
    LeadFactory(first_name="Percy", last_name="Plain")
    assert [lead.first_name for lead in lead_search(Lead.objects.all(), "100%")] == ["100%"]
    assert list(lead_search(Lead.objects.all(), "_")) == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_answers_a_search_from_the_trigram_index():
    # pg_trgm is PostgreSQL's; SQLite scans its (small) table.
    LeadFactory.create_batch(3)
    query = lead_search(Lead.objects.all(), "lovelace")
    with connection.cursor() as cursor:
        # On three rows any plan is cheap: rule out the full scans to see what the index can do.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "lead_search_trgm" in plan, plan

"""Receipt codes: 65 random bits made by the database, unique, not derived from the id, not
sequential; typed in with any case, spaces or hyphens."""

from __future__ import annotations

import base64
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from streetsafe.reports.receipt_codes import ALPHABET, BITS, LENGTH, grouped, parse_code


def _codes(connection: sa.Connection, n: int) -> list[tuple[uuid.UUID, str]]:
    """Insert n reports in order and return (id, code) in insertion order."""
    return connection.execute(sa.text(
        "INSERT INTO reports (id, context, categories, occurred_at, geom) "
        "SELECT gen_random_uuid(), 'street', ARRAY['badly_lit'], date_trunc('hour', now()), "
        "ST_SetSRID(ST_MakePoint(-0.34, 53.74), 4326) FROM generate_series(1, :n) "
        "RETURNING id, receipt_code"), {"n": n}).all()  # fmt: skip


def test_every_report_gets_a_distinct_code_of_the_stated_form(connection) -> None:
    rows = _codes(connection, 2000)
    codes = [code for _, code in rows]
    assert len(set(codes)) == len(codes)
    assert all(parse_code(code) == code and len(code) == LENGTH for code in codes)
    assert len(ALPHABET) ** LENGTH >= 2**BITS >= 2**64


def test_codes_are_uniform_and_neither_sequential_nor_derived_from_the_id(connection) -> None:
    rows = _codes(connection, 2000)
    codes = [code for _, code in rows]
    assert codes != sorted(codes) and codes != sorted(codes, reverse=True)
    # Each of the 13 positions uses the 32 characters about equally (a chi-square per position).
    for position in range(LENGTH):
        counts = Counter(code[position] for code in codes)
        expected = len(codes) / len(ALPHABET)
        chi2 = sum((counts.get(ch, 0) - expected) ** 2 / expected for ch in ALPHABET)
        assert chi2 < 70, (position, chi2)  # 31 df: p < 1e-4 above 70
    for report_id, code in rows:
        assert not code.startswith(base64.b32encode(report_id.bytes)[:8].decode())


def test_the_column_refuses_a_code_of_another_form(connection) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        with connection.begin_nested():
            connection.execute(sa.text(
                "INSERT INTO reports (id, context, categories, occurred_at, geom, receipt_code) "
                "VALUES (gen_random_uuid(), 'street', ARRAY['badly_lit'], "
                "date_trunc('hour', now()), ST_SetSRID(ST_MakePoint(0, 0), 4326), 'ILOU')"
            ))  # fmt: skip


@pytest.mark.parametrize("typed, stored", [
    ("ABCD-EFGH-JKMNP", "ABCDEFGHJKMNP"),
    ("abcd efgh jkmnp", "ABCDEFGHJKMNP"),
    ("  abcdefghjkmnp ", "ABCDEFGHJKMNP"),
    ("0O1I-L234-56789", "0011123456789"),  # Crockford: O reads as 0, I and L as 1
    ("ABCD-EFGH-JKMN", None),  # 12 characters
    ("ABCD-EFGH-JKMNPQ", None),  # 14
    ("ABCD-EFGH-JKMNU", None),  # U is not in the alphabet
    ("ABCD/EFGH/JKMNP", None),
    ("' OR 1=1 --", None),
    ("A" * 500, None),
    ("", None),
])  # fmt: skip
def test_typed_codes_are_read_or_refused(typed: str, stored: str | None) -> None:
    assert parse_code(typed) == stored


def test_a_code_is_shown_in_three_groups() -> None:
    assert grouped("ABCDEFGHJKMNP") == "ABCD-EFGH-JKMNP"
    assert parse_code(grouped("ABCDEFGHJKMNP")) == "ABCDEFGHJKMNP"

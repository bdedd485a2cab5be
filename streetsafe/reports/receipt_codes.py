"""Receipt codes: what a reporter types in at /receipt, and how it is shown.

A code is 13 characters of Crockford's base32 (65 random bits), made by the database for each
report (`new_receipt_code()`, migration 0026) and stored in a unique column that goes with
the report. It is shown grouped, `ABCD-EFGH-JKLMN`; typed in, case, spaces and hyphens do not
matter, and I, L and O are read as 1, 1 and 0, as Crockford's alphabet intends.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O or U
LENGTH = 13
BITS = 65  # 13 characters of 5 bits
PATTERN = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
_GROUPS = (4, 4, 5)
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = re.compile(r"[\s\-–—]+")
MAX_TYPED = 40  # longer input is not a code, whatever it holds


def parse_code(typed: str) -> str | None:
    """The stored form of a typed code (`abcd efgh-jklmn` -> `ABCDEFGHJKLMN`), or None."""
    if len(typed) > MAX_TYPED:
        return None
    code = _SEPARATORS.sub("", typed).upper().translate(_READ_AS)
    return code if PATTERN.fullmatch(code) else None


def grouped(code: str) -> str:
    """A stored code as it is shown: `ABCD-EFGH-JKLMN`."""
    parts, start = [], 0
    for size in _GROUPS:
        parts.append(code[start : start + size])
        start += size
    return "-".join(parts)

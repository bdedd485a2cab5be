"""Remove contact details and identifiers from free text before any moderator sees it."""

from __future__ import annotations

import re

# Order matters: e-mail before phone (digits in addresses), postcode before registration.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[email]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)),
    (
        "[phone]",
        re.compile(
            r"(?<![\w+])(?:(?:\+|00)\d{1,3}[\s.-]?(?:\(0\)[\s.-]?)?|0)\d(?:[\s.-]?\d){7,10}\b"
        ),
    ),
    (
        "[postcode]",
        re.compile(
            r"\b(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})\b", re.I
        ),
    ),
    # Current format (AB12 CDE) is distinctive in any case; the older prefix (A123 BCD) and
    # suffix (ABC 123D) formats only in capitals, so "the M6 and" is left alone.
    ("[vehicle registration]", re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b", re.IGNORECASE)),
    (
        "[vehicle registration]",
        re.compile(r"\b(?:[A-Z]\d{1,3}\s?[A-Z]{3}|[A-Z]{3}\s?\d{1,3}[A-Z])\b"),
    ),
)


def scrub(text: str) -> str:
    """`text` with e-mail addresses, phone numbers, UK postcodes and registrations replaced."""
    for placeholder, pattern in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text

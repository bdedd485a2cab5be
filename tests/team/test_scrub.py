"""Contact details and identifiers never reach a moderator."""

from __future__ import annotations

import pytest

from streetsafe.team.scrub import scrub


@pytest.mark.parametrize(
    "text, placeholder, gone",
    [
        ("mail me at jo.bloggs+x@example.co.uk please", "[email]", "example"),
        ("ring 07700 900123 after", "[phone]", "900123"),
        ("ring +44 7700 900123", "[phone]", "900123"),
        ("call 01482 300300", "[phone]", "300300"),
        ("near HU1 3DZ by the station", "[postcode]", "3DZ"),
        ("near hu13dz", "[postcode]", "hu13dz"),
        ("postcode SW1A 1AA", "[postcode]", "1AA"),
        ("car AB12 CDE followed me", "[vehicle registration]", "CDE"),
        ("car ab12cde followed me", "[vehicle registration]", "ab12cde"),
        ("old car A123 BCD", "[vehicle registration]", "BCD"),
        ("old car ABC 123D", "[vehicle registration]", "123D"),
    ],
)
def test_identifier_is_replaced(text: str, placeholder: str, gone: str) -> None:
    cleaned = scrub(text)
    assert placeholder in cleaned
    assert gone not in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "The bus stop on the M6 the lights were out",
        "Waited 45 minutes after 11pm on route 105",
        "Group of 3 shouting at 10:30",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub(text) == text

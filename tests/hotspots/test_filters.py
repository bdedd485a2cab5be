"""Filters: every bad value is a 400 naming its field; hours wrap midnight."""

from __future__ import annotations

import pytest

from streetsafe.errors import InvalidRequest
from streetsafe.hotspots.filters import parse_filters


@pytest.mark.parametrize(
    "args, field",
    [
        ({"res": "6"}, "res"),
        ({"res": "x"}, "res"),
        ({"res": ""}, "res"),  # found by the fuzzer: an empty value was read as absent
        ({"from": ""}, "from"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "3,2,1,4"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"categories": "badly_lit,nope"}, "categories"),
        ({"context": "indoors"}, "context"),
        ({"mode": "rocket"}, "mode"),
        ({"from": "2025-13-01"}, "from"),
        ({"to": "0.0"}, "to"),  # found by the fuzzer: pydantic read it as a Unix time
        ({"from": "1700000000"}, "from"),
        ({"from": "2025-03", "to": "2025-02"}, "to"),
        ({"from": "2025-03-02"}, "from"),  # a single day is for teams only
        ({"to": "2025-13"}, "to"),
        ({"hours": "19-22"}, "hours"),  # not on the 3-hour bands
        ({"hours": "23-24"}, "hours"),
        ({"hours": "18"}, "hours"),
        ({"hours": "18:30-18:45"}, "hours"),
        ({"hours": "18-18"}, "hours"),
        ({"hours": "25-3"}, "hours"),
        ({"days": "fri,someday"}, "days"),
        ({"neighbourhood": "x" * 65}, "neighbourhood"),
    ],
)
def test_bad_filter_names_its_field(args: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_filters(args)
    assert raised.value.field == field


def test_hours_wrap_midnight_and_days_parse() -> None:
    filters = parse_filters({"hours": "18-6", "days": "Fri,sat", "res": "8"})
    assert filters.hour_list == [18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5]
    assert filters.isodows == [5, 6]
    assert filters.res == 8 and filters.has_time_filter


def test_one_hour_window_and_single_days_are_for_teams() -> None:
    team = parse_filters({"hours": "23-24", "from": "2025-03-02", "to": "2025-03-02"}, public=False)
    assert team.hour_list == [23] and team.from_date == team.to_date


def test_public_months_cover_whole_calendar_months() -> None:
    filters = parse_filters({"from": "2024-02", "to": "2024-02", "days": "weekend"})
    assert (str(filters.from_date), str(filters.to_date)) == ("2024-02-01", "2024-02-29")
    assert filters.isodows == [6, 7]

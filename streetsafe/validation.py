"""Typed values shared by request models."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """Only YYYY-MM-DD text: pydantic alone would read `0.0` or `1700000000` as a date."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


# A calendar date, written YYYY-MM-DD.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]

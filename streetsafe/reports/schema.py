"""The report as it arrives (ReportIn) and the receipt we send back (Receipt).

Strict types: a latitude must be a JSON number, not a string; NaN and Infinity are
rejected; unknown fields are rejected. The same models drive the OpenAPI document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import FieldError as _FieldError
from ..i18n import gettext
from ..vocabulary import CATEGORY_IDS, MAX_CATEGORIES, MODES

MAX_BODY_BYTES = 16 * 1024
MAX_DESCRIPTION_CHARS = 1000
MAX_AGE = timedelta(days=366)
CLOCK_SKEW = timedelta(minutes=5)  # phones' clocks run a little fast; later than this is refused

Context = Literal["street", "at_stop", "on_vehicle"]
Mode = Literal[MODES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class LocationIn(_Strict):
    """A WGS84 point as the phone reports it."""

    lat: float = Field(ge=-90, le=90, description="Latitude, degrees north")
    lon: float = Field(ge=-180, le=180, description="Longitude, degrees east")


class TransitIn(_Strict):
    """What the reporter said about transit: a stop, a route, a mode (ids from /transit)."""

    stop_id: str | None = Field(None, min_length=1, max_length=160)
    route_id: str | None = Field(None, min_length=1, max_length=160)
    mode: Mode | None = None


class ReportIn(_Strict):
    """POST /api/v1/reports body."""

    context: Context
    location: LocationIn | None = Field(
        None, description="Required unless transit.stop_id is given"
    )
    categories: list[str] = Field(
        min_length=1, max_length=MAX_CATEGORIES, description="1 to 6 ids from /categories"
    )
    occurred_at: AwareDatetime | None = Field(
        None, description="When it happened (default: now); not in the future, at most 366 days ago"
    )
    transit: TransitIn | None = None
    description: str | None = Field(
        None,
        max_length=MAX_DESCRIPTION_CHARS,
        description="Free text, moderated, never returned by any public endpoint",
    )

    @field_validator("categories")
    @classmethod
    def _known_and_unique(cls, categories: list[str]) -> list[str]:
        for index, category in enumerate(categories):
            if category not in CATEGORY_IDS:
                raise _at(
                    gettext("unknown category %(id)r; see /api/v1/categories", id=category),
                    index,
                )
            if category in categories[:index]:
                raise _at(gettext("category %(id)r is repeated", id=category), index)
        return categories

    @field_validator("occurred_at")
    @classmethod
    def _recent_past(cls, occurred_at: datetime | None) -> datetime | None:
        if occurred_at is None:
            return None
        now = datetime.now(UTC)
        if occurred_at > now + CLOCK_SKEW:
            raise ValueError(gettext("is in the future"))
        if occurred_at < now - MAX_AGE:
            raise ValueError(gettext("is more than 366 days ago"))
        return occurred_at

    @model_validator(mode="after")
    def _context_rules(self) -> ReportIn:
        transit = self.transit or TransitIn()
        if self.location is None and transit.stop_id is None:
            raise _at(
                gettext("is required unless transit.stop_id is given"), "location", root=True
            )
        if self.context == "street" and (transit.stop_id or transit.route_id):
            field = "stop_id" if transit.stop_id else "route_id"
            raise _at(gettext("does not apply to a street report; use at_stop or on_vehicle"),
                f"transit.{field}",
                root=True,
            )
        return self


def _at(message: str, where: str | int, root: bool = False) -> _FieldError:
    return _FieldError(message, where, root)


class PointOut(BaseModel):
    lat: float
    lon: float


class StopOut(BaseModel):
    id: str
    name: str
    distance_m: float | None = Field(description="From the given location to the stop, metres")


class RouteOut(BaseModel):
    id: str
    short_name: str | None
    direction: int | None
    between: list[str] | None = Field(
        description="Names of the two consecutive stops the point lies between"
    )
    along_m: float | None = Field(description="Distance along the route's shape, metres")
    distance_m: float = Field(description="From the given location to the route, metres")


class SnappedOut(BaseModel):
    point: PointOut
    stop: StopOut | None
    route: RouteOut | None


class Receipt(BaseModel):
    """What the reporter gets back: what we stored, never the description."""

    id: str = Field(description="Opaque, unguessable report id")
    receipt_code: str = Field(
        description="13 characters shown as ABCD-EFGH-JKLMN (65 random bits): type it in at "
        "/receipt to see what was recorded and what has happened there since"
    )
    context: Context
    occurred_at: datetime
    categories: list[str]
    snapped: SnappedOut
    cells: dict[str, str] = Field(description="H3 cell of the point at each resolution")


@dataclass(frozen=True)
class Intake:
    """A validated report and the Idempotency-Key it came with, if any."""

    report: ReportIn
    key: str | None = None

"""The hotspot query: one typed model, HotspotQuery, parsed once per request.

Every hotspot reader takes it: the public layers, the team layers and reports, tiles and
OGC items (conditions.py turns it into SQL). The OpenAPI document describes its fields as
the strings a query string carries (each field's `WithJsonSchema`), so the model that
validates is the model that is documented. Errors name the offending parameter.

Hours are whole local hours: `18-6` means 18:00 to 06:00 (wrapping midnight, end
exclusive), so no window is narrower than one hour.

Public queries live on a coarse lattice (PUBLIC_LATTICE): whole calendar months
(`from=2026-01`, `to=2026-03`), unions of fixed 3-hour bands (`hours=18-6`: 18-21, 21-24,
0-3, 3-6), weekday/weekend or days of the week. Single days and single hours are for teams
(`parse_filters(..., public=False)`); a finer public filter is a 400 saying what is allowed.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from ..errors import FieldError, InvalidRequest, invalid_from
from ..i18n import N_, gettext
from ..i18n import lazy_gettext as _l
from ..validation import IsoDate
from ..vocabulary import CONTEXTS, MODES
from .rollups import CATEGORY_IDS, categories_to_mask

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_GROUPS = {"weekday": DAYS[:5], "weekend": DAYS[5:]}
HOUR_BAND = 3
PUBLIC_LATTICE = N_(
    "public filters: from/to as whole months YYYY-MM, hours as 3-hour bands starting at "
    "0, 3, ..., 21 (e.g. 18-6), days as weekday, weekend or mon..sun"
)
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MIN_RES, MAX_RES, DEFAULT_RES = 7, 10, 9
LIST_FIELDS = ("categories", "context", "mode", "days")
# The list filters whose values come from the vocabulary: field -> (allowed, what one is).
VOCABULARY = {"categories": (CATEGORY_IDS, "category"), "context": (CONTEXTS, "context"),
              "mode": (MODES, "mode")}  # fmt: skip


def _as_text(pattern: str) -> WithJsonSchema:
    """How OpenAPI shows a field: query-string text of this pattern (empty: no filter)."""
    return WithJsonSchema({"anyOf": [{"type": "string", "pattern": pattern}, {"type": "null"}]})


_LIST = _as_text(r"^([a-z_]+(,[a-z_]+)*)?$")
_CONTEXTS = _as_text(r"^((street|at_stop|on_vehicle)(,(street|at_stop|on_vehicle))*)?$")
_DATE = _as_text(r"^(\d{4}-\d{2}(-\d{2})?)?$")
_HOURS = _as_text(r"^(\d{1,2}-\d{1,2})?$")
_BBOX = _as_text(r"^(-?\d+(\.\d+)?,-?\d+(\.\d+)?,-?\d+(\.\d+)?,-?\d+(\.\d+)?)?$")
# What tiles leave out of the query: the zoom chooses the resolution and the tile the box.
TILE_EXCLUDES = frozenset({"res", "bbox"})


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _known(values: list[str], allowed: tuple[str, ...], name: str) -> list[str]:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(
            gettext("unknown %(name)s %(values)s; use %(allowed)s", name=name,
                    values=", ".join(unknown), allowed=", ".join(allowed))
        )
    return sorted(set(values), key=allowed.index)


class HotspotQuery(BaseModel):
    """Filters shared by every hotspot layer (cells, stops, route segments, tiles)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    res: int = Field(DEFAULT_RES, ge=MIN_RES, le=MAX_RES, description="H3 resolution (cells only)")
    bbox: Annotated[tuple[float, float, float, float] | None, _BBOX] = Field(
        None, description="minLon,minLat,maxLon,maxLat (WGS84)"
    )
    categories: Annotated[list[str], _LIST] = Field(
        default_factory=list, description="Category ids, comma-separated"
    )
    context: Annotated[list[str], _CONTEXTS] = Field(default_factory=list)
    mode: Annotated[list[str], _LIST] = Field(
        default_factory=list, description="Modes: bus, tram, metro, rail..."
    )
    from_date: Annotated[IsoDate | None, _DATE] = Field(
        None, alias="from", description="First month, YYYY-MM (teams: days too)"
    )
    to_date: Annotated[IsoDate | None, _DATE] = Field(
        None, alias="to", description="Last month, YYYY-MM (teams: days too)"
    )
    hours: Annotated[tuple[int, int] | None, _HOURS] = Field(
        None, description="Local hours START-END in 3-hour bands, e.g. 18-6"
    )
    days: Annotated[list[str], _LIST] = Field(
        default_factory=list, description="weekday, weekend or days, e.g. fri,sat"
    )
    neighbourhood: str | None = Field(None, min_length=1, max_length=64)
    # Set by code, never from a query string: a team's own neighbourhoods.
    neighbourhood_ids: SkipJsonSchema[tuple[int, ...] | None] = None

    @field_validator(*LIST_FIELDS, mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split(value)

    @field_validator(*VOCABULARY)
    @classmethod
    def _vocabulary(cls, value: list[str], info: ValidationInfo) -> list[str]:
        allowed, name = VOCABULARY[info.field_name]
        return _known(value, allowed, name)

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        days: list[str] = []
        for v in value:
            days.extend(DAY_GROUPS.get(v.lower(), [v.lower()[:3]]))
        return _known(days, DAYS, "day")

    @field_validator("bbox", mode="before")
    @classmethod
    def _bbox(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = value.split(",")
            if len(parts) != 4:
                raise ValueError(gettext("bbox must be minLon,minLat,maxLon,maxLat"))
            try:
                value = tuple(float(p) for p in parts)
            except ValueError:
                raise ValueError(
                    gettext("bbox must be four numbers: minLon,minLat,maxLon,maxLat")
                ) from None
        return value

    @field_validator("bbox")
    @classmethod
    def _bbox_range(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return value
        min_lon, min_lat, max_lon, max_lat = value
        if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
            raise ValueError(
                gettext("bbox must be minLon,minLat,maxLon,maxLat within -180..180, -90..90")
            )
        return value

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        start, sep, end = value.partition("-")
        if not sep or not start.strip().isdigit() or not end.strip().isdigit():
            raise ValueError(
                gettext("hours must be two whole hours START-END such as 18-6; "
                        "windows narrower than one hour are refused")
            )
        return int(start), int(end)

    @field_validator("hours")
    @classmethod
    def _hours_range(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is None:
            return value
        start, end = value
        if not (0 <= start <= 23 and 0 <= end <= 24):
            raise ValueError(gettext("hours must run from 0-23 to 0-24"))
        if start == end % 24:
            raise ValueError(
                gettext("hours must span at least one hour (start and end differ)")
            )
        return value

    @model_validator(mode="after")
    def _dates(self) -> HotspotQuery:
        if self.from_date and self.to_date and self.to_date < self.from_date:
            raise FieldError(gettext("must not be before from"), "to", root=True)
        return self

    @property
    def category_mask(self) -> int:
        """Bitmask of the requested categories (0: no category filter)."""
        return categories_to_mask(self.categories)

    @property
    def hour_list(self) -> list[int]:
        """The local hours 0-23 the hours filter keeps (empty: all)."""
        if self.hours is None:
            return []
        start, end = self.hours
        return [h % 24 for h in range(start, end if end > start else end + 24)]

    @property
    def isodows(self) -> list[int]:
        """ISO weekday numbers (1 = Monday) of the days filter."""
        return [DAYS.index(d) + 1 for d in self.days]

    @property
    def has_time_filter(self) -> bool:
        """True when the query needs the day/hour rollups rather than the totals."""
        return bool(self.from_date or self.to_date or self.hours or self.days)

    @property
    def is_unfiltered(self) -> bool:
        """True when only res and bbox are set: the per-cell summaries answer the query."""
        narrowing = (self.categories, self.context, self.mode, self.neighbourhood)
        scoped = self.neighbourhood_ids is not None
        return not (self.has_time_filter or scoped or any(narrowing))

    def describe(self) -> dict[str, object]:
        """The filters as they were applied, for download metadata."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=False)


# The name older callers know.
HotspotFilters = HotspotQuery
QUERY_PARAMETERS = frozenset(
    {*HotspotQuery.model_fields, "from", "to"} - {"neighbourhood_ids", "from_date", "to_date"}
)


def parse_filters(
    args: Mapping[str, str], public: bool = True, **overrides: Any
) -> HotspotQuery:
    """Validate query-string values into a HotspotQuery; a 400 naming the field otherwise.

    Public queries (the default) must stay on the coarse lattice; teams pass public=False.
    Parameters that are not filters (format, limit, offset...) are left to their own parser.
    """
    # An empty value is a value: `res=` is a 400, not the default (the dashboard leaves
    # unset filters out of its URLs; the schemathesis run sends `res=`).
    values: dict[str, Any] = {k: v for k, v in args.items() if k in QUERY_PARAMETERS}
    for name in ("from", "to"):
        if isinstance(values.get(name), str):
            values[name] = _month_or_day(name, values[name], public)
    values.update(overrides)
    try:
        query = HotspotQuery.model_validate(values)
    except ValidationError as exc:
        raise invalid_from(exc) from None
    if public and query.hours and any(h % HOUR_BAND for h in query.hours):
        raise InvalidRequest(
            _l("hours: public windows are whole %(band)s-hour bands; %(lattice)s",
               band=HOUR_BAND, lattice=_l(PUBLIC_LATTICE)),
            "hours",
        )
    return query


def _month_or_day(name: str, value: str, public: bool) -> str:
    """`from`/`to` as a date: a month YYYY-MM stands for its first (from) or last (to) day."""
    month = _MONTH.fullmatch(value)
    if month:
        year, number = int(month[1]), int(month[2])
        if not 1 <= number <= 12:
            raise InvalidRequest(_l("%(name)s: month must be 01-12", name=name), name)
        day = 1 if name == "from" else calendar.monthrange(year, number)[1]
        return f"{year:04d}-{number:02d}-{day:02d}"
    if public and _DAY.fullmatch(value):
        raise InvalidRequest(
            _l("%(name)s: public layers filter by whole months, e.g. 2026-01 (single days are "
               "for teams); %(lattice)s", name=name, lattice=_l(PUBLIC_LATTICE)),
            name,
        )
    return value

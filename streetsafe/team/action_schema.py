"""What a team sends to record or edit an action: its kind, dates, dosage and place."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from ..i18n import gettext
from ..reports.schema import _at
from ..validation import IsoDate

# The one list of action kinds: the API, the dashboard (via /actions) and the audit read it.
ACTION_KINDS = ("lighting", "cctv", "patrol", "staffing", "environmental", "outreach", "other")
ActionKind = Literal["lighting", "cctv", "patrol", "staffing", "environmental", "outreach", "other"]

MAX_POLYGON_POSITIONS = 2000
Radius = Annotated[float, Field(gt=0, le=5000, allow_inf_nan=False)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
PublicId = Annotated[str, Field(min_length=1, max_length=160)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CircleIn(_Strict):
    type: Literal["circle"]
    lon: Lon
    lat: Lat
    radius_m: Radius = 200


class GeoJsonPolygon(_Strict):
    type: Literal["Polygon"]
    coordinates: list[list[tuple[Lon, Lat]]] = Field(min_length=1, max_length=50)

    @field_validator("coordinates")
    @classmethod
    def _closed_rings(cls, rings: list[list[tuple[float, float]]]) -> list:
        if sum(len(ring) for ring in rings) > MAX_POLYGON_POSITIONS:
            raise ValueError(gettext("at most %(most)s positions", most=MAX_POLYGON_POSITIONS))
        for ring in rings:
            if len(ring) < 4 or ring[0] != ring[-1]:
                raise ValueError(
                    gettext("each ring needs at least 4 positions, the last equal to the first")
                )
        return rings


class PolygonIn(_Strict):
    type: Literal["polygon"]
    geometry: GeoJsonPolygon


class StopIn(_Strict):
    type: Literal["stop"]
    stop_id: PublicId
    radius_m: Radius = 150  # the at-stop radius reports are snapped within by default


class SegmentIn(_Strict):
    type: Literal["segment"]
    route_id: PublicId
    from_stop_id: PublicId
    to_stop_id: PublicId
    radius_m: Radius = 100  # either side of the line: the on-vehicle snapping radius

    @model_validator(mode="after")
    def _two_stops(self) -> SegmentIn:
        if self.from_stop_id == self.to_stop_id:
            raise _at(gettext("must differ from from_stop_id"), "to_stop_id")
        return self


PlaceIn = Annotated[CircleIn | PolygonIn | StopIn | SegmentIn, Field(discriminator="type")]


class DosageIn(_Strict):
    amount: float = Field(gt=0, le=1_000_000, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=80)


# What a receipt page shows of a published action (scrubbed, and only once approved).
PublicTitle = Annotated[str, Field(min_length=3, max_length=120)]
PublicText = Annotated[str, Field(max_length=1000)]


class ActionIn(_Strict):
    """A new action: `place`, or the older body's top-level lon, lat and radius_m (a circle)."""

    title: str | None = Field(None, min_length=3, max_length=200)
    kind: ActionKind = "other"
    started_on: IsoDate
    ended_on: IsoDate | None = None
    dosage: DosageIn | None = None
    place: PlaceIn | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    radius_m: Radius | None = None
    public: StrictBool = False
    public_title: PublicTitle | None = None
    public_text: PublicText | None = None

    @model_validator(mode="after")
    def _one_place_and_ordered_dates(self) -> ActionIn:
        if self.ended_on is not None and self.ended_on < self.started_on:
            raise _at(gettext("must be on or after started_on"), "ended_on", root=True)
        legacy = self.lon is not None or self.lat is not None or self.radius_m is not None
        if self.place is not None and legacy:
            raise _at(
                gettext("give either place or lon/lat/radius_m, not both"), "place", root=True
            )
        if self.place is None:
            for name in ("lon", "lat"):
                if getattr(self, name) is None:
                    field = name if legacy else "place"
                    raise _at(gettext("is required"), field, root=True)
        if self.public and self.public_title is None:
            raise _at(gettext("is required to publish an action"), "public_title", root=True)
        return self

    def the_place(self) -> CircleIn | PolygonIn | StopIn | SegmentIn:
        """The place, the older body's circle included."""
        if self.place is not None:
            return self.place
        return CircleIn(type="circle", lon=self.lon, lat=self.lat, radius_m=self.radius_m or 200)

    def the_title(self) -> str:
        """The title given, or the kind's name."""
        return self.title or f"{self.kind} action"


class ActionPatch(_Strict):
    """An edit: only the fields given change; `ended_on` or `dosage` null clears them."""

    title: str | None = Field(None, min_length=3, max_length=200)
    kind: ActionKind | None = None
    started_on: IsoDate | None = None
    ended_on: IsoDate | None = None
    dosage: DosageIn | None = None
    place: PlaceIn | None = None
    public: StrictBool | None = None
    public_title: PublicTitle | None = None
    public_text: PublicText | None = None  # null clears it

    @model_validator(mode="after")
    def _something_and_no_null_requireds(self) -> ActionPatch:
        if not self.model_fields_set:
            raise _at(gettext("give at least one field to change"), "body", root=True)
        for name in ("title", "kind", "started_on", "place", "public", "public_title"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise _at(gettext("cannot be null"), name, root=True)
        return self

"""Transit endpoints for the report form: stops nearby, stop and route search, one route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Literal, TypeVar

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from ..db import db_read_session
from ..errors import NotFound
from ..i18n import gettext
from ..i18n import lazy_gettext as _l
from ..transit import queries, search
from ..vocabulary import MODES
from .openapi import ErrorBody, operation
from .parsing import parse_query

bp = Blueprint("transit", __name__, url_prefix="/api/v1/transit")

Mode = Literal[MODES]  # type: ignore[valid-type]  # the modes of models.MODES


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class NearbyStopsQuery(_Query):
    """Query string of GET /api/v1/transit/stops/nearby."""

    lat: float = Field(ge=-90, le=90, description="WGS84 latitude")
    lon: float = Field(ge=-180, le=180, description="WGS84 longitude")
    radius_m: float = Field(300, gt=0, le=2000, description="Search radius in metres")
    limit: int = Field(10, ge=1, le=50, description="At most this many stops")
    mode: Mode | None = Field(None, description="Only stops of this mode")


class StopSearchQuery(_Query):
    """Query string of GET /api/v1/transit/stops."""

    q: str = Field(
        min_length=1,
        max_length=64,
        description="Words of the stop's name or locality (each the start of a word), "
        "its ATCO code, or the code printed on the stop",
    )
    mode: Mode | None = Field(None, description="Only stops of this mode")
    near_lat: float | None = Field(None, ge=-90, le=90, description="Order by distance from")
    near_lon: float | None = Field(None, ge=-180, le=180, description="Order by distance from")
    limit: int = Field(10, ge=1, le=50, description="At most this many stops")

    @model_validator(mode="after")
    def _near_pair(self) -> StopSearchQuery:
        return _both_or_neither(self)


class RoutesQuery(_Query):
    """Query string of GET /api/v1/transit/routes."""

    q: str = Field(
        "", max_length=64, description="The route's number, or the start of words of its name"
    )
    mode: Mode | None = Field(None, description="Only routes of this mode")
    near_lat: float | None = Field(None, ge=-90, le=90, description="Order by distance from")
    near_lon: float | None = Field(None, ge=-180, le=180, description="Order by distance from")
    limit: int = Field(10, ge=1, le=50, description="At most this many routes")

    @model_validator(mode="after")
    def _near_pair(self) -> RoutesQuery:
        return _both_or_neither(self)


def _both_or_neither(query: StopSearchQuery | RoutesQuery) -> StopSearchQuery | RoutesQuery:
    """near_lat and near_lon come together or not at all."""
    if (query.near_lat is None) != (query.near_lon is None):
        missing = "near_lon" if query.near_lon is None else "near_lat"
        raise ValueError(
            gettext("give both near_lat and near_lon, or neither (%(missing)s missing)",
                    missing=missing)
        )
    return query


def _near(query: StopSearchQuery | RoutesQuery) -> tuple[float, float] | None:
    return (query.near_lon, query.near_lat) if query.near_lon is not None else None


def _search(model: type[StopSearchQuery | RoutesQuery], find: Callable[..., list]) -> list:
    """Validate a search's query string into `model` and run `find` on it (stops, routes)."""
    query = parse_query(model, request.args)
    return find(db_read_session(), query.q, query.limit, query.mode, _near(query))


class PointGeometry(BaseModel):
    """A GeoJSON Point, [lon, lat] in WGS84."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class LineGeometry(BaseModel):
    """A GeoJSON LineString, [[lon, lat], ...] in WGS84."""

    type: Literal["LineString"] = "LineString"
    coordinates: list[tuple[float, float]]


Properties = TypeVar("Properties", bound=BaseModel)


class StopProperties(BaseModel):
    id: str
    name: str
    mode: str | None
    distance_m: float = Field(description="Geodesic distance from the query point, metres")
    routes: list[str] = Field(description="Short names of the routes serving the stop")


class PointFeature(BaseModel, Generic[Properties]):
    """A GeoJSON point feature with the given properties."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: Properties


class PointCollection(BaseModel, Generic[Properties]):
    """A GeoJSON FeatureCollection of point features with the given properties."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[PointFeature[Properties]]

    @classmethod
    def of(cls, items: list, properties: type[Properties]) -> PointCollection:
        """Features of dataclasses with `id`, `lon`, `lat` and the properties' fields."""
        return cls(features=[
            {"id": item.id, "geometry": PointGeometry(coordinates=(item.lon, item.lat)),
             "properties": properties(**{key: getattr(item, key)
                                         for key in properties.model_fields})}
            for item in items
        ])  # fmt: skip


class StopCollection(PointCollection[StopProperties]):
    """Stops nearest first."""


class FoundStopProperties(BaseModel):
    id: str
    name: str
    locality: str | None
    mode: str | None
    atco_code: str | None = Field(description="The stop's NaPTAN ATCO code, when NaPTAN has it")
    code: str | None = Field(description="The code printed on the stop (SMS code), if known")
    routes: list[str] = Field(description="Short names of the routes serving the stop")
    distance_m: float | None = Field(
        None, description="Distance from near_lat/near_lon, metres (when given)"
    )


class FoundStopCollection(PointCollection[FoundStopProperties]):
    """Matching stops: exact codes first, then names starting with q, then any word."""


class RouteItem(BaseModel):
    id: str
    short_name: str | None
    long_name: str | None
    mode: str
    feed: str
    distance_m: float | None = Field(
        None, description="Distance from near_lat/near_lon to the route, metres (when given)"
    )


class RouteList(RootModel[list[RouteItem]]):
    """Matching routes, nearest first when near_lat/near_lon are given."""


class ShapeProperties(BaseModel):
    kind: Literal["shape"] = "shape"
    direction: int
    length_m: float
    from_stops: bool = Field(description="True when the line was built from the stop sequence")


class RouteStopProperties(BaseModel):
    kind: Literal["stop"] = "stop"
    id: str
    name: str
    direction: int
    seq: int
    distance_m: float | None = Field(description="Distance along the route's shape, metres")


class ShapeFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: LineGeometry
    properties: ShapeProperties


class RouteStopFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: PointGeometry
    properties: RouteStopProperties


class RouteCollection(BaseModel):
    """A route's shapes (per direction) followed by its stops in order."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    route: RouteItem
    features: list[ShapeFeature | RouteStopFeature]


@bp.get("/stops/nearby")
@operation("/api/v1/transit/stops/nearby", "get", tag="transit",
           summary="Stops near a point, nearest first",
           query=NearbyStopsQuery, responses={200: StopCollection})
def stops_nearby() -> ResponseReturnValue:
    """GeoJSON stops within radius_m of lat/lon."""
    query = parse_query(NearbyStopsQuery, request.args)
    stops = queries.nearby_stops(
        db_read_session(), query.lon, query.lat, query.radius_m, query.limit, query.mode
    )
    collection = StopCollection.of(stops, StopProperties)
    return jsonify(collection.model_dump(mode="json"))


@bp.get("/stops")
@operation("/api/v1/transit/stops", "get", tag="transit",
           summary="Stops by name, locality, ATCO code or the code printed on the stop",
           query=StopSearchQuery, responses={200: FoundStopCollection})
def stops_search() -> ResponseReturnValue:
    """Stop search for a location without the map; nearest first among equals near a point."""
    found = _search(StopSearchQuery, search.search_stops)
    collection = FoundStopCollection.of(found, FoundStopProperties)
    return jsonify(collection.model_dump(mode="json"))


@bp.get("/routes")
@operation("/api/v1/transit/routes", "get", tag="transit",
           summary="Routes by number or by the start of any word of their name",
           query=RoutesQuery, responses={200: RouteList})
def routes() -> ResponseReturnValue:
    """Route search by number or name words, nearest first when near_lat/near_lon are given."""
    found = _search(RoutesQuery, search.search_routes)
    items = RouteList([RouteItem(**vars(route)) for route in found])
    return jsonify(items.model_dump(mode="json"))


@bp.get("/routes/<path:route_id>")
@operation("/api/v1/transit/routes/{route_id}", "get", tag="transit",
           summary="One route's shapes and ordered stops as GeoJSON",
           path_params={"route_id": "The route's id, as the route search returns it"},
           responses={200: RouteCollection, 404: ErrorBody})
def route(route_id: str) -> ResponseReturnValue:
    """The route's shapes and stops; 404 naming `route_id` when unknown."""
    detail = queries.route_detail(db_read_session(), route_id)
    if detail is None:
        raise NotFound(_l("no route with id %(id)r", id=route_id), "route_id")
    features: list[ShapeFeature | RouteStopFeature] = [
        ShapeFeature(
            geometry=LineGeometry(coordinates=shape["geometry"]["coordinates"]),
            properties=ShapeProperties(
                direction=shape["direction"],
                length_m=shape["length_m"],
                from_stops=shape["from_stops"],
            ),
        )
        for shape in detail.shapes
    ]
    features += [
        RouteStopFeature(
            geometry=PointGeometry(coordinates=(stop["lon"], stop["lat"])),
            properties=RouteStopProperties(
                **{k: stop[k] for k in ("id", "name", "direction", "seq", "distance_m")}
            ),
        )
        for stop in detail.stops
    ]
    collection = RouteCollection(route=RouteItem(**vars(detail.route)), features=features)
    return jsonify(collection.model_dump(mode="json"))

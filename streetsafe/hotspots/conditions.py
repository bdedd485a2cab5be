"""The one place a HotspotQuery becomes SQL: conditions on rollups and on raw reports.

Public and team layers, tiles and OGC items read the rollups (aliased `r`, their sites `s`);
the team's report download reads raw reports (`r`, local time from hotspot_timezone()).
Both are described by a `Columns` value, so each filter is written here once:

    where, params = conditions(session, query)               # a rollup aliased r
    where, params = conditions(session, query, REPORTS)      # the reports table aliased r
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import h3
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import Unprocessable
from ..i18n import lazy_gettext as _l
from .filters import HotspotQuery

METRES_PER_DEGREE = 111_320.0
ENVELOPE_SQL = "ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)"
Where = tuple[list[str], dict[str, object]]


@dataclass(frozen=True)
class Columns:
    """Where a query's filters find their values in one kind of table (aliased `r`)."""

    categories: str  # a test of :categories
    category_value: Callable[[HotspotQuery], object]
    day: str
    hour: str
    # Raw reports are read by teams only: no neighbourhood ids means no rows, never all.
    scoped: bool = False


ROLLUPS = Columns(
    categories="r.category_mask & :categories <> 0",
    category_value=lambda query: query.category_mask,
    day="r.day",
    hour="r.hour",
)
_LOCAL = "(r.occurred_at AT TIME ZONE hotspot_timezone())"
REPORTS = Columns(
    categories="r.categories && CAST(:categories AS varchar[])",
    category_value=lambda query: list(query.categories),
    day=f"{_LOCAL}::date",
    hour=f"extract(hour FROM {_LOCAL})::int",
    scoped=True,
)


def conditions(
    session: Session, query: HotspotQuery, columns: Columns = ROLLUPS, time_columns: bool = True
) -> Where:
    """SQL conditions (joined by AND) for the query's filters, with their parameters.

    `time_columns=False` leaves out the day and hour filters, for tables without them (the
    totals and summaries answer questions without a time filter).
    """
    where: list[str] = []
    params: dict[str, object] = {}

    def add(value: object, sql: str, name: str) -> None:
        if value:
            where.append(sql)
            params[name] = value

    add(query.categories and columns.category_value(query), columns.categories, "categories")
    add(query.context, "r.context = ANY(:contexts)", "contexts")
    add(query.mode, "r.mode = ANY(:modes)", "modes")
    if query.neighbourhood_ids is not None or columns.scoped:
        where.append("r.neighbourhood_id = ANY(:neighbourhood_ids)")
        params["neighbourhood_ids"] = list(query.neighbourhood_ids or ())
    elif query.neighbourhood:
        where.append("r.neighbourhood_id = :neighbourhood_id")
        params["neighbourhood_id"] = neighbourhood_id(session, query.neighbourhood)
    if time_columns:
        add(query.from_date, f"{columns.day} >= :from_date", "from_date")
        add(query.to_date, f"{columns.day} <= :to_date", "to_date")
        add(query.hour_list, f"{columns.hour} = ANY(:hours)", "hours")
        add(query.isodows, f"extract(isodow FROM {columns.day})::int = ANY(:dows)", "dows")
    return where, params


def neighbourhood_id(session: Session, code: str) -> int:
    """The id of the neighbourhood with this code; 422 naming the field when unknown."""
    found = session.scalar(sa.text("SELECT id FROM neighbourhoods WHERE code = :c"), {"c": code})
    if found is None:
        raise Unprocessable(
            _l("neighbourhood: no neighbourhood has code %(code)r", code=code), "neighbourhood"
        )
    return found


def all_of(where: list[str]) -> str:
    """The conditions joined by AND (`true` when there are none)."""
    return " AND ".join(where) or "true"


def envelope(bbox: tuple[float, float, float, float], margin_m: float) -> dict[str, float]:
    """Bbox parameters grown by `margin_m` on every side (degrees from metres at the bbox)."""
    min_lon, min_lat, max_lon, max_lat = bbox
    dlat = margin_m / METRES_PER_DEGREE
    widest = max(abs(min_lat), abs(max_lat))
    dlon = min(margin_m / (METRES_PER_DEGREE * max(math.cos(math.radians(widest)), 0.01)), 180)
    return {
        "min_lon": max(min_lon - dlon, -180.0),
        "min_lat": max(min_lat - dlat, -90.0),
        "max_lon": min(max_lon + dlon, 180.0),
        "max_lat": min(max_lat + dlat, 90.0),
    }


def grown(bbox: tuple[float, float, float, float], margin_m: float) -> tuple[float, ...]:
    """The bbox grown by `margin_m` on every side, as (minLon, minLat, maxLon, maxLat)."""
    box = envelope(bbox, margin_m)
    return (box["min_lon"], box["min_lat"], box["max_lon"], box["max_lat"])


def in_bbox(query: HotspotQuery, geometry: str, where: list[str], params: dict) -> None:
    """Add `geometry && bbox` when the query has a bbox."""
    if query.bbox:
        where.append(f"{geometry} && {ENVELOPE_SQL}")
        params.update(envelope(query.bbox, 0.0))


def site_conditions(session: Session, query: HotspotQuery) -> Where:
    """The rollup conditions, plus the bbox on the sites' geometry `s.geom` when given."""
    where, params = conditions(session, query, time_columns=query.has_time_filter)
    in_bbox(query, "s.geom", where, params)
    return where, params


def cell_site_join(query: HotspotQuery, params: dict[str, object], alias: str) -> tuple[str, str]:
    """Join cell sites near the bbox, and an SQL test true where the cell's centre is surely
    in the bbox (empty join and `true` without a bbox); adds the envelope parameters."""
    if not query.bbox:
        return "", "true"
    # A cell's site is a report point inside it, within one cell radius (one edge length) of
    # its centre: a cell centred in the bbox has its site in the bbox grown by that much, and
    # a site in the bbox shrunk by that much has its cell's centre inside. Cells between the
    # two boxes are tested on their centre in Python.
    edge_m = 1.05 * h3.average_hexagon_edge_length(query.res, unit="m")
    params.update(envelope(query.bbox, edge_m))
    inner = envelope(query.bbox, -edge_m)
    params.update({f"in_{k}": v for k, v in inner.items()})
    inside = (
        "CASE WHEN :in_min_lon < :in_max_lon AND :in_min_lat < :in_max_lat THEN p.geom && "
        "ST_MakeEnvelope(:in_min_lon, :in_min_lat, :in_max_lon, :in_max_lat, 4326) "
        "ELSE false END"
    )
    join = (
        f"JOIN hotspot_cell_sites p ON p.res = {alias}.res AND p.cell = {alias}.cell "
        f"AND p.geom && {ENVELOPE_SQL}"
    )
    return join, inside


def only_stops(where: list[str], params: dict[str, object], ids: list[str] | None) -> None:
    """Keep the stops named (all when `ids` is None)."""
    if ids is not None:
        # A hashed semi-join: `= ANY(array)` compares every row with every id.
        where.append("s.stop_public_id IN (SELECT unnest(CAST(:ids AS text[])))")
        params["ids"] = ids


SEGMENT_COLUMNS = "r.route_public_id, r.direction, r.from_public_id, r.to_public_id"


def only_segments(where: list[str], params: dict[str, object], ids: list[str] | None) -> None:
    """Keep the segments named (all when `ids` is None), by their key columns: the primary
    key finds each one, where a test on the id's concatenation read every row."""
    if ids is None:
        return
    keys = [key for feature_id in ids for key in segment_keys(feature_id)]
    where.append(
        f"({SEGMENT_COLUMNS}) IN (SELECT * FROM unnest(CAST(:seg_routes AS text[]), "
        "CAST(:seg_directions AS int[]), CAST(:seg_froms AS text[]), CAST(:seg_tos AS text[])))"
    )
    params.update(
        seg_routes=[k[0] for k in keys], seg_directions=[k[1] for k in keys],
        seg_froms=[k[2] for k in keys], seg_tos=[k[3] for k in keys],
    )  # fmt: skip


def segment_keys(feature_id: str) -> list[tuple[str, int, str, str]]:
    """Every (route, direction, from, to) whose id `route|direction|from|to` is this one.

    Public ids may hold `|` themselves, so every split with a whole-number direction is a
    candidate (one for ordinary ids); the primary key keeps the one that exists.
    """
    parts = feature_id.split("|")
    found = []
    for i in range(1, len(parts) - 2):
        direction, rest = parts[i], parts[i + 1 :]
        if not re.fullmatch(r"-?\d{1,4}", direction):
            continue
        for k in range(1, len(rest)):
            found.append(("|".join(parts[:i]), int(direction), "|".join(rest[:k]),
                          "|".join(rest[k:])))  # fmt: skip
    return found

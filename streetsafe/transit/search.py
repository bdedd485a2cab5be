"""Finding a stop or a route by what a person knows of it, without the map (issue 17).

A stop is found, anywhere in the country, by its ATCO code, by the short code printed on it
(NaPTAN's SMS code, GTFS stop_code) or by the start of its name ("spring b"). Near a point
(the form sends the middle of its map) it is also found by the start of any word of its
name or locality ("bank", "hessle"), within NEAR_RADIUS_M. The national parts are served by
btree indexes (migration 0021: the ATCO code is the public id's tail, the code and the
lower-cased name have their own), the near part by the stops' spatial index; a trigram or
full-text index over every name would let any word match nationally, but maintaining it
costs each GB NaPTAN import several seconds (docs/BENCHMARKS.md), for a search the form
always makes near its map. A route is found by its number or by the start of any word of
its name ("circular"). Words are the letters and digits the person typed, so nothing typed
is ever SQL or regular-expression syntax. Results are places (transit/places.py): a stop
known to several feeds is listed once, under its place's name.

Ranking: an exact code first, then names that start with the text, then any word; nearer
first among equals when the caller gives a point, then by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .near import within_box
from .places import serving

MAX_WORDS = 6
NEAR_RADIUS_M = 30_000
# National name-prefix matches considered (in name order) before ranking; near ones all are.
NATIONAL_CANDIDATES = 500
_WORD = re.compile(r"\w+")
_POINT = "ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)::geography"
# The text the trigram index of migration 0021 covers.
_STOP_TEXT = "lower(m.name || ' ' || coalesce(m.locality, ''))"  # words near a point


def _stop_mode(stop: str) -> str:
    """SQL: a stop's own mode (NaPTAN), else that of a route serving it (GTFS has none)."""
    return f"""coalesce({stop}.mode, (SELECT min(r.mode) FROM route_stops rs
               JOIN routes r ON r.id = rs.route_id WHERE {serving("rs.stop_id", stop)}))"""


Found = TypeVar("Found")


def row_to(cls: type[Found], row: sa.Row) -> Found:
    """A dataclass from a row whose columns are named as its fields (its `id` is `public_id`):
    route names sorted as people sort them, distances to a tenth of a metre."""
    values = {**row._mapping, "id": row.public_id}
    if "routes" in values:
        values["routes"] = sorted(values["routes"], key=natural_key)
    if values.get("distance_m") is not None:
        values["distance_m"] = round(values["distance_m"], 1)
    return cls(**{field.name: values[field.name] for field in fields(cls)})  # type: ignore[arg-type]


def _search_params(
    exact: str, prefix: str, mode: str | None, near: tuple[float, float] | None
) -> dict[str, Any]:
    lon, lat = near if near else (None, None)
    return {"exact": exact, "prefix": _like_escape(prefix) + "%", "mode": mode, "lon": lon,
            "lat": lat}  # fmt: skip


def words_of(text: str) -> list[str]:
    """The lower-cased words of `text` (letters, digits), at most MAX_WORDS of them."""
    return _WORD.findall(text.lower())[:MAX_WORDS]


def _word_starts(column: str, words: list[str]) -> tuple[str, dict[str, str]]:
    """SQL: every word starts a word of `column`; one condition each, so an index serves it."""
    if not words:
        return "false", {}
    params = {f"w{i}": r"\m" + word for i, word in enumerate(words)}
    return " AND ".join(f"{column} ~ :{name}" for name in params), params


@dataclass(frozen=True)
class FoundStop:
    """A stop (a place) matching the search, with the routes serving it."""

    id: str
    name: str
    locality: str | None
    mode: str | None
    atco_code: str | None
    code: str | None
    lon: float
    lat: float
    routes: list[str]
    distance_m: float | None


def _stops_sql(word_condition: str) -> sa.TextClause:
    return sa.text(f"""
WITH hits AS (
    SELECT m.place_public_id, m.public_id, 0 AS rank FROM stops m
    WHERE m.public_id IN (SELECT f.name || ':' || c FROM feeds f,
                                 unnest(CAST(:codes AS text[])) AS c)
    UNION ALL
    SELECT m.place_public_id, m.public_id, 0 FROM stops m
    WHERE lower(m.code) = :exact AND m.code IS NOT NULL
    UNION ALL
    (SELECT m.place_public_id, m.public_id, 1 FROM stops m
     WHERE lower(m.name) LIKE :prefix ESCAPE '\\'
     ORDER BY lower(m.name) LIMIT {NATIONAL_CANDIDATES})
    UNION ALL
    SELECT m.place_public_id, m.public_id,
           CASE WHEN lower(m.name) LIKE :prefix ESCAPE '\\' THEN 1 ELSE 2 END
    FROM stops m
    WHERE CAST(:lon AS float8) IS NOT NULL
      AND {within_box("m.geom", ":lon", ":lat", str(NEAR_RADIUS_M))} AND {word_condition}
), places AS (
    SELECT coalesce(place_public_id, public_id) AS public_id, min(rank) AS rank
    FROM hits GROUP BY 1
), found AS (
    SELECT p.rank, s.id, s.public_id, s.name, s.locality, s.mode, s.geom,
           CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL
                ELSE ST_Distance(s.geom::geography, {_POINT}) END AS distance_m
    FROM places p JOIN stops s ON s.public_id = p.public_id
    WHERE CAST(:mode AS text) IS NULL OR {_stop_mode("s")} = CAST(:mode AS text)
    ORDER BY p.rank, distance_m NULLS LAST, s.name, s.public_id
    LIMIT :limit
)
SELECT f.public_id, f.name, f.locality, f.distance_m, {_stop_mode("f")} AS mode,
       ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat,
       (SELECT n.source_id FROM stops n JOIN feeds nf ON nf.id = n.feed_id
         WHERE nf.kind = 'naptan' AND (n.id = f.id OR n.place_public_id = f.public_id)
         ORDER BY nf.name LIMIT 1) AS atco_code,
       (SELECT min(n.code) FROM stops n
         WHERE n.id = f.id OR n.place_public_id = f.public_id) AS code,
       ARRAY(SELECT DISTINCT r.short_name FROM route_stops rs JOIN routes r
             ON r.id = rs.route_id
             WHERE {serving("rs.stop_id", "f")} AND r.short_name IS NOT NULL) AS routes
FROM found f
ORDER BY f.rank, f.distance_m NULLS LAST, f.name, f.public_id
""")


def search_stops(
    session: Session, text: str, limit: int, mode: str | None = None,
    near: tuple[float, float] | None = None,
) -> list[FoundStop]:  # fmt: skip
    """Stops whose code is `text`, or whose name or locality has words starting with its words."""
    words = words_of(text)
    condition, params = _word_starts(_STOP_TEXT, words)
    exact = "".join(text.split()).lower()
    params |= _search_params(exact, text.strip().lower(), mode, near)
    params |= {"codes": sorted({exact, exact.upper(), "".join(text.split())}), "limit": limit}
    return [row_to(FoundStop, row) for row in session.execute(_stops_sql(condition), params)]


def natural_key(name: str) -> tuple[int, str]:
    """Sort route names as people do: 2, 7, 12, 12A, U1."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits and name[0].isdigit() else 10**9, name)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class RouteSummary:
    """A route as the route search lists it."""

    id: str
    short_name: str | None
    long_name: str | None
    mode: str
    feed: str
    distance_m: float | None = None


_ROUTE_TEXT = "lower(coalesce(r.short_name, '') || ' ' || coalesce(r.long_name, ''))"


def _routes_sql(word_condition: str) -> sa.TextClause:
    return sa.text(f"""
SELECT * FROM (
    SELECT r.public_id, r.short_name, r.long_name, r.mode, f.name AS feed,
           CASE WHEN lower(r.short_name) = :exact THEN 0
                WHEN lower(r.short_name) LIKE :prefix ESCAPE '\\'
                  OR lower(r.long_name) LIKE :prefix ESCAPE '\\' THEN 1 ELSE 2 END AS rank,
           CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL ELSE
             (SELECT min(ST_Distance(sh.geom::geography, {_POINT}))
              FROM route_shapes sh WHERE sh.route_id = r.id) END AS distance_m
    FROM routes r JOIN feeds f ON f.id = r.feed_id
    WHERE ({word_condition})
      AND (CAST(:mode AS text) IS NULL OR r.mode = CAST(:mode AS text))
) found
ORDER BY rank, distance_m NULLS LAST, length(short_name), short_name, long_name, public_id
LIMIT :limit
""")


def search_routes(
    session: Session, text: str, limit: int, mode: str | None = None,
    near: tuple[float, float] | None = None,
) -> list[RouteSummary]:  # fmt: skip
    """Routes whose number or name has words starting with the words of `text` (all if empty)."""
    words = words_of(text)
    # No text lists every route; text without a letter or digit (say "%") matches none.
    condition, params = _word_starts(_ROUTE_TEXT, words) if text.strip() else ("true", {})
    params |= _search_params(" ".join(words), " ".join(words), mode, near)
    params["limit"] = limit
    return [row_to(RouteSummary, row) for row in session.execute(_routes_sql(condition), params)]

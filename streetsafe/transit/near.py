"""An index-backed prefilter for "stops within radius_m metres of (lon, lat)", in SQL.

Stops have one spatial index, SP-GiST on `geom` (lon/lat degrees; migration 0011).
`within_box` returns a condition that holds for every stop within radius_m (geodesic) of the
point and that index serves: the stop lies in a lon/lat box around the point. Where that box
would cross the antimeridian or reach within a degree of a pole it becomes the whole band of
latitudes, every longitude (still index-backed, just wider). Callers keep the exact geodesic test
(`ST_DWithin` on geography) and distance, so answers are those of a geography query.
"""

from __future__ import annotations

# Metres per degree: the least along a meridian (at the equator), and along the equator; a
# degree of longitude at latitude phi is at least the equator's times cos(phi). The margin
# covers geodesics being a little shorter than the parallel between the same meridians.
MIN_M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_319.49
MARGIN = 1.05


def within_box(geom: str, lon: str, lat: str, radius_m: str) -> str:
    """SQL: `geom` is in a lon/lat box holding every point within radius_m of (lon, lat).

    `lon`, `lat` and `radius_m` are SQL expressions of the query's parameters only, so the
    box is computed once and the spatial index on `geom` serves the condition.
    """
    x, y = (f"CAST({v} AS float8)" for v in (lon, lat))
    # At least a metre: a box is only a prefilter, and PostgreSQL raises on float underflow
    # (the fuzzer sent radius_m=5e-324 and got a 500).
    r = f"greatest(CAST({radius_m} AS float8), 1.0)"
    dlat = f"({r} / {MIN_M_PER_DEG_LAT} * {MARGIN})"
    top = f"(abs({y}) + {dlat})"
    dlon = f"({r} / ({M_PER_DEG_LON_EQUATOR} * cos(radians(least({top}, 89.0)))) * {MARGIN})"
    wraps = f"({top} >= 89.0 OR abs({x}) + {dlon} >= 180.0)"
    return (
        f"{geom} && ST_MakeEnvelope("
        f"CASE WHEN {wraps} THEN -180.0 ELSE {x} - {dlon} END, {y} - {dlat}, "
        f"CASE WHEN {wraps} THEN 180.0 ELSE {x} + {dlon} END, {y} + {dlat}, 4326)"
    )

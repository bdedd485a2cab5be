"""Suspect segments: twin stops and detours are warned about on import and flagged in the
segment layer's properties.

The hand-made London-like feed (tests/fixtures/gtfs_london): route 218 runs from High Street
(490000001A) across the road to High Street (490000001B, 33 m north), east to Market Square,
then 1.7 km east, 300 m north and 1.7 km back west to Church Lane, 300 m north of Market
Square (a shape 12.5 times the straight line; its stop id ends in a quoted line break).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe.hotspots.aggregate import segment_features
from streetsafe.hotspots.filters import HotspotFilters
from streetsafe.transit import segments
from streetsafe.transit.gtfs import import_gtfs

LONDON = Path(__file__).parents[1] / "fixtures" / "gtfs_london"

# Reports on one segment: the rollup triggers insert its site, the sites trigger measures it.
REPORTS_ON = """
INSERT INTO reports (id, context, categories, occurred_at, geom, mode, route_public_id,
                     route_short_name, route_direction, segment_from_public_id,
                     segment_from_name, segment_to_public_id, segment_to_name)
SELECT gen_random_uuid(), 'on_vehicle', ARRAY['harassment'], now(), a.geom, 'bus',
       'london:218', '218', 0, a.public_id, a.name, b.public_id, b.name
FROM stops a, stops b, generate_series(1, 5)
WHERE a.public_id = :a AND b.public_id = :b
"""


def test_import_warns_about_twin_stops_and_detours_naming_trip_and_stops(
    connection: sa.Connection,
) -> None:
    result = import_gtfs(connection, LONDON, "london")
    assert result.warning_counts() == {segments.TWIN_STOPS: 1, segments.DETOURS: 1}
    twin, detour = sorted(result.warnings, key=lambda w: w.kind != segments.TWIN_STOPS)
    assert "trip T218-1" in twin.message
    assert "london:490000001A 'High Street' -> london:490000001B 'High Street'" in twin.message
    assert "33 m apart" in twin.message
    assert "london:490000002C 'Market Square' -> london:490000003D 'Church Lane'" in detour.message
    assert "3,772 m along the shape for 300 m" in detour.message
    assert result.summary().endswith(
        f"; warnings: 1 {segments.TWIN_STOPS}, 1 {segments.DETOURS}"
    )
    stats = connection.scalar(sa.text("SELECT stats FROM feeds WHERE name = 'london'"))
    assert stats["warnings_by_kind"] == {segments.TWIN_STOPS: 1, segments.DETOURS: 1}


def test_usual_feed_has_no_suspect_segments(connection: sa.Connection) -> None:
    fixtures = Path(__file__).parents[1] / "fixtures"
    for feed in ("gtfs_shapes", "gtfs_no_shapes"):
        result = import_gtfs(connection, fixtures / feed, feed.replace("_", "-"))
        assert segments.TWIN_STOPS not in result.warning_counts()
        assert segments.DETOURS not in result.warning_counts()


@pytest.mark.parametrize(
    "stops, twin, ratio, suspect",
    [
        (("490000001A", "490000001B"), True, pytest.approx(1.0, abs=0.01), True),
        (("490000001B", "490000002C"), False, pytest.approx(1.0, abs=0.01), False),
        (("490000002C", "490000003D"), False, pytest.approx(12.6, abs=0.1), True),
    ],
)
def test_segment_layer_flags_what_the_geometry_says(
    connection: sa.Connection, db_session: Session, stops, twin, ratio, suspect
) -> None:
    import_gtfs(connection, LONDON, "london")
    a, b = (f"london:{stop}" for stop in stops)
    connection.execute(sa.text(REPORTS_ON), {"a": a, "b": b})
    [feature] = segment_features(db_session, HotspotFilters())
    assert feature.count == 5
    assert feature.properties["from_stop_id"] == a
    assert feature.properties["twin_stops"] is twin
    assert feature.properties["detour_ratio"] == ratio
    assert feature.properties["suspect_geometry"] is suspect


def test_reimport_re_measures_published_segments(connection: sa.Connection) -> None:
    import_gtfs(connection, LONDON, "london")
    params = {"a": "london:490000002C", "b": "london:490000003D"}
    connection.execute(sa.text(REPORTS_ON), params)
    connection.execute(sa.text("UPDATE hotspot_segment_sites SET detour_ratio = NULL"))
    import_gtfs(connection, LONDON, "london")
    ratio = connection.scalar(sa.text("SELECT detour_ratio FROM hotspot_segment_sites"))
    assert ratio == pytest.approx(12.6, abs=0.1)

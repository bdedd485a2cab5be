"""One physical stop across feeds: a GTFS stop_id that is a NaPTAN ATCO code is one place.

Hand-made fixtures: the London-like GTFS feed (tests/fixtures/gtfs_london, route 218 over
four stops with ATCO-code ids) and those stops as NaPTAN publishes them, a few metres away
(tests/fixtures/naptan_london/490Stops.csv, plus Mill Road, which no route calls at).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe.reports import snapping
from streetsafe.transit.gtfs import import_gtfs
from streetsafe.transit.loader import delete_feed
from streetsafe.transit.naptan import import_naptan
from streetsafe.transit.queries import nearby_stops, route_detail
from streetsafe.transit.stats import feed_stats

FIXTURES = Path(__file__).parents[1] / "fixtures"
LONDON = FIXTURES / "gtfs_london"
NAPTAN = FIXTURES / "naptan_london" / "490Stops.csv"
CODES = ("490000001A", "490000001B", "490000002C", "490000003D")
HIGH_STREET = (-0.1, 51.5)

PLACES = "SELECT public_id, place_public_id FROM stops ORDER BY public_id"


def _places(connection: sa.Connection) -> dict[str, str | None]:
    return dict(connection.execute(sa.text(PLACES)).all())


def _load(connection: sa.Connection, order: str) -> None:
    for kind in order.split(","):
        if kind == "naptan":
            import_naptan(connection, [NAPTAN], "naptan")
        else:
            import_gtfs(connection, LONDON, "london")


@pytest.mark.parametrize("order", ["naptan,london", "london,naptan"])
def test_gtfs_stops_with_atco_codes_take_the_naptan_stop_as_their_place(
    connection: sa.Connection, order: str
) -> None:
    _load(connection, order)
    places = _places(connection)
    assert {places[f"london:{code}"] for code in CODES} == {f"naptan:{code}" for code in CODES}
    assert all(places[f"naptan:{code}"] is None for code in (*CODES, "490000004E"))


def test_place_ids_survive_re_imports_of_either_feed(connection: sa.Connection) -> None:
    _load(connection, "naptan,london")
    before = _places(connection)
    for order in ("london", "naptan", "london,naptan"):
        _load(connection, order)
        assert _places(connection) == before


def test_snapping_and_nearby_stops_see_one_place_named_and_placed_by_naptan(
    connection: sa.Connection, db_session: Session
) -> None:
    _load(connection, "london,naptan")
    stop = snapping.nearest_stop(db_session, *HIGH_STREET, 150.0)
    assert stop is not None and stop.public_id == "naptan:490000001A"
    assert (stop.lon, stop.lat) == (-0.10002, 51.50001)
    nearby = nearby_stops(db_session, *HIGH_STREET, 500.0, 20)
    assert [s.id for s in nearby][:3] == ["naptan:490000001A", "naptan:490000001B",
                                          "naptan:490000002C"]  # fmt: skip
    assert not [s.id for s in nearby if s.id.startswith("london:")]
    # The feed's own routes still reach the place.
    assert nearby[0].routes == ["218"] and nearby[0].mode == "bus"
    # A reporter naming the feed's copy gets the place.
    named = snapping.stop_by_id(db_session, "london:490000001A")
    assert named is not None and named.public_id == "naptan:490000001A"


def test_routes_and_on_vehicle_snaps_name_the_places(
    connection: sa.Connection, db_session: Session
) -> None:
    _load(connection, "naptan,london")
    detail = route_detail(db_session, "london:218")
    assert detail is not None
    assert [s["id"] for s in detail.stops] == [f"naptan:{code}" for code in CODES]
    route = snapping.snap_to_nearest_route(db_session, -0.0975, 51.5004, 100.0, None)
    assert route is not None and route.public_id == "london:218"
    assert route.between == (("naptan:490000001B", "High Street"),
                             ("naptan:490000002C", "Market Square"))  # fmt: skip


def test_hotspot_layers_count_a_shared_stop_once_with_the_feed_s_segment_geometry(
    connection: sa.Connection,
) -> None:
    _load(connection, "naptan,london")
    connection.execute(
        sa.text(
            "INSERT INTO reports (id, context, categories, occurred_at, geom, mode, "
            "stop_public_id, stop_name, route_public_id, route_short_name, route_direction, "
            "segment_from_public_id, segment_from_name, segment_to_public_id, segment_to_name) "
            "SELECT gen_random_uuid(), 'on_vehicle', ARRAY['harassment'], now(), a.geom, 'bus', "
            "a.public_id, a.name, 'london:218', '218', 0, a.public_id, a.name, b.public_id, "
            "b.name FROM stops a, stops b, generate_series(1, 3) "
            "WHERE a.public_id = 'naptan:490000002C' AND b.public_id = 'naptan:490000003D'"
        )
    )
    sites = connection.execute(
        sa.text("SELECT ST_Length(geom::geography) AS length_m, twin_stops, detour_ratio "
                "FROM hotspot_segment_sites")  # fmt: skip
    ).all()
    # Cut from route 218's own shape between its stop rows (3.8 km), not a straight line.
    assert len(sites) == 1 and sites[0].length_m == pytest.approx(3772, abs=5)
    assert sites[0].detour_ratio > 5
    stop_sites = connection.scalars(sa.text("SELECT stop_public_id FROM hotspot_stop_sites"))
    assert list(stop_sites) == ["naptan:490000002C"]


def test_deleting_or_re_importing_one_feed_leaves_the_other_intact(
    connection: sa.Connection, db_session: Session
) -> None:
    _load(connection, "naptan,london")
    assert delete_feed(connection, "naptan")
    places = _places(connection)
    assert set(places) == {f"london:{code}" for code in CODES}
    assert set(places.values()) == {None}  # their own places again
    stop = snapping.nearest_stop(db_session, *HIGH_STREET, 150.0)
    assert stop is not None and stop.public_id == "london:490000001A"
    _load(connection, "naptan")
    assert delete_feed(connection, "london")
    assert len(_places(connection)) == 5
    assert not delete_feed(connection, "london")


def test_two_gtfs_feeds_share_atco_stops_with_the_first_feed_by_name(
    connection: sa.Connection,
) -> None:
    import_gtfs(connection, LONDON, "london")
    import_gtfs(connection, LONDON, "bus-co")
    places = _places(connection)
    assert places["london:490000001A"] == "bus-co:490000001A"
    assert places["bus-co:490000001A"] is None


def test_ids_that_are_not_atco_codes_are_never_shared(connection: sa.Connection) -> None:
    import_gtfs(connection, FIXTURES / "gtfs_shapes", "tiny")
    import_gtfs(connection, FIXTURES / "gtfs_shapes", "other")
    assert set(_places(connection).values()) == {None}


def test_transit_stats_shows_totals_shapes_and_shared_stops(connection: sa.Connection) -> None:
    _load(connection, "naptan,london")
    text = "\n".join(feed_stats(connection))
    assert "  shapes: 1 from shapes.txt, 0 built from stops" in text
    assert "  stops shared: 4 with naptan (one place; theirs is used)" in text
    assert "total: 9 stops (5 places; 4 stops shared with another feed), 1 routes, 1 shapes" in text


@pytest.mark.realdata
def test_southampton_feed_and_gb_naptan_share_their_stops(
    connection: sa.Connection, db_session: Session, shared_geodata: Path
) -> None:
    import_gtfs(connection, shared_geodata / "gtfs" / "southampton-bluestar-2025.zip", "sot")
    import_naptan(connection, [shared_geodata / "naptan" / "gb-146-areas-stops.tgz"], "naptan")
    shared = connection.scalar(sa.text(
        "SELECT count(*) FROM stops s JOIN feeds f ON f.id = s.feed_id "
        "WHERE f.name = 'sot' AND s.place_public_id = 'naptan:' || s.source_id"))  # fmt: skip
    assert shared == 2642  # of 2,643: every stop of the feed NaPTAN lists (active)
    points = connection.execute(sa.text(
        "SELECT ST_X(geom) + 0.0005 * sin(id), ST_Y(geom) + 0.0003 * cos(id) FROM stops "
        "WHERE feed_id = (SELECT id FROM feeds WHERE name = 'sot') ORDER BY id LIMIT 500"
    )).all()  # fmt: skip
    found = snapping.nearest_stops(db_session, [(lon, lat, 150.0) for lon, lat in points])
    ids = [stop.public_id for stop in found if stop is not None]
    assert len(ids) > 400 and all(i.startswith("naptan:") for i in ids)

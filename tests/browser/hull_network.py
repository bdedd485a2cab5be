"""A small transit network in Hull city centre, committed to the browser tests' database.

Route "5" (bus) runs east from Paragon Interchange through four stops along a line of straight
segments, and back (direction 1); route "56" shares its first stops, so a search for "5"
finds both. Used until the demo feed (geodata/demo) can be imported by the importer.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

FEED = "browsertest"


@dataclass(frozen=True)
class StopSpec:
    """A stop: its source id, name and position."""

    source_id: str
    name: str
    lon: float
    lat: float

    @property
    def public_id(self) -> str:
        """The id the API uses."""
        return f"{FEED}:{self.source_id}"


STOPS = (
    StopSpec("paragon", "Paragon Interchange", -0.34700, 53.74390),
    StopSpec("ferensway", "Ferensway", -0.34330, 53.74420),
    StopSpec("jameson", "Jameson Street", -0.33960, 53.74470),
    StopSpec("qvs", "Queen Victoria Square", -0.33560, 53.74390),
    StopSpec("whitefriargate", "Whitefriargate", -0.33250, 53.74300),
)
ROUTES = {
    "5": ("Paragon - Old Town", [stop.source_id for stop in STOPS]),
    "56": ("Paragon - Jameson Street", ["paragon", "ferensway", "jameson"]),
}


def insert_network(engine: sa.Engine) -> None:
    """Insert the feed, its stops, and each route with both directions' shapes and stops."""
    by_id = {stop.source_id: stop for stop in STOPS}
    with engine.begin() as connection:
        feed_id = connection.scalar(
            sa.text("INSERT INTO feeds (name, kind) VALUES (:name, 'gtfs') RETURNING id"),
            {"name": FEED},
        )
        stop_ids = {}
        for stop in STOPS:
            stop_ids[stop.source_id] = connection.scalar(
                sa.text(
                    "INSERT INTO stops (feed_id, public_id, source_id, name, mode, geom)"
                    " VALUES (:feed, :pid, :sid, :name, 'bus',"
                    " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"
                ),
                {
                    "feed": feed_id,
                    "pid": stop.public_id,
                    "sid": stop.source_id,
                    "name": stop.name,
                    "lon": stop.lon,
                    "lat": stop.lat,
                },
            )
        for short_name, (long_name, sequence) in ROUTES.items():
            route_id = connection.scalar(
                sa.text(
                    "INSERT INTO routes (feed_id, public_id, source_id, short_name, long_name,"
                    " mode, route_type) VALUES (:feed, :pid, :sid, :short, :long, 'bus', 3)"
                    " RETURNING id"
                ),
                {
                    "feed": feed_id,
                    "pid": f"{FEED}:route-{short_name}",
                    "sid": short_name,
                    "short": short_name,
                    "long": long_name,
                },
            )
            for direction, ordered in enumerate((sequence, list(reversed(sequence)))):
                _insert_direction(connection, route_id, direction, ordered, by_id, stop_ids)


def _insert_direction(connection, route_id, direction, ordered, by_id, stop_ids) -> None:
    wkt = "LINESTRING(" + ", ".join(f"{by_id[s].lon} {by_id[s].lat}" for s in ordered) + ")"
    shape_id = connection.scalar(
        sa.text(
            "INSERT INTO route_shapes (route_id, direction, length_m, geom) VALUES"
            " (:route, :direction, ST_Length(ST_GeomFromText(:wkt, 4326)::geography),"
            " ST_GeomFromText(:wkt, 4326)) RETURNING id"
        ),
        {"route": route_id, "direction": direction, "wkt": wkt},
    )
    for seq, source_id in enumerate(ordered):
        connection.execute(
            sa.text(
                "INSERT INTO route_stops (route_id, direction, seq, stop_id, shape_id, distance_m)"
                " SELECT :route, :direction, :seq, :stop, s.id,"
                " ST_LineLocatePoint(s.geom, st.geom) * s.length_m"
                " FROM route_shapes s, stops st WHERE s.id = :shape AND st.id = :stop"
            ),
            {
                "route": route_id,
                "direction": direction,
                "seq": seq,
                "stop": stop_ids[source_id],
                "shape": shape_id,
            },
        )

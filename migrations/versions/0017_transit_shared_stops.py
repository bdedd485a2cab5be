"""Transit geometry that holds when real feeds are loaded together (issue 15).

Written by hand.

Distances in metres. `route_stops.distance_m` was a planar lon/lat fraction of the shape
times its geodesic length, not metres along the shape (off by a median of 117 m on London's
routes). It is now geodesic metres along the shape up to the stop, what PostGIS gives for
`ST_Length(ST_LineSubstring(geom, 0, fraction)::geography)`, and the planar fraction is kept
beside it (`route_stops.fraction`) to cut the shape between stops. Route shape pieces carry
where they start (`start_m`, geodesic metres along the shape; `start_fraction`, planar), so
that snapping measures a report's position along a route on one short piece instead of the
whole shape (0.45 ms a shape on the Southampton feed). The pieces trigger of migrations
0007/0008 fills both; the GTFS importer COPYs them with its pieces. Existing rows are
converted here: the old distance over the length is the planar fraction.

Suspect segments. Published route segments carry what their own geometry says about them:
`hotspot_segment_sites.twin_stops` (the two stops share a name: the two sides of one road)
and `detour_ratio` (length along the shape over the straight line between the stops),
filled at insert time by a trigger calling `transit_segment_checks()`, so that a planner can
tell a data fault from a hotspot (streetsafe/transit/segments.py has the thresholds).

One stop across feeds. `stops.place_public_id` (partial index on the rows that have one)
names the row that is a stop's place when several feeds know the stop (GTFS stop_id =
NaPTAN ATCO code; the rule is in streetsafe/transit/places.py). Reports are tied to places,
so segments between stops match a route's stop rows by their place.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import context, op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SEGMENTS_PER_PIECE = 3  # as migration 0007

# Migration 0007's pieces, each with the geodesic metres and the planar fraction of the shape
# before it (the sums of the earlier pieces' lengths: the pieces share their end vertices).
PIECES_OF = f"""
    INSERT INTO route_shape_pieces (shape_id, seq, geom, start_m, start_fraction)
    SELECT q.shape_id, q.seq, q.geom,
           coalesce(sum(ST_Length(q.geom::geography)) OVER before, 0),
           coalesce(sum(ST_Length(q.geom)) OVER before
                    / nullif(sum(ST_Length(q.geom)) OVER shape, 0), 0)
      FROM (SELECT sh.id AS shape_id, piece.seq, ST_MakeLine(d.geom ORDER BY d.path[1]) AS geom
              FROM {{shapes}} sh
             CROSS JOIN LATERAL ST_DumpPoints(sh.geom) AS d
             CROSS JOIN LATERAL unnest(
                   CASE WHEN d.path[1] > 1 AND (d.path[1] - 1) % {SEGMENTS_PER_PIECE} = 0
                        THEN ARRAY[(d.path[1] - 1) / {SEGMENTS_PER_PIECE} - 1,
                                   (d.path[1] - 1) / {SEGMENTS_PER_PIECE}]
                        ELSE ARRAY[(d.path[1] - 1) / {SEGMENTS_PER_PIECE}] END) AS piece(seq)
             GROUP BY sh.id, piece.seq
            HAVING count(*) >= 2) AS q
    WINDOW shape AS (PARTITION BY q.shape_id),
           before AS (PARTITION BY q.shape_id ORDER BY q.seq
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING);
"""

SKIP_WRITTEN_PIECES = """
    IF current_setting('streetsafe.shape_pieces', true) = 'written' THEN
        RETURN NULL;  -- the writer COPYs the same pieces itself
    END IF;
"""


def _pieces_triggers(pieces_of: str) -> str:
    """The route_shapes insert (with 0008's guard) and update trigger functions."""
    return f"""
        CREATE OR REPLACE FUNCTION route_shapes_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {SKIP_WRITTEN_PIECES}{pieces_of.format(shapes="new_rows")}    RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION route_shapes_after_update() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM route_shape_pieces p USING new_rows n WHERE p.shape_id = n.id;
        {pieces_of.format(shapes="new_rows")}    RETURN NULL;
        END $$;
    """


BACKFILL_PIECES = """
UPDATE route_shape_pieces p SET start_m = q.start_m, start_fraction = q.start_fraction
  FROM (SELECT shape_id, seq,
               coalesce(sum(ST_Length(geom::geography)) OVER before, 0) AS start_m,
               coalesce(sum(ST_Length(geom)) OVER before
                        / nullif(sum(ST_Length(geom)) OVER shape, 0), 0) AS start_fraction
          FROM route_shape_pieces
        WINDOW shape AS (PARTITION BY shape_id),
               before AS (PARTITION BY shape_id ORDER BY seq
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) AS q
 WHERE p.shape_id = q.shape_id AND p.seq = q.seq;
"""

BACKFILL_ROUTE_STOPS = """
UPDATE route_stops rs
   SET fraction = least(greatest(rs.distance_m / sh.length_m, 0.0), 1.0),
       distance_m = ST_Length(ST_LineSubstring(
           sh.geom, 0, least(greatest(rs.distance_m / sh.length_m, 0.0), 1.0))::geography)
  FROM route_shapes sh
 WHERE sh.id = rs.shape_id AND rs.distance_m IS NOT NULL AND sh.length_m > 0;
"""

# The stretch of a route direction's shape between two of its consecutive stops, cut at the
# stops' planar fractions (rows written before 0013 by hand, without one: distance over
# length, what it was then); a straight line between the stops when the shape is missing.
SEGMENT_GEOM = """
CREATE OR REPLACE FUNCTION hotspot_segment_geom(
    p_route text, p_direction smallint, p_from text, p_to text
) RETURNS geometry LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT x.g FROM (
            SELECT CASE WHEN a.at IS NOT NULL AND b.at IS NOT NULL AND b.at > a.at
                    THEN ST_LineSubstring(x.geom, least(a.at, 1.0), least(b.at, 1.0)) END AS g
              FROM routes ro
              JOIN route_stops a0 ON a0.route_id = ro.id AND a0.direction = p_direction
              JOIN stops sa ON sa.id = a0.stop_id
                            AND coalesce(sa.place_public_id, sa.public_id) = p_from
              JOIN route_stops b0 ON b0.route_id = ro.id AND b0.direction = p_direction
                                 AND b0.seq > a0.seq
              JOIN stops sb ON sb.id = b0.stop_id
                            AND coalesce(sb.place_public_id, sb.public_id) = p_to
              JOIN route_shapes x ON x.id = a0.shape_id
             CROSS JOIN LATERAL (SELECT coalesce(a0.fraction,
                    a0.distance_m / nullif(x.length_m, 0)) AS at) a
             CROSS JOIN LATERAL (SELECT coalesce(b0.fraction,
                    b0.distance_m / nullif(x.length_m, 0)) AS at) b
             WHERE ro.public_id = p_route
             ORDER BY b0.seq - a0.seq LIMIT 1) AS x
          WHERE ST_GeometryType(x.g) = 'ST_LineString'),
        (SELECT ST_MakeLine(sa.geom, sb.geom) FROM stops sa, stops sb
          WHERE sa.public_id = p_from AND sb.public_id = p_to
            AND NOT ST_Equals(sa.geom, sb.geom))
    )
$$;
"""

# What a segment's own geometry says about it (streetsafe/transit/segments.py): its two stops
# share a name (case and spaces aside), and how many times the straight line between them its
# length along the shape is. The first consecutive pair of the route direction, as above.
SEGMENT_CHECKS = """
CREATE FUNCTION transit_segment_checks(
    p_route text, p_direction smallint, p_from text, p_to text
) RETURNS TABLE (twin_stops boolean, detour_ratio double precision)
LANGUAGE sql STABLE AS $$
    SELECT lower(btrim(sa.name)) = lower(btrim(sb.name)),
           (b.distance_m - a.distance_m)
               / nullif(ST_Distance(sa.geom::geography, sb.geom::geography), 0)
      FROM routes ro
      JOIN route_stops a ON a.route_id = ro.id AND a.direction = p_direction
      JOIN stops sa ON sa.id = a.stop_id
                        AND coalesce(sa.place_public_id, sa.public_id) = p_from
      JOIN route_stops b ON b.route_id = ro.id AND b.direction = p_direction AND b.seq > a.seq
      JOIN stops sb ON sb.id = b.stop_id
                        AND coalesce(sb.place_public_id, sb.public_id) = p_to
     WHERE ro.public_id = p_route
     ORDER BY b.seq - a.seq LIMIT 1
$$;

-- Filled at insert time, whoever inserts (the rollup triggers, the rebuild).
CREATE FUNCTION hotspot_segment_sites_checks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT c.twin_stops, c.detour_ratio INTO NEW.twin_stops, NEW.detour_ratio
      FROM transit_segment_checks(NEW.route_public_id, NEW.direction, NEW.from_public_id,
                                  NEW.to_public_id) c;
    RETURN NEW;
END $$;

CREATE TRIGGER hotspot_segment_sites_checks BEFORE INSERT ON hotspot_segment_sites
    FOR EACH ROW EXECUTE FUNCTION hotspot_segment_sites_checks();
"""

BACKFILL_SEGMENT_CHECKS = """
UPDATE hotspot_segment_sites s SET (twin_stops, detour_ratio) = (
    SELECT c.twin_stops, c.detour_ratio
      FROM transit_segment_checks(s.route_public_id, s.direction, s.from_public_id,
                                  s.to_public_id) c);
"""


def upgrade() -> None:
    op.execute("ALTER TABLE route_stops ADD COLUMN fraction double precision")
    op.execute(
        "ALTER TABLE route_shape_pieces ADD COLUMN start_m double precision, "
        "ADD COLUMN start_fraction double precision"
    )
    op.execute(_pieces_triggers(PIECES_OF))
    op.execute(BACKFILL_PIECES)
    op.execute(BACKFILL_ROUTE_STOPS)
    op.execute("ALTER TABLE stops ADD COLUMN place_public_id varchar(160)")
    op.execute(
        "CREATE INDEX ix_stops_place_public_id ON stops (place_public_id) "
        "WHERE place_public_id IS NOT NULL"
    )
    op.execute(SEGMENT_GEOM)
    op.execute(
        "ALTER TABLE hotspot_segment_sites ADD COLUMN twin_stops boolean, "
        "ADD COLUMN detour_ratio double precision"
    )
    op.execute(SEGMENT_CHECKS)
    op.execute(BACKFILL_SEGMENT_CHECKS)


def downgrade() -> None:
    op.execute("DROP TRIGGER hotspot_segment_sites_checks ON hotspot_segment_sites")
    op.execute("DROP FUNCTION hotspot_segment_sites_checks()")
    op.execute("DROP FUNCTION transit_segment_checks(text, smallint, text, text)")
    op.execute("ALTER TABLE hotspot_segment_sites DROP COLUMN twin_stops, DROP COLUMN detour_ratio")
    previous = context.script.get_revision("0005").module.FUNCTIONS
    start = previous.index("CREATE FUNCTION hotspot_segment_geom(")
    end = previous.index("$$;", start) + 3
    op.execute(previous[start:end].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute("DROP INDEX ix_stops_place_public_id")
    op.execute("ALTER TABLE stops DROP COLUMN place_public_id")
    op.execute(
        "UPDATE route_stops rs SET distance_m = rs.fraction * sh.length_m "
        "FROM route_shapes sh WHERE sh.id = rs.shape_id AND rs.fraction IS NOT NULL"
    )
    op.execute(_pieces_triggers(context.script.get_revision("0007").module.PIECES_OF))
    op.execute("ALTER TABLE route_shape_pieces DROP COLUMN start_m, DROP COLUMN start_fraction")
    op.execute("ALTER TABLE route_stops DROP COLUMN fraction")

"""Hotspot rollups: counts by cell, stop and route segment, kept up to date by triggers.

Written by hand. Hotspot reads never scan raw reports: statement-level AFTER INSERT triggers
(with transition tables, so a bulk COPY costs one grouped upsert, not one per row) add each
new report to the rollups in the same transaction as the insert. Rollups hold no foreign key
to reports, so purging raw reports keeps the aggregates.

Rollup key: local day and hour (time zone from the `streetsafe.timezone` database setting,
default Europe/London), context, mode ('' when none), a 16-bit category mask and the
neighbourhood id (0 when none). The `*_sites` tables give every cell, stop and segment that
ever had a report one geometry with a named GiST index, for bbox filtering: a cell's site is
a report point inside it (PostgreSQL has no H3 here, so the hexagon is drawn in Python).

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None

# Bit i of category_mask is CATEGORY_IDS[i]; streetsafe.hotspots.rollups mirrors this order.
CATEGORY_IDS = (
    "no_cctv", "badly_lit", "isolated", "poor_layout", "restricted_visibility", "rundown",
    "drugs_alcohol", "verbal_harassment_single", "verbal_harassment_group", "followed",
    "unwanted_sexual_behaviour", "intimidating_behaviour", "no_staff", "long_wait_after_dark",
    "overcrowding", "other",
)  # fmt: skip

KEY_COLUMNS = """
    day date NOT NULL,
    hour smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
    context varchar(16) NOT NULL,
    mode varchar(16) NOT NULL DEFAULT '',
    category_mask integer NOT NULL,
    neighbourhood_id integer NOT NULL DEFAULT 0,
    count integer NOT NULL CHECK (count >= 0)
"""
KEY = "day, hour, context, mode, category_mask, neighbourhood_id"
# The rollup key of a report row `r`, in the order of KEY.
KEY_OF_R = """
    hotspot_local_day(r.occurred_at), hotspot_local_hour(r.occurred_at), r.context,
    coalesce(r.mode, ''), hotspot_category_mask(r.categories), coalesce(r.neighbourhood_id, 0)
"""

# Cell totals drop the time columns: queries without a time filter read far fewer rows.
TOTALS_KEY = "context, mode, category_mask, neighbourhood_id"
TOTALS_KEY_OF_R = """
    r.context, coalesce(r.mode, ''), hotspot_category_mask(r.categories),
    coalesce(r.neighbourhood_id, 0)
"""

# One body per rollup family, used by the trigger (on the transition table) and by the
# rebuild function (on the whole table), so bulk loads and inserts share the same SQL.
CELL_BODY = f"""
    INSERT INTO hotspot_cell_rollup AS t (res, cell, {KEY}, count)
    SELECT n.res, n.cell, {KEY_OF_R}, count(*)
      FROM {{cells}} n JOIN reports r ON r.id = n.report_id
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (res, cell, {KEY}) DO UPDATE SET count = t.count + EXCLUDED.count;
    INSERT INTO hotspot_cell_totals AS t (res, cell, {TOTALS_KEY}, count)
    SELECT n.res, n.cell, {TOTALS_KEY_OF_R}, count(*)
      FROM {{cells}} n JOIN reports r ON r.id = n.report_id
     GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (res, cell, {TOTALS_KEY}) DO UPDATE SET count = t.count + EXCLUDED.count;
    INSERT INTO hotspot_cell_sites (res, cell, geom)
    SELECT DISTINCT ON (n.res, n.cell) n.res, n.cell, r.geom
      FROM {{cells}} n JOIN reports r ON r.id = n.report_id
     ORDER BY n.res, n.cell
    ON CONFLICT DO NOTHING;
"""

TRANSIT_BODY = f"""
    INSERT INTO hotspot_stop_rollup AS t (stop_public_id, {KEY}, count)
    SELECT r.stop_public_id, {KEY_OF_R}, count(*)
      FROM {{reports}} r WHERE r.stop_public_id IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (stop_public_id, {KEY}) DO UPDATE SET count = t.count + EXCLUDED.count;
    INSERT INTO hotspot_stop_sites (stop_public_id, name, mode, geom)
    SELECT DISTINCT ON (r.stop_public_id) r.stop_public_id, coalesce(s.name, r.stop_name, ''),
           s.mode, coalesce(s.geom, r.geom)
      FROM {{reports}} r LEFT JOIN stops s ON s.public_id = r.stop_public_id
     WHERE r.stop_public_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM hotspot_stop_sites x
                        WHERE x.stop_public_id = r.stop_public_id)
     ORDER BY r.stop_public_id
    ON CONFLICT DO NOTHING;

    INSERT INTO hotspot_segment_rollup AS t
           (route_public_id, direction, from_public_id, to_public_id, {KEY}, count)
    SELECT r.route_public_id, coalesce(r.route_direction, 0), r.segment_from_public_id,
           r.segment_to_public_id, {KEY_OF_R}, count(*)
      FROM {{reports}} r
     WHERE r.route_public_id IS NOT NULL AND r.segment_from_public_id IS NOT NULL
       AND r.segment_to_public_id IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
    ON CONFLICT (route_public_id, direction, from_public_id, to_public_id, {KEY})
    DO UPDATE SET count = t.count + EXCLUDED.count;
    INSERT INTO hotspot_segment_sites AS t
           (route_public_id, direction, from_public_id, to_public_id, route_short_name,
            from_name, to_name, mode, geom)
    SELECT k.*, hotspot_segment_geom(k.route_public_id, k.direction, k.from_public_id,
                                     k.to_public_id)
      FROM (SELECT DISTINCT ON (1, 2, 3, 4) r.route_public_id,
                   coalesce(r.route_direction, 0)::smallint AS direction,
                   r.segment_from_public_id AS from_public_id,
                   r.segment_to_public_id AS to_public_id, r.route_short_name,
                   r.segment_from_name, r.segment_to_name, r.mode
              FROM {{reports}} r
             WHERE r.route_public_id IS NOT NULL AND r.segment_from_public_id IS NOT NULL
               AND r.segment_to_public_id IS NOT NULL
               AND NOT EXISTS (
                   SELECT 1 FROM hotspot_segment_sites x
                    WHERE x.route_public_id = r.route_public_id
                      AND x.direction = coalesce(r.route_direction, 0)
                      AND x.from_public_id = r.segment_from_public_id
                      AND x.to_public_id = r.segment_to_public_id)
             ORDER BY 1, 2, 3, 4) AS k
     WHERE hotspot_segment_geom(k.route_public_id, k.direction, k.from_public_id,
                                k.to_public_id) IS NOT NULL
    ON CONFLICT DO NOTHING;
"""

FUNCTIONS = f"""
CREATE FUNCTION hotspot_timezone() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('streetsafe.timezone', true), ''), 'Europe/London')
$$;

CREATE FUNCTION hotspot_local_day(ts timestamptz) RETURNS date LANGUAGE sql STABLE AS $$
    SELECT (ts AT TIME ZONE hotspot_timezone())::date
$$;

CREATE FUNCTION hotspot_local_hour(ts timestamptz) RETURNS smallint LANGUAGE sql STABLE AS $$
    SELECT extract(hour FROM ts AT TIME ZONE hotspot_timezone())::smallint
$$;

CREATE FUNCTION hotspot_category_mask(categories text[]) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(bit_or(1 << (array_position(
        ARRAY[{", ".join(f"'{c}'" for c in CATEGORY_IDS)}]::text[], c) - 1)), 0)::integer
    FROM unnest(categories) AS c
$$;

-- The stretch of a route direction's shape between two of its consecutive stops; a straight
-- line between the stops when the shape or the distances along it are missing.
CREATE FUNCTION hotspot_segment_geom(
    p_route text, p_direction smallint, p_from text, p_to text
) RETURNS geometry LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT x.g FROM (
            SELECT CASE WHEN sh.length_m > 0 AND a.distance_m IS NOT NULL
                         AND b.distance_m IS NOT NULL AND b.distance_m > a.distance_m
                    THEN ST_LineSubstring(sh.geom, least(a.distance_m / sh.length_m, 1.0),
                                          least(b.distance_m / sh.length_m, 1.0)) END AS g
              FROM routes ro
              JOIN route_stops a ON a.route_id = ro.id AND a.direction = p_direction
              JOIN stops sa ON sa.id = a.stop_id AND sa.public_id = p_from
              JOIN route_stops b ON b.route_id = ro.id AND b.direction = p_direction
                                AND b.seq > a.seq
              JOIN stops sb ON sb.id = b.stop_id AND sb.public_id = p_to
              JOIN route_shapes sh ON sh.id = a.shape_id
             WHERE ro.public_id = p_route
             ORDER BY b.seq - a.seq LIMIT 1) AS x
          WHERE ST_GeometryType(x.g) = 'ST_LineString'),
        (SELECT ST_MakeLine(sa.geom, sb.geom) FROM stops sa, stops sb
          WHERE sa.public_id = p_from AND sb.public_id = p_to
            AND NOT ST_Equals(sa.geom, sb.geom))
    )
$$;

CREATE FUNCTION hotspot_cells_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{CELL_BODY.format(cells="new_rows")}    RETURN NULL;
END $$;

CREATE FUNCTION hotspot_rebuild_cell_rollups() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
{CELL_BODY.format(cells="report_cells")}END $$;

CREATE FUNCTION hotspot_reports_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{TRANSIT_BODY.format(reports="new_rows")}    RETURN NULL;
END $$;

CREATE FUNCTION hotspot_rebuild_transit_rollups() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
{TRANSIT_BODY.format(reports="reports")}END $$;
"""


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE hotspot_cell_rollup (
            res smallint NOT NULL, cell bigint NOT NULL, {KEY_COLUMNS},
            CONSTRAINT pk_hotspot_cell_rollup PRIMARY KEY (res, cell, {KEY})
        );
        CREATE INDEX ix_hotspot_cell_rollup_res_day ON hotspot_cell_rollup (res, day);
        CREATE TABLE hotspot_cell_totals (
            res smallint NOT NULL, cell bigint NOT NULL, context varchar(16) NOT NULL,
            mode varchar(16) NOT NULL DEFAULT '', category_mask integer NOT NULL,
            neighbourhood_id integer NOT NULL DEFAULT 0, count integer NOT NULL,
            CONSTRAINT pk_hotspot_cell_totals PRIMARY KEY (res, cell, {TOTALS_KEY})
        );
        CREATE TABLE hotspot_cell_sites (
            res smallint NOT NULL, cell bigint NOT NULL,
            geom geometry(Point, 4326) NOT NULL,
            CONSTRAINT pk_hotspot_cell_sites PRIMARY KEY (res, cell)
        );
        CREATE INDEX ix_hotspot_cell_sites_geom ON hotspot_cell_sites USING gist (geom);

        CREATE TABLE hotspot_stop_rollup (
            stop_public_id varchar(160) NOT NULL, {KEY_COLUMNS},
            CONSTRAINT pk_hotspot_stop_rollup PRIMARY KEY (stop_public_id, {KEY})
        );
        CREATE TABLE hotspot_stop_sites (
            stop_public_id varchar(160) PRIMARY KEY, name text NOT NULL, mode varchar(16),
            geom geometry(Point, 4326) NOT NULL
        );
        CREATE INDEX ix_hotspot_stop_sites_geom ON hotspot_stop_sites USING gist (geom);

        CREATE TABLE hotspot_segment_rollup (
            route_public_id varchar(160) NOT NULL, direction smallint NOT NULL,
            from_public_id varchar(160) NOT NULL, to_public_id varchar(160) NOT NULL,
            {KEY_COLUMNS},
            CONSTRAINT pk_hotspot_segment_rollup PRIMARY KEY
                (route_public_id, direction, from_public_id, to_public_id, {KEY})
        );
        CREATE TABLE hotspot_segment_sites (
            route_public_id varchar(160) NOT NULL, direction smallint NOT NULL,
            from_public_id varchar(160) NOT NULL, to_public_id varchar(160) NOT NULL,
            route_short_name text, from_name text, to_name text, mode varchar(16),
            geom geometry(LineString, 4326) NOT NULL,
            CONSTRAINT pk_hotspot_segment_sites PRIMARY KEY
                (route_public_id, direction, from_public_id, to_public_id)
        );
        CREATE INDEX ix_hotspot_segment_sites_geom ON hotspot_segment_sites USING gist (geom);
        """
    )
    op.execute(FUNCTIONS)
    op.execute(
        """
        CREATE TRIGGER hotspot_cells_after_insert AFTER INSERT ON report_cells
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION hotspot_cells_after_insert();
        CREATE TRIGGER hotspot_reports_after_insert AFTER INSERT ON reports
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION hotspot_reports_after_insert();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER IF EXISTS hotspot_reports_after_insert ON reports;
        DROP TRIGGER IF EXISTS hotspot_cells_after_insert ON report_cells;
        DROP FUNCTION IF EXISTS hotspot_reports_after_insert();
        DROP FUNCTION IF EXISTS hotspot_rebuild_transit_rollups();
        DROP FUNCTION IF EXISTS hotspot_rebuild_cell_rollups();
        DROP FUNCTION IF EXISTS hotspot_cells_after_insert();
        DROP FUNCTION IF EXISTS hotspot_segment_geom(text, smallint, text, text);
        DROP FUNCTION IF EXISTS hotspot_category_mask(text[]);
        DROP FUNCTION IF EXISTS hotspot_local_hour(timestamptz);
        DROP FUNCTION IF EXISTS hotspot_local_day(timestamptz);
        DROP FUNCTION IF EXISTS hotspot_timezone();
        DROP TABLE IF EXISTS hotspot_segment_sites, hotspot_segment_rollup,
            hotspot_stop_sites, hotspot_stop_rollup, hotspot_cell_sites, hotspot_cell_totals,
            hotspot_cell_rollup;
        """
    )

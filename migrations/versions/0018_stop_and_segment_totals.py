"""Stop and segment totals: their rollups without the day and hour, for questions without time.

Written by hand. Cells have `hotspot_cell_totals` beside the day/hour rollup; stops and
segments had only the day/hour rollup, so a question about a city's stops or segments with
no time filter grouped every day/hour row (149,000 for Southampton's segments in the
national benchmark) twice per request. These tables hold one row per feature, context,
mode, category mask and neighbourhood, with count and key sum, kept by a statement-level
AFTER INSERT trigger of their own on `reports` (upserts in key order, as migration 0009's).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TOTALS_KEY = "context, mode, category_mask, neighbourhood_id"
TOTALS_OF_R = """r.context, coalesce(r.mode, ''), hotspot_category_mask(r.categories),
           coalesce(r.neighbourhood_id, 0)"""
SEGMENT = "route_public_id, direction, from_public_id, to_public_id"

BODY = f"""
    INSERT INTO hotspot_stop_totals AS t (stop_public_id, {TOTALS_KEY}, count, key_sum)
    SELECT r.stop_public_id, {TOTALS_OF_R}, count(*), sum(r.record_key)
      FROM {{reports}} r WHERE r.stop_public_id IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5
     ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (stop_public_id, {TOTALS_KEY}) DO UPDATE
       SET count = t.count + EXCLUDED.count, key_sum = t.key_sum + EXCLUDED.key_sum;
    INSERT INTO hotspot_segment_totals AS t ({SEGMENT}, {TOTALS_KEY}, count, key_sum)
    SELECT r.route_public_id, coalesce(r.route_direction, 0), r.segment_from_public_id,
           r.segment_to_public_id, {TOTALS_OF_R}, count(*), sum(r.record_key)
      FROM {{reports}} r
     WHERE r.route_public_id IS NOT NULL AND r.segment_from_public_id IS NOT NULL
       AND r.segment_to_public_id IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
     ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ({SEGMENT}, {TOTALS_KEY}) DO UPDATE
       SET count = t.count + EXCLUDED.count, key_sum = t.key_sum + EXCLUDED.key_sum;
"""

COLUMNS = """context varchar(16) NOT NULL, mode varchar(16) NOT NULL DEFAULT '',
    category_mask integer NOT NULL, neighbourhood_id integer NOT NULL DEFAULT 0,
    count integer NOT NULL CHECK (count >= 0), key_sum bigint NOT NULL DEFAULT 0"""


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE hotspot_stop_totals (
            stop_public_id varchar(160) NOT NULL, {COLUMNS},
            CONSTRAINT pk_hotspot_stop_totals PRIMARY KEY (stop_public_id, {TOTALS_KEY})
        );
        CREATE TABLE hotspot_segment_totals (
            route_public_id varchar(160) NOT NULL, direction smallint NOT NULL,
            from_public_id varchar(160) NOT NULL, to_public_id varchar(160) NOT NULL,
            {COLUMNS},
            CONSTRAINT pk_hotspot_segment_totals PRIMARY KEY ({SEGMENT}, {TOTALS_KEY})
        );
        CREATE FUNCTION hotspot_site_totals_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {BODY.format(reports="new_rows")}    RETURN NULL;
        END $$;
        CREATE FUNCTION hotspot_rebuild_site_totals() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
        {BODY.format(reports="reports")}END $$;
        CREATE TRIGGER hotspot_site_totals_after_insert AFTER INSERT ON reports
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION hotspot_site_totals_after_insert();
        SELECT hotspot_rebuild_site_totals();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER hotspot_site_totals_after_insert ON reports;
        DROP FUNCTION hotspot_site_totals_after_insert();
        DROP FUNCTION hotspot_rebuild_site_totals();
        DROP TABLE hotspot_stop_totals, hotspot_segment_totals;
        """
    )

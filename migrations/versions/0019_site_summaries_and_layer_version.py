"""Stop and segment summaries (one row per feature), and a version for cached public layers.

Written by hand. Cells have `hotspot_cell_summary` (0006, key sums in 0012): one row per cell
with its total, count and key sum per category and its category-mask histogram, so an
unfiltered layer reads one row per feature. Stops and segments had only their totals (0018),
one row per feature, context, mode, category mask and neighbourhood. These summaries are the
cells' for stops and segments; a statement-level AFTER INSERT trigger on `reports` recomputes
the rows of the features the statement touched from the totals (its name sorts after 0018's
`hotspot_site_totals_after_insert`, and triggers fire in name order), in key order.

`hotspot_layer_version` is a sequence that every statement changing what the public layers
are made of advances (reports, the rollups' rebuilds, the transit sites): a public layer's
published ids and Gi* are cached under it (streetsafe/hotspots/layercache.py). `nextval`
never blocks, so concurrent intake does not queue on it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import context, op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

SEGMENT = "route_public_id, direction, from_public_id, to_public_id"
KINDS = {"stop": "stop_public_id", "segment": SEGMENT}
# Which rows of the totals the trigger recomputes: the features its new reports touched.
TOUCHED = {
    "stop": "x.stop_public_id IN (SELECT n.stop_public_id FROM new_rows n "
    "WHERE n.stop_public_id IS NOT NULL)",
    "segment": "(x.route_public_id, x.direction, x.from_public_id, x.to_public_id) IN ("
    "SELECT n.route_public_id, coalesce(n.route_direction, 0), n.segment_from_public_id, "
    "n.segment_to_public_id FROM new_rows n WHERE n.route_public_id IS NOT NULL "
    "AND n.segment_from_public_id IS NOT NULL AND n.segment_to_public_id IS NOT NULL)",
}
VERSIONED = ("reports", "hotspot_cell_summary", "hotspot_cell_sites", "hotspot_stop_sites",
             "hotspot_segment_sites")  # fmt: skip


def _categories() -> tuple[list[str], str, str]:
    """The per-category columns and the expressions that fill them (as the cell summary's)."""
    m0007 = context.script.get_revision("0007").module
    keys = [f"k_{c}" for c in m0007.CATEGORY_IDS]
    key_expressions = ", ".join(
        f"coalesce(sum(m.k) FILTER (WHERE m.category_mask & {1 << i} <> 0), 0)::bigint"
        for i in range(len(keys))
    )
    return [*m0007.COUNT_COLUMNS, *keys], m0007.COUNT_EXPRESSIONS, key_expressions


def _summary(kind: str, incremental: bool) -> str:
    """The upsert of a kind's summary rows from its totals (touched features, or all)."""
    key = KINDS[kind]
    columns, counts, keys = _categories()
    m_key = ", ".join(f"m.{c}" for c in key.split(", "))
    x_key = ", ".join(f"x.{c}" for c in key.split(", "))
    return f"""
    INSERT INTO hotspot_{kind}_summary AS t
           ({key}, total, key_sum, {", ".join(columns)}, masks, mask_counts, mask_key_sums)
    SELECT {m_key}, sum(m.n)::int, sum(m.k)::bigint, {counts}, {keys},
           array_agg(m.category_mask ORDER BY m.category_mask),
           array_agg(m.n ORDER BY m.category_mask), array_agg(m.k ORDER BY m.category_mask)
      FROM (SELECT {x_key}, x.category_mask, sum(x.count)::int AS n,
                   sum(x.key_sum)::bigint AS k
              FROM hotspot_{kind}_totals x
             WHERE {TOUCHED[kind] if incremental else "true"}
             GROUP BY {x_key}, x.category_mask) AS m
     GROUP BY {m_key}
     ORDER BY {m_key}
    ON CONFLICT ({key}) DO UPDATE SET total = EXCLUDED.total, key_sum = EXCLUDED.key_sum,
        {", ".join(f"{c} = EXCLUDED.{c}" for c in columns)},
        masks = EXCLUDED.masks, mask_counts = EXCLUDED.mask_counts,
        mask_key_sums = EXCLUDED.mask_key_sums;
"""


def _tables() -> str:
    columns, _, _ = _categories()
    per_category = ", ".join(
        f"{c} {'integer' if c.startswith('n_') else 'bigint'} NOT NULL DEFAULT 0" for c in columns
    )
    arrays = ("masks integer[] NOT NULL, mask_counts integer[] NOT NULL, "
              "mask_key_sums bigint[] NOT NULL")
    return f"""
        CREATE TABLE hotspot_stop_summary (
            stop_public_id varchar(160) NOT NULL, total integer NOT NULL,
            key_sum bigint NOT NULL, {per_category}, {arrays},
            CONSTRAINT pk_hotspot_stop_summary PRIMARY KEY (stop_public_id)
        );
        CREATE TABLE hotspot_segment_summary (
            route_public_id varchar(160) NOT NULL, direction smallint NOT NULL,
            from_public_id varchar(160) NOT NULL, to_public_id varchar(160) NOT NULL,
            total integer NOT NULL, key_sum bigint NOT NULL, {per_category}, {arrays},
            CONSTRAINT pk_hotspot_segment_summary PRIMARY KEY ({SEGMENT})
        );
    """


def _version_triggers() -> str:
    return "".join(
        f"CREATE TRIGGER {table}_layer_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION hotspot_advance_layer_version();\n"
        for table in VERSIONED
    )


def upgrade() -> None:
    op.execute(
        f"""
        {_tables()}
        CREATE FUNCTION hotspot_site_totals_summary_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {_summary("stop", True)}{_summary("segment", True)}    RETURN NULL;
        END $$;
        CREATE FUNCTION hotspot_rebuild_site_summaries() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
        {_summary("stop", False)}{_summary("segment", False)}END $$;
        CREATE TRIGGER hotspot_site_totals_summary_after_insert AFTER INSERT ON reports
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION hotspot_site_totals_summary_after_insert();
        SELECT hotspot_rebuild_site_summaries();

        CREATE SEQUENCE hotspot_layer_version;
        CREATE FUNCTION hotspot_advance_layer_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM nextval('hotspot_layer_version');
            RETURN NULL;
        END $$;
        {_version_triggers()}
        """
    )


def downgrade() -> None:
    drops = "".join(f"DROP TRIGGER {t}_layer_version ON {t};\n" for t in VERSIONED)
    op.execute(
        f"""
        {drops}
        DROP FUNCTION hotspot_advance_layer_version();
        DROP SEQUENCE hotspot_layer_version;
        DROP TRIGGER hotspot_site_totals_summary_after_insert ON reports;
        DROP FUNCTION hotspot_site_totals_summary_after_insert();
        DROP FUNCTION hotspot_rebuild_site_summaries();
        DROP TABLE hotspot_stop_summary, hotspot_segment_summary;
        """
    )

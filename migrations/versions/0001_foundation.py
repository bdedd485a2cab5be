"""Foundation schema: PostGIS, transit, neighbourhoods, reports, cells, moderation, teams, audit.

Written by hand. Every geometry is SRID 4326 with a named GiST index; stops and route shapes
also get a GiST index on their geography cast, so that metre radii (ST_DWithin on geography)
and nearest-neighbour (<->) searches use an index anywhere on Earth.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def _gist(table: str, expression: str, name: str) -> None:
    op.execute(f"CREATE INDEX {name} ON {table} USING gist ({expression})")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("stats", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.CheckConstraint("kind IN ('gtfs', 'naptan')", name="kind"),
        sa.UniqueConstraint("name", name="uq_feeds_name"),
    )

    op.create_table(
        "stops",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("public_id", sa.String(160), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("mode", sa.String(16)),
        sa.Column("location_type", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("parent_public_id", sa.String(160)),
        sa.Column("locality", sa.Text),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.UniqueConstraint("public_id", name="uq_stops_public_id"),
    )
    op.create_index("ix_stops_feed_id", "stops", ["feed_id"])
    _gist("stops", "geom", "ix_stops_geom")
    _gist("stops", "(geom::geography)", "ix_stops_geog")

    op.create_table(
        "routes",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("public_id", sa.String(160), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("short_name", sa.Text),
        sa.Column("long_name", sa.Text),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("route_type", sa.Integer, nullable=False),
        sa.Column("agency", sa.Text),
        sa.Column("color", sa.String(6)),
        sa.UniqueConstraint("public_id", name="uq_routes_public_id"),
    )
    op.create_index("ix_routes_feed_id", "routes", ["feed_id"])
    op.execute(
        "CREATE INDEX ix_routes_short_name_lower ON routes (lower(short_name) text_pattern_ops)"
    )
    op.execute(
        "CREATE INDEX ix_routes_long_name_lower ON routes (lower(long_name) text_pattern_ops)"
    )

    op.create_table(
        "route_shapes",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "route_id",
            sa.BigInteger,
            sa.ForeignKey("routes.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("direction", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("source_id", sa.String(128)),
        sa.Column("from_stops", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("length_m", sa.Float, nullable=False),
        sa.Column("geom", Geometry("LINESTRING", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_route_shapes_route_id", "route_shapes", ["route_id"])
    _gist("route_shapes", "geom", "ix_route_shapes_geom")
    _gist("route_shapes", "(geom::geography)", "ix_route_shapes_geog")

    op.create_table(
        "route_stops",
        sa.Column(
            "route_id",
            sa.BigInteger,
            sa.ForeignKey("routes.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("direction", sa.SmallInteger, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column(
            "stop_id", sa.BigInteger, sa.ForeignKey("stops.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("shape_id", sa.BigInteger, sa.ForeignKey("route_shapes.id", ondelete="SET NULL")),
        sa.Column("distance_m", sa.Float),
    )
    op.create_index("ix_route_stops_stop_id", "route_stops", ["stop_id"])
    op.create_index("ix_route_stops_shape_id", "route_stops", ["shape_id"])

    op.create_table(
        "neighbourhoods",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.UniqueConstraint("code", name="uq_neighbourhoods_code"),
    )
    _gist("neighbourhoods", "geom", "ix_neighbourhoods_geom")

    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("token_lookup", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("name", name="uq_teams_name"),
        sa.UniqueConstraint("token_lookup", name="uq_teams_token_lookup"),
    )
    op.create_table(
        "team_neighbourhoods",
        sa.Column(
            "team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "neighbourhood_id",
            sa.Integer,
            sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )

    op.create_table(
        "reports",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("context", sa.String(16), nullable=False),
        sa.Column("categories", ARRAY(sa.String(48)), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False, server_default=sa.text("CURRENT_DATE")),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("mode", sa.String(16)),
        sa.Column("stop_id", sa.BigInteger, sa.ForeignKey("stops.id", ondelete="SET NULL")),
        sa.Column("stop_public_id", sa.String(160)),
        sa.Column("stop_name", sa.Text),
        sa.Column("stop_distance_m", sa.Float),
        sa.Column("route_id", sa.BigInteger, sa.ForeignKey("routes.id", ondelete="SET NULL")),
        sa.Column("route_public_id", sa.String(160)),
        sa.Column("route_short_name", sa.Text),
        sa.Column("route_direction", sa.SmallInteger),
        sa.Column("segment_from_public_id", sa.String(160)),
        sa.Column("segment_from_name", sa.Text),
        sa.Column("segment_to_public_id", sa.String(160)),
        sa.Column("segment_to_name", sa.Text),
        sa.Column("along_m", sa.Float),
        sa.Column("route_distance_m", sa.Float),
        sa.Column(
            "neighbourhood_id", sa.Integer, sa.ForeignKey("neighbourhoods.id", ondelete="SET NULL")
        ),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("context IN ('street', 'at_stop', 'on_vehicle')", name="context"),
        sa.CheckConstraint("cardinality(categories) BETWEEN 1 AND 6", name="categories_count"),
    )
    _gist("reports", "geom", "ix_reports_geom")
    op.create_index("ix_reports_occurred_at", "reports", ["occurred_at"])
    op.create_index("ix_reports_received_on", "reports", ["received_on"])
    op.create_index("ix_reports_neighbourhood_id", "reports", ["neighbourhood_id"])
    op.create_index("ix_reports_stop_public_id", "reports", ["stop_public_id"])
    op.create_index("ix_reports_route_public_id", "reports", ["route_public_id"])

    op.create_table(
        "report_cells",
        sa.Column(
            "report_id",
            UUID(as_uuid=True),
            sa.ForeignKey("reports.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("res", sa.SmallInteger, primary_key=True),
        sa.Column("cell", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_report_cells_res_cell", "report_cells", ["res", "cell"])

    op.create_table(
        "report_descriptions",
        sa.Column(
            "report_id",
            UUID(as_uuid=True),
            sa.ForeignKey("reports.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("scrubbed", sa.Text),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("moderated_at", sa.DateTime(timezone=True)),
        sa.Column("moderated_by", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL")),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    )
    op.create_index("ix_report_descriptions_status", "report_descriptions", ["status"])

    op.create_table(
        "idempotency_keys",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.SmallInteger, nullable=False),
        sa.Column("response", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])

    op.create_table(
        "team_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("geom", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_team_actions_team_id", "team_actions", ["team_id"])
    _gist("team_actions", "geom", "ix_team_actions_geom")

    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL")),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("ix_audit_events_team_id_created_at", "audit_events", ["team_id", "created_at"])


def downgrade() -> None:
    for table in (
        "audit_events",
        "team_actions",
        "idempotency_keys",
        "report_descriptions",
        "report_cells",
        "reports",
        "team_neighbourhoods",
        "teams",
        "neighbourhoods",
        "route_stops",
        "route_shapes",
        "routes",
        "stops",
        "feeds",
    ):
        op.drop_table(table)
    # The PostGIS extension stays: other schemas in the database may use it.

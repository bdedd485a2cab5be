"""Tables: transit geometry, neighbourhoods, reports and their cells, moderation, teams, audit.

Every geometry is WGS84 (SRID 4326) with a named GiST index. Distances are computed on the
geography type (metres on the spheroid), so they are right anywhere on Earth. The migrations
in `migrations/versions` are the source of truth; these mappings follow them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base
from .vocabulary import CONTEXTS, MAX_CATEGORIES

DESCRIPTION_STATUSES = ("pending", "approved", "rejected")

CONTEXT_LIST = ", ".join(f"'{context}'" for context in CONTEXTS)  # as SQL literals

tz_now = sa.func.now()


class Feed(Base):
    """One imported transit source (a GTFS feed or a NaPTAN extract); re-imports replace it."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # gtfs | naptan
    source: Mapped[str | None] = mapped_column(sa.Text)
    imported_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=tz_now)
    stats: Mapped[dict] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))

    __table_args__ = (sa.CheckConstraint("kind IN ('gtfs', 'naptan')", name="kind"),)


class Stop(Base):
    """A stop, platform, station or entrance; `public_id` is `{feed}:{source id}`."""

    __tablename__ = "stops"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    # References feeds.id, ON DELETE CASCADE, through triggers checked once per statement
    # (migration 0010), not a declarative foreign key.
    feed_id: Mapped[int] = mapped_column(sa.Integer, index=True)
    public_id: Mapped[str] = mapped_column(sa.String(160), unique=True)
    source_id: Mapped[str] = mapped_column(sa.String(128))
    name: Mapped[str] = mapped_column(sa.Text)
    mode: Mapped[str | None] = mapped_column(sa.String(16))
    location_type: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    parent_public_id: Mapped[str | None] = mapped_column(sa.String(160))
    locality: Mapped[str | None] = mapped_column(sa.Text)
    # The code printed on the stop (NaPTAN's NaptanCode, GTFS stop_code), for stop search.
    code: Mapped[str | None] = mapped_column(sa.Text)
    # The public id of the row that is this stop's place when another feed knows it too
    # (NULL: its own place); see streetsafe/transit/places.py (migration 0013).
    place_public_id: Mapped[str | None] = mapped_column(sa.String(160))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)

    feed: Mapped[Feed] = relationship(primaryjoin="foreign(Stop.feed_id) == Feed.id")


class Route(Base):
    """A transit route (a bus number, a tram or rail line)."""

    __tablename__ = "routes"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    feed_id: Mapped[int] = mapped_column(sa.ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    public_id: Mapped[str] = mapped_column(sa.String(160), unique=True)
    source_id: Mapped[str] = mapped_column(sa.String(128))
    short_name: Mapped[str | None] = mapped_column(sa.Text)
    long_name: Mapped[str | None] = mapped_column(sa.Text)
    mode: Mapped[str] = mapped_column(sa.String(16))
    route_type: Mapped[int] = mapped_column(sa.Integer)
    agency: Mapped[str | None] = mapped_column(sa.Text)
    color: Mapped[str | None] = mapped_column(sa.String(6))

    feed: Mapped[Feed] = relationship()


class RouteShape(Base):
    """The line a route direction follows, from shapes.txt or built from its stop sequence."""

    __tablename__ = "route_shapes"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    route_id: Mapped[int] = mapped_column(
        sa.ForeignKey("routes.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    source_id: Mapped[str | None] = mapped_column(sa.String(128))
    from_stops: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    length_m: Mapped[float] = mapped_column(sa.Float)
    geom = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=False), nullable=False)


class RouteStop(Base):
    """One stop in a route direction's ordered stop sequence, with its distance along the shape."""

    __tablename__ = "route_stops"

    route_id: Mapped[int] = mapped_column(
        sa.ForeignKey("routes.id", ondelete="CASCADE"), primary_key=True
    )
    direction: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    # References stops.id through statement triggers (migration 0025), not a declared key.
    stop_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    shape_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("route_shapes.id", ondelete="SET NULL"), index=True
    )
    # Geodesic metres along the shape to the stop; `fraction` is the stop's planar fraction
    # of the shape (ST_LineSubstring's measure), to cut the shape between stops (0013).
    distance_m: Mapped[float | None] = mapped_column(sa.Float)
    fraction: Mapped[float | None] = mapped_column(sa.Float)


class Neighbourhood(Base):
    """A neighbourhood (policing area, ward, borough) that teams look after."""

    __tablename__ = "neighbourhoods"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str | None] = mapped_column(sa.Text)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)


class Report(Base):
    """One anonymous report. Nothing about who sent it is stored: no address, agent or cookie."""

    __tablename__ = "reports"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    context: Mapped[str] = mapped_column(sa.String(16))
    categories: Mapped[list[str]] = mapped_column(ARRAY(sa.String(48)))
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    received_on: Mapped[date] = mapped_column(sa.Date, server_default=sa.text("CURRENT_DATE"))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    mode: Mapped[str | None] = mapped_column(sa.String(16))
    # Snapped stop: the id may go when a feed is re-imported; public id and name stay.
    # References stops.id through statement triggers (migration 0025), not a declared key.
    stop_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    stop_public_id: Mapped[str | None] = mapped_column(sa.String(160))
    stop_name: Mapped[str | None] = mapped_column(sa.Text)
    stop_distance_m: Mapped[float | None] = mapped_column(sa.Float)
    # Snapped route, direction and the stretch between two consecutive stops.
    route_id: Mapped[int | None] = mapped_column(sa.ForeignKey("routes.id", ondelete="SET NULL"))
    route_public_id: Mapped[str | None] = mapped_column(sa.String(160))
    route_short_name: Mapped[str | None] = mapped_column(sa.Text)
    route_direction: Mapped[int | None] = mapped_column(sa.SmallInteger)
    segment_from_public_id: Mapped[str | None] = mapped_column(sa.String(160))
    segment_from_name: Mapped[str | None] = mapped_column(sa.Text)
    segment_to_public_id: Mapped[str | None] = mapped_column(sa.String(160))
    segment_to_name: Mapped[str | None] = mapped_column(sa.Text)
    along_m: Mapped[float | None] = mapped_column(sa.Float)
    route_distance_m: Mapped[float | None] = mapped_column(sa.Float)
    neighbourhood_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("neighbourhoods.id", ondelete="SET NULL"), index=True
    )
    synthetic: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    # The cell-key method's random record key (hotspots/perturbation.py), set by the database.
    record_key: Mapped[int] = mapped_column(
        sa.SmallInteger, server_default=sa.text("floor(random() * 256)::smallint")
    )
    # NULL for public intake; the name given to `streetsafe reports load --source` otherwise.
    source: Mapped[str | None] = mapped_column(sa.Text)
    # What the reporter may type in at /receipt: 65 random bits in Crockford's base32, made by
    # the database (migration 0026; streetsafe/reports/receipts.py reads and shows it).
    receipt_code: Mapped[str] = mapped_column(
        sa.Text, server_default=sa.text("new_receipt_code()")
    )

    cells: Mapped[list[ReportCell]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        sa.CheckConstraint(f"context IN ({CONTEXT_LIST})", name="context"),
        sa.CheckConstraint(
            f"cardinality(categories) BETWEEN 1 AND {MAX_CATEGORIES}", name="categories_count"
        ),
        sa.CheckConstraint("source IS NULL OR length(source) BETWEEN 1 AND 64", name="source"),
        sa.Index("ix_reports_occurred_at", "occurred_at"),
        sa.Index("ix_reports_received_on", "received_on"),
        sa.Index("ux_reports_receipt_code", "receipt_code", unique=True),
        sa.CheckConstraint("receipt_code ~ '^[0-9A-HJKMNP-TV-Z]{13}$'", name="receipt_code"),
    )


class ReportCell(Base):
    """The H3 cell of a report's point at one configured resolution (64-bit cell index)."""

    __tablename__ = "report_cells"

    report_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    res: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    cell: Mapped[int] = mapped_column(sa.BigInteger)

    report: Mapped[Report] = relationship(back_populates="cells")

    __table_args__ = (sa.Index("ix_report_cells_res_cell", "res", "cell"),)


class ReportDescription(Base):
    """A report's free text, kept apart for moderation; no public endpoint ever returns it."""

    __tablename__ = "report_descriptions"

    report_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[str] = mapped_column(sa.Text)
    scrubbed: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), server_default="pending")
    moderated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    moderated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        sa.Index("ix_report_descriptions_status", "status"),
    )


class IdempotencyKey(Base):
    """A claimed Idempotency-Key (stored as a hash) with the first response it produced."""

    __tablename__ = "idempotency_keys"

    key_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int] = mapped_column(sa.SmallInteger)
    response: Mapped[dict] = mapped_column(JSONB)
    # Whole hours only (migration 0012): no time that could link a report to a request.
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.text("date_trunc('hour', now())")
    )
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.Index("ix_idempotency_keys_expires_at", "expires_at"),)


team_neighbourhoods = sa.Table(
    "team_neighbourhoods",
    Base.metadata,
    sa.Column("team_id", sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "neighbourhood_id", sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Team(Base):
    """A neighbourhood policing team; its sign-in token is stored only as a password hash."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    token_lookup: Mapped[str] = mapped_column(sa.String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=tz_now)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # "team" (its neighbourhoods, exact) or "programme" (every area, aggregates only; 0022).
    role: Mapped[str] = mapped_column(sa.Text, server_default="team")

    neighbourhoods: Mapped[list[Neighbourhood]] = relationship(secondary=team_neighbourhoods)

    __table_args__ = (sa.CheckConstraint("role IN ('team', 'programme')", name="role"),)


class TeamAction(Base):
    """Something a team did in a place from a date (patrols, lighting): before/after tracking."""

    __tablename__ = "team_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.Text)
    # One of streetsafe.team.actions.ACTION_KINDS (migration 0020).
    kind: Mapped[str] = mapped_column(sa.Text, server_default="other")
    started_on: Mapped[date] = mapped_column(sa.Date)
    ended_on: Mapped[date | None] = mapped_column(sa.Date)
    dosage_amount: Mapped[float | None] = mapped_column(sa.Float)
    dosage_unit: Mapped[str | None] = mapped_column(sa.Text)
    # How the place was given: circle, polygon, stop or segment; place_ref keeps the stop or
    # the route and its two stops; radius_m is the default buffer width (NULL: from the area).
    place_kind: Mapped[str] = mapped_column(sa.Text, server_default="circle")
    place_ref: Mapped[dict | None] = mapped_column(JSONB)
    radius_m: Mapped[float | None] = mapped_column(sa.Float)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=tz_now)
    geom = mapped_column(Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False)
    # Published on the receipts of reports its place covers (migration 0026): the public
    # title and text are stored scrubbed and shown only once approved.
    public: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    public_title: Mapped[str | None] = mapped_column(sa.Text)
    public_text: Mapped[str | None] = mapped_column(sa.Text)
    public_status: Mapped[str | None] = mapped_column(sa.Text)
    public_decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    public_decided_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL")
    )

    __table_args__ = (
        sa.CheckConstraint(
            "ended_on IS NULL OR ended_on >= started_on", name="ended_after_started"
        ),
        sa.CheckConstraint(
            "public_status IN ('pending', 'approved', 'rejected')", name="public_status"
        ),
        sa.CheckConstraint("NOT public OR public_title IS NOT NULL", name="public_title"),
    )


class AuditEvent(Base):
    """A team sign-in, query or download: who (team), what, when, with which filters."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[dict] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=tz_now)

    __table_args__ = (sa.Index("ix_audit_events_team_id_created_at", "team_id", "created_at"),)


class TeamSession(Base):
    """A team's signed-in browser session; the cookie holds the id, this row its SHA-256."""

    __tablename__ = "team_sessions"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    id_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=tz_now)
    last_seen_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=tz_now
    )
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class RouteShapePiece(Base):
    """A few consecutive segments of a route shape, for index-backed nearest-route snapping.

    Filled and replaced by triggers on route_shapes (migration 0007), never written directly.
    """

    __tablename__ = "route_shape_pieces"

    # References route_shapes.id, ON DELETE CASCADE, through triggers (migration 0010).
    shape_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    geom = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=False), nullable=False)
    # Where the piece starts: geodesic metres along the shape, planar fraction of it (0013).
    start_m: Mapped[float | None] = mapped_column(sa.Float)
    start_fraction: Mapped[float | None] = mapped_column(sa.Float)

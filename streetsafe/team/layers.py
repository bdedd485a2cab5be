"""What a team downloads: exact hotspot layers and individual reports of its own area.

Teams see exact, unsuppressed counts (the public ones pass through hotspots.disclosure);
the scope is enforced here, by adding the team's neighbourhood ids to the filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import sqlalchemy as sa
from shapely import wkb
from sqlalchemy.orm import Session

from ..config import Settings
from ..hotspots.conditions import REPORTS, all_of, conditions, in_bbox
from ..hotspots.disclosure import PublicFeature, PublicLayer
from ..hotspots.filters import HotspotFilters, parse_filters
from ..hotspots.formats import Download, Table, layer_metadata, layer_table, render_table
from ..hotspots.service import exact_layer, study_area, with_gi_star
from .service import TeamScope

MAX_REPORTS = 50_000


def team_filters(args: Mapping[str, str], scope: TeamScope) -> HotspotFilters:
    """The query's filters, narrowed to the team's neighbourhoods (403 for anyone else's)."""
    filters = parse_filters(args, public=False)
    return filters.model_copy(update={"neighbourhood_ids": scope.ids_for(filters.neighbourhood)})


def exact_public_layer(session: Session, layer: str, filters: HotspotFilters) -> PublicLayer:
    """A layer with exact counts and full category breakdowns; cells carry Gi*."""
    features = [
        PublicFeature(
            id=f.id,
            geometry=f.geometry,
            count=f.count,
            categories={c: n for c, (n, _) in f.category_counts(filters.category_mask).items()},
            properties=dict(f.properties),
        )
        for f in exact_layer(session, layer, filters)
    ]
    exact = PublicLayer(features, min_published_count=1, rounding=1)
    return with_gi_star(exact, study_area(session, filters)) if layer == "cells" else exact


def render_layer(
    session: Session, layer: str, filters: HotspotFilters, fmt: str, settings: Settings
) -> Download:
    """A team hotspot layer as GeoJSON, CSV or GeoPackage, marked as unsuppressed."""
    public = exact_public_layer(session, layer, filters)
    metadata = {**layer_metadata(layer, filters, public, settings), "suppression": "none (team)"}
    stem = f"streetsafe-team-{layer}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    return render_table(fmt, layer_table(layer, public), stem, metadata)


_REPORTS_SQL = """
SELECT r.id::text AS report_id, r.occurred_at, r.context, r.categories, r.mode,
       r.stop_public_id, r.stop_name, r.route_public_id, r.route_short_name,
       r.segment_from_name, r.segment_to_name, n.code AS neighbourhood,
       CASE WHEN d.status = 'approved' THEN d.scrubbed END AS description,
       ST_AsBinary(r.geom) AS wkb
FROM reports r
JOIN neighbourhoods n ON n.id = r.neighbourhood_id
LEFT JOIN report_descriptions d ON d.report_id = r.id
WHERE {where}
ORDER BY r.occurred_at DESC, r.id
LIMIT :limit
"""


def team_reports(session: Session, filters: HotspotFilters, limit: int = MAX_REPORTS) -> Table:
    """Individual reports of the team's area, newest first: never anything about who sent them."""
    where, params = conditions(session, filters, REPORTS)
    in_bbox(filters, "r.geom", where, params)
    rows = session.execute(
        sa.text(_REPORTS_SQL.format(where=all_of(where))), {**params, "limit": limit}
    ).mappings()
    ids, props, geometries = [], [], []
    for row in rows:
        record = dict(row)
        geometries.append(wkb.loads(bytes(record.pop("wkb"))))
        record["occurred_at"] = record["occurred_at"].isoformat()
        ids.append(record["report_id"])
        props.append(record)
    return Table("streetsafe_reports", "report_id", ids, props, geometries)


def render_reports(
    session: Session, filters: HotspotFilters, fmt: str, settings: Settings
) -> Download:
    """The team's reports as GeoJSON, CSV or GeoPackage, with filters and time in metadata."""
    table = team_reports(session, filters)
    metadata: dict[str, object] = {
        "layer": "reports",
        "filters": filters.describe(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "reports": len(table.ids),
        "suppression": "none (team)",
        "licence": settings.data_licence,
    }
    stem = f"streetsafe-team-reports-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    return render_table(fmt, table, stem, metadata)

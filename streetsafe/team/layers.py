"""What a team downloads: exact hotspot layers and individual reports of its own area.

Teams see exact, unsuppressed counts in an ExactLayer (the public ones are PublicLayers,
which only hotspots.disclosure makes); the scope is enforced here, by adding the team's
neighbourhood ids to the query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import sqlalchemy as sa
from shapely import wkb
from sqlalchemy.orm import Session

from ..config import Settings
from ..hotspots.aggregate import HotspotFeature
from ..hotspots.conditions import REPORTS, all_of, conditions, in_bbox
from ..hotspots.filters import HotspotQuery, parse_filters
from ..hotspots.formats import Download, Feature, Table, render, render_table
from ..hotspots.service import EXACT_LAYERS, study_area, with_gi_star
from .service import TeamScope

MAX_REPORTS = 50_000


def team_filters(args: Mapping[str, str], scope: TeamScope) -> HotspotQuery:
    """The query's filters, narrowed to the team's neighbourhoods (403 for anyone else's)."""
    filters = parse_filters(args, public=False)
    return filters.model_copy(update={"neighbourhood_ids": scope.ids_for(filters.neighbourhood)})


@dataclass(frozen=True)
class ExactLayer:
    """A team's layer: exact counts, nothing withheld. Never public: public outputs take a
    PublicLayer, which only the disclosure gate makes."""

    features: tuple[Feature, ...]
    public = False
    kind = "team"

    @classmethod
    def of(cls, features: Iterable[HotspotFeature], category_mask: int = 0) -> ExactLayer:
        """The exact features, with their categories under the query's category filter."""
        return cls(tuple(
            Feature(f.id, f.geometry, f.count,
                         {c: n for c, (n, _) in f.category_counts(category_mask).items()},
                         dict(f.properties))
            for f in features
        ))  # fmt: skip

    def with_properties(self, extra: Mapping[str, Mapping[str, object]]) -> ExactLayer:
        """The same features with more properties (Gi*) by id."""
        return ExactLayer(tuple(replace(f, properties={**f.properties, **extra.get(f.id, {})})
                                for f in self.features))  # fmt: skip

    def rules(self) -> dict[str, object]:
        """What a team download states instead of the public rules."""
        return {"min_published_count": 1, "rounding": 1,
                "perturbation": "cell-key method, noise up to 0",
                "suppression": "none (team)"}  # fmt: skip


def exact_layer(session: Session, layer: str, filters: HotspotQuery) -> ExactLayer:
    """A layer of the team's area with exact counts and full category breakdowns; cells
    carry Gi* of the exact counts."""
    exact = ExactLayer.of(EXACT_LAYERS[layer](session, filters, 1), filters.category_mask)
    return with_gi_star(exact, study_area(session, filters)) if layer == "cells" else exact


def render_layer(
    session: Session, layer: str, filters: HotspotQuery, fmt: str, settings: Settings
) -> Download:
    """A team hotspot layer as GeoJSON, CSV or GeoPackage, marked as unsuppressed."""
    return render(fmt, layer, exact_layer(session, layer, filters), filters, settings)


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


def team_reports(session: Session, filters: HotspotQuery, limit: int = MAX_REPORTS) -> Table:
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
    session: Session, filters: HotspotQuery, fmt: str, settings: Settings
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

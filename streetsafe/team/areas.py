"""The team's neighbourhoods as GeoJSON."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Neighbourhood
from .service import TeamScope


def team_areas(session: Session, scope: TeamScope) -> dict[str, Any]:
    """A FeatureCollection of the team's neighbourhood polygons (RFC 7946, 6 decimals)."""
    rows = session.execute(
        sa.select(
            Neighbourhood.code,
            Neighbourhood.name,
            sa.func.ST_AsGeoJSON(sa.func.ST_ForcePolygonCCW(Neighbourhood.geom), 6),
        ).where(Neighbourhood.id.in_(scope.neighbourhood_ids))
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": code,
                "properties": {"code": code, "name": name},
                "geometry": json.loads(geometry),
            }
            for code, name, geometry in rows
        ],
    }

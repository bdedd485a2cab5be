"""Benefits tracking: a team records an action in a place from a date, then sees before/after."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound, Unprocessable
from ..models import TeamAction
from .service import TeamScope

TIMEZONE = "Europe/London"


def record_action(
    session: Session,
    scope: TeamScope,
    title: str,
    started_on: date,
    lon: float,
    lat: float,
    radius_m: float,
) -> int:
    """Store an action as a circle of `radius_m` around (lon, lat) touching the team's area."""
    inside = session.scalar(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM neighbourhoods WHERE id = ANY(:ids) AND "
            "ST_DWithin(geom::geography, "
            "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :r))"
        ),
        {"ids": list(scope.neighbourhood_ids), "lon": lon, "lat": lat, "r": radius_m},
    )
    if not inside:
        raise Unprocessable("the place is outside this team's neighbourhoods", "location")
    action = TeamAction(
        team_id=scope.team_id,
        title=title,
        started_on=started_on,
        geom=sa.func.ST_Buffer(
            sa.func.ST_SetSRID(sa.func.ST_MakePoint(lon, lat), 4326).cast(_geography()), radius_m
        ).cast(_geometry()),
    )
    session.add(action)
    session.flush()
    return action.id


def _geography() -> Any:
    from geoalchemy2 import Geography

    return Geography(srid=4326)


def _geometry() -> Any:
    from geoalchemy2 import Geometry

    return Geometry("POLYGON", srid=4326)


def list_actions(session: Session, scope: TeamScope) -> list[dict[str, Any]]:
    """The team's actions, newest first, with their place as GeoJSON."""
    rows = session.execute(
        sa.select(
            TeamAction.id,
            TeamAction.title,
            TeamAction.started_on,
            sa.func.ST_AsGeoJSON(TeamAction.geom, 6).label("geometry"),
        )
        .where(TeamAction.team_id == scope.team_id)
        .order_by(TeamAction.started_on.desc(), TeamAction.id.desc())
    )
    return [
        {
            "id": r.id,
            "title": r.title,
            "started_on": r.started_on.isoformat(),
            "geometry": r.geometry,
        }
        for r in rows
    ]


def impact(
    session: Session, scope: TeamScope, action_id: int, today: date, weeks: int = 12
) -> dict[str, Any]:
    """Reports per week in the action's place within the team's own area, before and after."""
    action = session.get(TeamAction, action_id)
    if action is None or action.team_id != scope.team_id:
        raise NotFound("no such action for this team", "action_id")
    start = action.started_on - timedelta(weeks=weeks)
    end = min(action.started_on + timedelta(weeks=weeks), today + timedelta(days=1))  # exclusive
    rows = session.execute(
        sa.text(
            """
            SELECT floor(((r.occurred_at AT TIME ZONE :tz)::date - :started) / 7.0)::int AS week,
                   count(*) AS n
            FROM reports r,
                 (SELECT ST_Intersection(a.geom, ST_Union(n.geom)) AS geom
                  FROM team_actions a, neighbourhoods n
                  WHERE a.id = :action AND n.id = ANY(:ids)
                  GROUP BY a.geom) AS place
            WHERE ST_Covers(place.geom, r.geom)
              AND (r.occurred_at AT TIME ZONE :tz)::date >= :start
              AND (r.occurred_at AT TIME ZONE :tz)::date < :end
            GROUP BY week ORDER BY week
            """
        ),
        {
            "tz": TIMEZONE,
            "started": action.started_on,
            "action": action_id,
            "ids": list(scope.neighbourhood_ids),
            "start": start,
            "end": end,
        },
    )
    counts = dict(rows.all())
    weeks_after = max(0, -(-(end - action.started_on).days // 7))  # the current week counts
    before = [counts.get(w, 0) for w in range(-weeks, 0)]
    after = [counts.get(w, 0) for w in range(0, weeks_after)]
    return {
        "action": {
            "id": action.id,
            "title": action.title,
            "started_on": action.started_on.isoformat(),
        },
        "weeks_before": before,
        "weeks_after": after,
        "mean_before": round(sum(before) / len(before), 2) if before else None,
        "mean_after": round(sum(after) / len(after), 2) if after else None,
    }

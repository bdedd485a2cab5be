"""What a team reads on Monday morning: weekly trend, categories, period-on-period, peaks, actions.

These read raw reports of the team's own neighbourhoods only (`reports.neighbourhood_id`,
indexed), exact and unsuppressed: teams are trusted users. Public layers never come here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


def local_today(session: Session) -> date:
    """Today in the database's time zone (hotspot_timezone(), the one the layers use)."""
    return session.scalar(sa.text("SELECT hotspot_local_day(now())"))


_WEEKLY = sa.text(
    """
    WITH weeks AS (
        SELECT generate_series(
            date_trunc('week', CAST(:until AS date)) - make_interval(weeks => :weeks - 1),
            date_trunc('week', CAST(:until AS date)),
            interval '1 week')::date AS week
    )
    SELECT weeks.week, count(r.id) AS n
    FROM weeks
    LEFT JOIN reports r
      ON date_trunc('week', r.occurred_at AT TIME ZONE hotspot_timezone())::date = weeks.week
     AND r.neighbourhood_id = ANY(:ids)
     AND (CAST(:area AS geometry) IS NULL OR ST_Covers(CAST(:area AS geometry), r.geom))
    GROUP BY weeks.week ORDER BY weeks.week
    """
)


def weekly_trend(
    session: Session,
    ids: tuple[int, ...],
    until: date,
    weeks: int = 52,
    area_wkb: str | None = None,
) -> list[dict[str, Any]]:
    """Reports per ISO week (Monday start, local time) for `weeks` weeks ending with `until`'s."""
    rows = session.execute(
        _WEEKLY,
        {"until": until, "weeks": weeks, "ids": list(ids), "area": area_wkb},
    )
    return [{"week": week.isoformat(), "count": n} for week, n in rows]


def category_breakdown(
    session: Session, ids: tuple[int, ...], since: date, until: date
) -> dict[str, int]:
    """Reports per category between two dates (a report counts once in each of its categories)."""
    rows = session.execute(
        sa.text(
            """
            SELECT c, count(*) FROM reports r, unnest(r.categories) AS c
            WHERE r.neighbourhood_id = ANY(:ids)
              AND hotspot_local_day(r.occurred_at) BETWEEN :since AND :until
            GROUP BY c ORDER BY count(*) DESC, c
            """
        ),
        {"ids": list(ids), "since": since, "until": until},
    )
    return {category: n for category, n in rows}


def period_summary(
    session: Session, ids: tuple[int, ...], until: date, days: int = 28
) -> dict[str, Any]:
    """Volume against the previous period, the share involving transport, and peak hours."""
    since = until - timedelta(days=days - 1)
    before = since - timedelta(days=days)
    params = {"ids": list(ids), "since": since, "until": until, "before": before}
    totals = session.execute(
        sa.text(
            """
            SELECT
              count(*) FILTER (WHERE d BETWEEN :since AND :until) AS current,
              count(*) FILTER (WHERE d >= :before AND d < :since) AS previous,
              count(*) FILTER (WHERE d BETWEEN :since AND :until
                               AND context IN ('at_stop', 'on_vehicle')) AS transport
            FROM (SELECT hotspot_local_day(occurred_at) AS d, context
                  FROM reports WHERE neighbourhood_id = ANY(:ids)
                    AND occurred_at >= CAST(:before AS date) - interval '1 day') AS r
            """
        ),
        params,
    ).one()
    hours = session.execute(
        sa.text(
            """
            SELECT hotspot_local_hour(occurred_at)::int AS h, count(*) AS n
            FROM reports WHERE neighbourhood_id = ANY(:ids)
              AND hotspot_local_day(occurred_at) BETWEEN :since AND :until
            GROUP BY h ORDER BY n DESC, h LIMIT 3
            """
        ),
        params,
    ).all()
    change = None if totals.previous == 0 else (totals.current - totals.previous) / totals.previous
    return {
        "period": {"from": since.isoformat(), "to": until.isoformat(), "days": days},
        "count": totals.current,
        "previous_count": totals.previous,
        "change": None if change is None else round(change, 3),
        "transport_share": round(totals.transport / totals.current, 3) if totals.current else None,
        "peak_hours": [{"hour": h, "count": n} for h, n in hours],
    }

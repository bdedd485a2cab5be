"""An action's impact: weekly counts in its place (response), a ring around it (buffer) and a
comparison area (control), judged as analysts do (evaluation.py).

Only the team's own neighbourhoods count: every report is first kept only if the union of
the team's neighbourhood geometries covers it, then classed by PostGIS as response (the
action's polygon covers it), buffer (the polygon widened by `buffer_m` covers it) or outside.

`control=auto` takes the H3 cells (resolution 9) of the team's reports outside response and
buffer nearest the place first (by the cells' centres), adding them until their pre-period
total reaches the response's (at least one cell): a control of similar pre-period volume,
chosen by distance rather than by its own counts, so its noise does not pick it (choosing
cells by how close their counts are to the response's picks lucky highs, which then fall).
`control=CODE` is one of the team's neighbourhoods, outside response and buffer.
Weeks are 7-day periods from the start date in the database's local time zone
(hotspot_timezone()); the after period counts complete weeks only.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import h3
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..hotspots.layercache import LayerCache, layer_version
from ..i18n import Message
from ..i18n import lazy_gettext as _l
from . import evaluation
from .actions import action_to_json, list_actions, own_action
from .evaluation import Series
from .insights import local_today
from .service import TeamScope

CONTROL_RES = 9

_CLASSED = sa.text(
    """
    WITH team AS (SELECT ST_Union(geom) AS geom FROM neighbourhoods WHERE id = ANY(:ids)),
    place AS MATERIALIZED (  -- once, not once a report (inlined, the buffer is per row)
        SELECT a.geom AS inner_geom,
               ST_Buffer(a.geom::geography, :buffer_m)::geometry AS outer_geom
        FROM team_actions a WHERE a.id = :action
    ),
    kept AS (
        SELECT r.id, r.geom, hotspot_local_day(r.occurred_at) - CAST(:started AS date) AS days
        FROM reports r, team t
        WHERE r.occurred_at >= CAST(:start AS date) - interval '1 day'
          AND r.occurred_at < CAST(:end AS date) + interval '1 day'
          AND hotspot_local_day(r.occurred_at) >= :start
          AND hotspot_local_day(r.occurred_at) < :end
          AND ST_Covers(t.geom, r.geom)
          -- Published reports only: a verdict is shown on public receipt pages, and must
          -- not move the moment a report arrives (migration 0029).
          AND NOT EXISTS (SELECT 1 FROM unpublished_reports u WHERE u.report_id = r.id)
    )
    SELECT CASE WHEN ST_Covers(p.inner_geom, k.geom) THEN 'response'
                WHEN ST_Covers(p.outer_geom, k.geom) THEN 'buffer'
                ELSE 'outside' END AS area,
           CASE WHEN NOT ST_Covers(p.outer_geom, k.geom) THEN c.cell END AS cell,
           coalesce(ST_Covers(n.geom, k.geom), false) AS in_code,
           floor(k.days / 7.0)::int AS week,
           count(*) AS n
    FROM kept k CROSS JOIN place p
    LEFT JOIN report_cells c ON c.report_id = k.id AND c.res = :res
    LEFT JOIN neighbourhoods n ON n.id = :control_id
    GROUP BY 1, 2, 3, 4
    """
)


@dataclass(frozen=True)
class Window:
    """Weeks -weeks..-1 before the start, 0..complete-1 after (and the partial one, legacy)."""

    started: date
    weeks: int
    complete: int
    counted: int

    @classmethod
    def of(cls, started: date, weeks: int, today: date) -> Window:
        """The window for an action started on `started`, evaluated on `today`."""
        elapsed = (today - started).days
        if elapsed < 0:
            return cls(started, weeks, 0, 0)
        return cls(started, weeks, min(weeks, elapsed // 7), min(weeks, -(-(elapsed + 1) // 7)))

    def bounds(self, today: date) -> tuple[date, date]:
        """The first local day counted and the day after the last."""
        end = min(self.started + timedelta(weeks=self.weeks), today + timedelta(days=1))
        return self.started - timedelta(weeks=self.weeks), end

    def series(self, counts: dict[int, int], partial: bool = False) -> Series:
        """The weekly counts of one area."""
        after = self.counted if partial else self.complete
        return Series([counts.get(w, 0) for w in range(-self.weeks, 0)],
                      [counts.get(w, 0) for w in range(0, after)])  # fmt: skip


def impact(
    session: Session,
    scope: TeamScope,
    action_id: int,
    today: date | None = None,
    weeks: int = 12,
    buffer_m: float | None = None,
    control: str = "auto",
) -> dict[str, Any]:
    """Response, buffer and control series, WDD, WDQ, the rate ratios and a verdict."""
    action = own_action(session, scope, action_id)
    today = today or local_today(session)
    control_id = _control_id(scope, control)
    buffer_m = buffer_m or _default_buffer(session, action.id)
    window = Window.of(action.started_on, weeks, today)
    start, end = window.bounds(today)
    rows = session.execute(
        _CLASSED,
        {"ids": list(scope.neighbourhood_ids), "action": action.id, "buffer_m": buffer_m,
         "started": action.started_on, "start": start, "end": end, "res": CONTROL_RES,
         "control_id": control_id},
    ).all()  # fmt: skip
    response_weeks, buffer_weeks, control_weeks, cells = _split(rows, control_id is not None)
    response, around = window.series(response_weeks), window.series(buffer_weeks)
    if control_id is None:
        cells = _nearest_cells(cells, response.before, _centre(session, action.id))
        control_weeks = _sum_weeks(cells.values())
    compared = window.series(control_weeks)
    return {
        "action": action_to_json(action),
        "weeks": weeks,
        "buffer_m": round(buffer_m, 1),
        **_evaluate(response, around, compared, buffer_m),
        "control": {**compared.to_json(), **_control_of(control, cells)},
        **_legacy(window.series(response_weeks, partial=True)),
    }


@dataclass(frozen=True)
class KeptVerdict:
    """One action's verdict as the cache keeps it (lazy text: either language)."""

    text: Message

    @property
    def nbytes(self) -> int:
        return 64 + len(self.text)


# Each worker keeps the verdicts it worked out (about 0.1 s an action) while the reports'
# version (hotspots/layercache.py), the action, the team's areas and the day stay the same.
# Ten minutes at most: a boundary re-import does not advance the reports' version.
VERDICTS: LayerCache[KeptVerdict] = LayerCache(max_bytes=2 * 1024 * 1024, ttl_s=600.0)


def actions_with_verdicts(session: Session, scope: TeamScope) -> list[dict[str, Any]]:
    """The team's actions, each with the verdict of its default evaluation (as "Show effect")."""
    listed = list_actions(session, scope)
    version, today = layer_version(session), local_today(session)
    for action in listed:
        action["verdict"] = kept_verdict(session, scope, action, version, today)
    return listed


def kept_verdict(session: Session, scope: TeamScope, action: dict[str, Any],
                 version: Hashable | None, today: date) -> Message:  # fmt: skip
    """The action's default verdict, from VERDICTS when nothing it depends on has changed.
    `version` None (this transaction has written) is never kept: its rows are its own."""

    def build() -> KeptVerdict:
        return KeptVerdict(impact(session, scope, action["id"], today=today)["verdict"])

    if version is None:
        return build().text
    database = str(session.get_bind().engine.url)
    described = json.dumps(action, sort_keys=True, default=str)
    key = ("verdict", database, version, scope.neighbourhood_ids, described, today)
    return VERDICTS.get(key, build).text


def _evaluate(response: Series, around: Series, control: Series, buffer_m: float) -> dict:
    wdq, wdq_reason = evaluation.wdq(response, around, control)
    main, ring, did_reason = evaluation.did(response, around, control)
    return {
        "response": response.to_json(),
        "buffer": around.to_json(),
        "wdd": evaluation.wdd(response, around, control),
        "wdq": wdq,
        "wdq_reason": wdq_reason,
        "did": main,
        "did_buffer": ring,
        "did_reason": did_reason,
        "verdict": evaluation.verdict(response, control, main, ring, buffer_m),
        "public_verdict": evaluation.public_verdict(response, control, main),
    }


def _control_id(scope: TeamScope, control: str) -> int | None:
    if control == "auto":
        return None
    if control not in scope.neighbourhood_codes:
        raise NotFound(
            _l("neighbourhood %(code)r is not one of this team's", code=control), "control"
        )
    return scope.neighbourhood_ids[scope.neighbourhood_codes.index(control)]


def _default_buffer(session: Session, action_id: int) -> float:
    """The place's radius as recorded, else the radius of the circle of its area."""
    return session.scalar(
        sa.text(
            "SELECT coalesce(radius_m, sqrt(ST_Area(geom::geography) / pi())) "
            "FROM team_actions WHERE id = :id"
        ),
        {"id": action_id},
    )


def _split(rows: list, by_code: bool) -> tuple[dict, dict, dict, dict[int, dict[int, int]]]:
    """Weekly counts of response, buffer, the coded control, and of each outside cell."""
    response: dict[int, int] = defaultdict(int)
    ring: dict[int, int] = defaultdict(int)
    coded: dict[int, int] = defaultdict(int)
    cells: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for area, cell, in_code, week, n in rows:
        if area == "response":
            response[week] += n
        elif area == "buffer":
            ring[week] += n
        elif by_code and in_code:
            coded[week] += n
        elif not by_code and cell is not None:
            cells[cell][week] += n
    return response, ring, coded, cells


def _centre(session: Session, action_id: int) -> tuple[float, float]:
    """The place's centroid as (lat, lng), H3's order."""
    return session.execute(
        sa.text(
            "SELECT ST_Y(c), ST_X(c) FROM (SELECT ST_Centroid(geom) AS c FROM team_actions "
            "WHERE id = :id) AS p"
        ),
        {"id": action_id},
    ).one()


def _nearest_cells(
    cells: dict[int, dict[int, int]], target: int, centre: tuple[float, float]
) -> dict[int, dict[int, int]]:
    """Cells nearest `centre` first, until their pre-period total reaches `target`."""

    def distance(cell: int) -> tuple[float, int]:
        return h3.great_circle_distance(h3.cell_to_latlng(h3.int_to_str(cell)), centre), cell

    chosen: dict[int, dict[int, int]] = {}
    total = 0
    for cell in sorted(cells, key=distance):
        if chosen and total >= target:
            break
        chosen[cell] = cells[cell]
        total += sum(n for week, n in cells[cell].items() if week < 0)
    return chosen


def _sum_weeks(series: Any) -> dict[int, int]:
    total: dict[int, int] = defaultdict(int)
    for weeks in series:
        for week, n in weeks.items():
            total[week] += n
    return total


def _control_of(control: str, cells: dict[int, Any]) -> dict[str, Any]:
    if control != "auto":
        return {"kind": "neighbourhood", "neighbourhood": control}
    return {"kind": "auto", "res": CONTROL_RES,
            "cells": sorted(h3.int_to_str(cell) for cell in cells)}  # fmt: skip


def _legacy(series: Series) -> dict[str, Any]:
    """The first API's keys: the place's weeks, the current partial week included."""
    before, after = series.weekly_before, series.weekly_after
    return {
        "weeks_before": before,
        "weeks_after": after,
        "mean_before": round(sum(before) / len(before), 2) if before else None,
        "mean_after": round(sum(after) / len(after), 2) if after else None,
    }


def impact_to_csv(result: dict[str, Any]) -> str:
    """The evaluation's weekly series as CSV: one row a week, the three areas as columns."""
    started = date.fromisoformat(result["action"]["started_on"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["week", "week_starts_on", "period", "response", "buffer", "control"])
    for period in ("before", "after"):
        series = [result[area][f"weekly_{period}"] for area in ("response", "buffer", "control")]
        first = -len(series[0]) if period == "before" else 0
        for i, counts in enumerate(zip(*series, strict=True)):
            week = first + i
            starts = (started + timedelta(weeks=week)).isoformat()
            writer.writerow([week, starts, period, *counts])
    return out.getvalue()

"""The programme board's view: every neighbourhood, disclosure-controlled aggregates only.

Every count passes through the public layers' disclosure control (hotspots/perturbation.py):
under K (STREETSAFE_MIN_PUBLISHED_COUNT) it is withheld, shown as null exactly like zero,
otherwise perturbed by its reports' cell key and rounded (STREETSAFE_PUBLIC_ROUNDING). Shares
are computed from published counts only. Actions carry no record key, so an action's key is
a fixed hash of its id (`_ACTION_KEY`): the same actions always get the same noise.
Nothing here reads a description, a point or a report id.
"""

from __future__ import annotations

import csv
import io
import statistics
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config import Settings
from ..hotspots.formats import csv_cell
from ..hotspots.perturbation import published_count
from ..models import TeamAction
from . import impact
from .service import scope_of

TOP_CATEGORIES = 5
TRANSPORT = ("at_stop", "on_vehicle")
_ACTION_KEY = "(a.id::bigint * 2654435761) % 256"  # Knuth's multiplicative hash, mod 256


def _public(count: int, key_sum: int, settings: Settings) -> int | None:
    """A count as the public would see it; None when withheld (under K, or zero)."""
    return published_count(int(count), int(key_sum or 0), *settings.disclosure_rules)


def _share(part: int | None, whole: int | None) -> float | None:
    return round(part / whole, 3) if part and whole else None


_WEEKLY = sa.text(
    """
    SELECT date_trunc('week', hotspot_local_day(r.occurred_at))::date AS week, n.code, n.name,
           count(*) AS n, sum(r.record_key) AS keys
    FROM reports r JOIN neighbourhoods n ON n.id = r.neighbourhood_id
    WHERE hotspot_local_day(r.occurred_at) BETWEEN :since AND :until
    GROUP BY ROLLUP ((n.code, n.name)), week
    """
)


def weekly_by_area(
    session: Session, settings: Settings, since: date, until: date
) -> dict[str, Any]:
    """Reports per week for every neighbourhood and for all of them together."""
    first = since - timedelta(days=since.weekday())
    weeks = [first + timedelta(weeks=i) for i in range((until - first).days // 7 + 1)]
    cells: dict[tuple[str | None, date], int | None] = {}
    names: dict[str, str] = {}
    for week, code, name, n, keys in session.execute(_WEEKLY, {"since": since, "until": until}):
        cells[(code, week)] = _public(n, keys, settings)
        if code is not None:
            names[code] = name
    areas = [
        {"code": code, "name": names[code], "weekly": [cells.get((code, w)) for w in weeks]}
        for code in sorted(names)
    ]
    total = [cells.get((None, w)) for w in weeks]
    return {"weeks": [w.isoformat() for w in weeks], "areas": areas, "all_areas": total}


_TRANSPORT = sa.text(
    """
    SELECT t.mode, grouping(t.mode) = 1 AS everything, count(*) AS n, sum(t.record_key) AS keys
    FROM (SELECT CASE WHEN context = ANY(:transport) THEN coalesce(mode, 'unknown') END AS mode,
                 record_key
          FROM reports
          WHERE neighbourhood_id IS NOT NULL
            AND hotspot_local_day(occurred_at) BETWEEN :since AND :until) AS t
    GROUP BY ROLLUP (t.mode)
    """
)


def transport_share(
    session: Session, settings: Settings, since: date, until: date
) -> dict[str, Any]:
    """All reports, the share on transport, and the share of each mode (published counts)."""
    params = {"since": since, "until": until, "transport": list(TRANSPORT)}
    rows = session.execute(_TRANSPORT, params).all()
    total = next((_public(n, k, settings) for _, every, n, k in rows if every), None)
    exact = {m: (n, int(k)) for m, every, n, k in rows if not every and m is not None}
    transport = _public(sum(n for n, _ in exact.values()), sum(k for _, k in exact.values()),
                        settings)  # fmt: skip
    modes = {m: _public(n, k, settings) for m, (n, k) in sorted(exact.items())}
    return {
        "reports": total,
        "on_transport": transport,
        "transport_share": _share(transport, total),
        "by_mode": {m: {"reports": c, "share": _share(c, total)}
                    for m, c in modes.items() if c is not None},  # fmt: skip
    }


_CATEGORIES = sa.text(
    """
    SELECT c, count(*) AS n, sum(r.record_key) AS keys
    FROM reports r, unnest(r.categories) AS c
    WHERE r.neighbourhood_id IS NOT NULL
      AND hotspot_local_day(r.occurred_at) BETWEEN :since AND :until
    GROUP BY c
    """
)


def top_categories(
    session: Session, settings: Settings, since: date, until: date
) -> list[dict[str, Any]]:
    """The most reported categories whose published count survives disclosure control."""
    rows = session.execute(_CATEGORIES, {"since": since, "until": until})
    published = [(c, _public(n, k, settings)) for c, n, k in rows]
    kept = sorted(((n, c) for c, n in published if n is not None), key=lambda p: (-p[0], p[1]))
    return [{"category": c, "reports": n} for n, c in kept[:TOP_CATEGORIES]]


_KINDS = sa.text(
    f"SELECT a.kind, count(*) AS n, sum({_ACTION_KEY}) AS keys FROM team_actions a GROUP BY a.kind"
)


def actions_by_kind(session: Session, settings: Settings) -> dict[str, int]:
    """Recorded actions per kind, every team's, through disclosure control."""
    counts = {kind: _public(n, k, settings) for kind, n, k in session.execute(_KINDS)}
    return {kind: n for kind, n in sorted(counts.items()) if n is not None}


def _action_key(action_id: int) -> int:
    return (action_id * 2654435761) % 256


def evaluations(session: Session, settings: Settings, today: date) -> dict[str, Any]:
    """Of the actions with enough data to evaluate: the share with a significant fall, median RR.

    Each action is evaluated as its own team sees it (its areas, 12 weeks, automatic control).
    """
    ratios: list[tuple[int, float, bool]] = []
    for action in session.scalars(sa.select(TeamAction).order_by(TeamAction.id)):
        scope = scope_of(session, action.team_id)
        if scope is None or action.started_on >= today:
            continue
        did = impact.impact(session, scope, action.id, today)["did"]
        if did is None or did.get("rate_ratio") is None:
            continue
        fell = did["rate_ratio"] < 1 and did["p"] is not None and did["p"] < 0.05
        ratios.append((action.id, did["rate_ratio"], fell))
    evaluated = _public(len(ratios), sum(_action_key(i) for i, _, _ in ratios), settings)
    fell = [i for i, _, down in ratios if down]
    significant = _public(len(fell), sum(_action_key(i) for i in fell), settings)
    median = round(statistics.median(r for _, r, _ in ratios), 2) if evaluated else None
    return {
        "evaluated": evaluated,
        "significant_fall": significant,
        "significant_share": _share(significant, evaluated),
        "median_rate_ratio": median,
    }


def overview(
    session: Session, settings: Settings, until: date, weeks: int = 12
) -> dict[str, Any]:
    """Everything the programme board sees, for the `weeks` weeks ending with `until`'s."""
    since = until - timedelta(days=until.weekday()) - timedelta(weeks=weeks - 1)
    return {
        "period": {"from": since.isoformat(), "to": until.isoformat(), "weeks": weeks},
        "disclosure": {
            "min_published_count": settings.min_published_count,
            "rounding": settings.public_rounding,
            "max_noise": settings.perturbation_max,
        },
        "reports_per_week": weekly_by_area(session, settings, since, until),
        "transport": transport_share(session, settings, since, until),
        "top_categories": top_categories(session, settings, since, until),
        "actions_by_kind": actions_by_kind(session, settings),
        "evaluations": evaluations(session, settings, until),
    }


def overview_to_csv(view: dict[str, Any]) -> str:
    """The programme view as one long CSV table: section, item, week, value (blank: withheld)."""
    rows: list[list[object]] = []
    weekly = view["reports_per_week"]
    for area in [*weekly["areas"], {"code": "all_areas", "weekly": weekly["all_areas"]}]:
        rows += [["reports_per_week", area["code"], w, n]
                 for w, n in zip(weekly["weeks"], area["weekly"], strict=True)]  # fmt: skip
    transport = view["transport"]
    rows += [["transport", key, "", transport[key]]
             for key in ("reports", "on_transport", "transport_share")]  # fmt: skip
    rows += [["transport_mode_share", m, "", v["share"]] for m, v in transport["by_mode"].items()]
    rows += [["top_categories", c["category"], "", c["reports"]] for c in view["top_categories"]]
    rows += [["actions_by_kind", k, "", n] for k, n in view["actions_by_kind"].items()]
    rows += [["evaluations", k, "", v] for k, v in view["evaluations"].items()]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "item", "week", "value"])
    writer.writerows([[csv_cell(v) if v is not None else "" for v in row] for row in rows])
    return out.getvalue()

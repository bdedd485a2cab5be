"""Helpers for the browser tests: axe-core checks, keyboard moves, and the stored report."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

# WCAG 2.0, 2.1 and 2.2, levels A and AA: any violation of these fails (issue 17 item 2).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
# axe's best practices beyond WCAG: only their serious and critical findings fail.
BEST_PRACTICE_BLOCKING = ("serious", "critical")


def axe_script() -> str:
    """axe-core's axe.min.js, as shipped in the axe-playwright-python wheel from PyPI."""
    from axe_playwright_python.base import AXE_FILE_PATH

    return Path(AXE_FILE_PATH).read_text(encoding="utf-8")


def assert_accessible(page, step: str) -> None:
    """Run axe-core in the page: zero WCAG 2.2 A/AA violations, of any impact."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_script())
    results = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        [*WCAG_TAGS, "best-practice"],
    )
    failing = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"]
        if set(violation["tags"]) & set(WCAG_TAGS) or violation["impact"] in BEST_PRACTICE_BLOCKING
    ]
    assert failing == [], f"axe-core at step {step!r}: " + "; ".join(failing)


def tab_to(page, selector: str, max_presses: int = 80) -> None:
    """Press Tab until the focused element matches selector (the keyboard-only way there)."""
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def stored_report(engine: sa.Engine, report_id: str) -> dict:
    """The stored report, its point as lon/lat, and its description (kept apart)."""
    with engine.connect() as connection:
        row = (
            connection.execute(
                sa.text(
                    "SELECT r.*, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat, d.body AS description"
                    " FROM reports r LEFT JOIN report_descriptions d ON d.report_id = r.id"
                    " WHERE r.id = CAST(:id AS uuid)"
                ),
                {"id": report_id},
            )
            .mappings()
            .one_or_none()
        )
    assert row is not None, f"report {report_id} is not in the database"
    return dict(row)


def reports_with_description(engine: sa.Engine, text: str) -> list[dict]:
    """Every stored report whose description is text."""
    with engine.connect() as connection:
        rows = (
            connection.execute(
                sa.text(
                    "SELECT r.* FROM reports r JOIN report_descriptions d ON d.report_id = r.id"
                    " WHERE d.body = :text"
                ),
                {"text": text},
            )
            .mappings()
            .all()
        )
    return [dict(row) for row in rows]


def distance_m(engine: sa.Engine, lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance between two points, by PostGIS."""
    with engine.connect() as connection:
        return float(
            connection.scalar(
                sa.text(
                    "SELECT ST_Distance(ST_MakePoint(:a, :b)::geography,"
                    " ST_MakePoint(:c, :d)::geography)"
                ),
                {"a": lon1, "b": lat1, "c": lon2, "d": lat2},
            )
        )

"""Impact as analysts measure it, each figure checked against an independent computation.

Reports are seeded week by week into a team's own area: at the action's centre (response),
220 m east of it (buffer: 150-300 m), and at two control points 410 m and 715 m away:
`control=auto` takes the nearer, whose pre-period volume already reaches the response's.
The test then recomputes WDD and WDQ from the formulas written out here, and the rate ratio
with statsmodels' formula interface on the same counts.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import h3
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import statsmodels.api as sm
import statsmodels.formula.api as smf
from geoalchemy2.shape import from_shape
from scipy.stats import norm
from shapely.geometry import MultiPolygon, Point, box

from streetsafe.models import Neighbourhood, Report, ReportCell
from streetsafe.team.service import create_team

from .conftest import bearer

WEEKS = 6
CENTRE = Point(-0.29, 53.745)
RING = Point(-0.28666, 53.745)  # 220 m east
CONTROL = Point(-0.2945, 53.7425)  # about 410 m south-west
BUSY = Point(-0.2815, 53.749)  # about 715 m north-east, three times as busy
ELSEWHERE = Point(-0.27, 53.745)  # in the team's second neighbourhood, HUL-E2


@dataclass
class Evaluated:
    token: str
    other_token: str
    started: date


@pytest.fixture
def area(db_session) -> Evaluated:
    """Team E with two neighbourhoods; an action started WEEKS complete weeks ago."""
    for code, shape in [
        ("HUL-E", box(-0.30, 53.74, -0.28, 53.75)),
        ("HUL-E2", box(-0.28, 53.74, -0.26, 53.75)),
        ("HUL-F", box(-0.32, 53.74, -0.30, 53.75)),
    ]:
        db_session.add(Neighbourhood(code=code, name=code, geom=from_shape(MultiPolygon([shape]))))
    db_session.flush()
    token = create_team(db_session, "Team E", ["HUL-E", "HUL-E2"])
    other = create_team(db_session, "Team F", ["HUL-F"])
    today = db_session.scalar(sa.text("SELECT hotspot_local_day(now())"))
    db_session.commit()
    return Evaluated(token, other, today - timedelta(weeks=WEEKS))


def seed(db_session, started: date, point: Point, weekly: list[int]) -> None:
    """weekly[i] reports in week i - WEEKS (0 is the start's week), mid-week at noon UTC."""
    hood = db_session.scalar(
        sa.text("SELECT id FROM neighbourhoods WHERE ST_Covers(geom, ST_GeomFromText(:p, 4326))"),
        {"p": point.wkt},
    )
    cells = [
        ReportCell(res=res, cell=h3.str_to_int(h3.latlng_to_cell(point.y, point.x, res)))
        for res in (7, 8, 9, 10)
    ]
    for i, n in enumerate(weekly):
        day = started + timedelta(weeks=i - WEEKS, days=3)
        when = datetime.combine(day, time(12), tzinfo=UTC)
        for _ in range(n):
            report = Report(id=uuid.uuid4(), context="street", categories=["badly_lit"],
                            occurred_at=when, geom=from_shape(point, srid=4326),
                            neighbourhood_id=hood)  # fmt: skip
            report.cells = [ReportCell(res=c.res, cell=c.cell) for c in cells]
            db_session.add(report)
    db_session.flush()


def draws(seed_value: int, before: float, after: float) -> list[int]:
    """WEEKS Poisson counts at rate `before`, then WEEKS at rate `after` (fixed seed)."""
    rng = np.random.default_rng(seed_value)
    return [int(n) for n in rng.poisson([before] * WEEKS + [after] * WEEKS)]


def evaluate(client, db_session, area: Evaluated, query: str = "", place=None) -> dict:
    db_session.commit()
    body = {"kind": "lighting", "started_on": area.started.isoformat(),
            "place": place or {"type": "circle", "lon": CENTRE.x, "lat": CENTRE.y,
                               "radius_m": 150}}  # fmt: skip
    created = client.post("/api/v1/team/actions", json=body, headers=bearer(area.token))
    assert created.status_code == 201, created.get_json()
    response = client.get(
        f"/api/v1/team/actions/{created.get_json()['id']}/impact?weeks={WEEKS}{query}",
        headers=bearer(area.token),
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def wdd_oracle(r: list[int], b: list[int], c: list[int]) -> dict[str, float]:
    """Wheeler & Ratcliffe: the buffer shares the response's control, hence 4 (C0 + C1)."""
    r0, r1, b0, b1, c0, c1 = (sum(x[:WEEKS]) if i % 2 == 0 else sum(x[WEEKS:])
                              for i, x in enumerate([r, r, b, b, c, c]))  # fmt: skip
    estimate = (r1 - r0) - (c1 - c0) + (b1 - b0) - (c1 - c0)
    se = math.sqrt(r0 + r1 + b0 + b1 + 4 * (c0 + c1))
    return {"estimate": estimate, "se": se, "z": estimate / se,
            "p": 2 * (1 - norm.cdf(abs(estimate / se)))}  # fmt: skip


def wdq_oracle(r: list[int], b: list[int], c: list[int]) -> float:
    """Bowers & Johnson: (B1/C1 - B0/C0) / (R1/C1 - R0/C0)."""
    r0, r1, b0, b1 = sum(r[:WEEKS]), sum(r[WEEKS:]), sum(b[:WEEKS]), sum(b[WEEKS:])
    c0, c1 = sum(c[:WEEKS]), sum(c[WEEKS:])
    return (b1 / c1 - b0 / c0) / (r1 / c1 - r0 / c0)


def did_fit(r: list[int], b: list[int], c: list[int], family=None):
    """The area x period model by statsmodels' formula interface (its own design matrix)."""
    rows = [
        {"n": n, "area": name, "after": int(week >= WEEKS)}
        for name, weekly in (("control", c), ("response", r), ("buffer", b))
        for week, n in enumerate(weekly)
    ]
    formula = "n ~ C(area, Treatment('control')) * after"
    data = pd.DataFrame(rows)
    if family == "nb":
        return smf.negativebinomial(formula, data).fit(disp=0, maxiter=500)
    return smf.glm(formula, data, family=sm.families.Poisson()).fit()


def ratio_of(fit, area_name: str) -> dict[str, float]:
    term = f"C(area, Treatment('control'))[T.{area_name}]:after"
    beta, se = fit.params[term], fit.bse[term]
    return {"rate_ratio": math.exp(beta), "ci_low": math.exp(beta - 1.959964 * se),
            "ci_high": math.exp(beta + 1.959964 * se), "p": float(fit.pvalues[term])}  # fmt: skip


def assert_matches(result: dict, r: list[int], b: list[int], c: list[int]) -> None:
    """Series, WDD and WDQ as the oracles compute them from the seeded counts."""
    for key, seeded in (("response", r), ("buffer", b), ("control", c)):
        assert result[key]["weekly_before"] == seeded[:WEEKS], key
        assert result[key]["weekly_after"] == seeded[WEEKS:], key
        assert result[key]["before"] == sum(seeded[:WEEKS])
    expected = wdd_oracle(r, b, c)
    for name, value in expected.items():
        assert result["wdd"][name] == pytest.approx(value, abs=1e-3), name


def assert_ratio(actual: dict, expected: dict) -> None:
    for name, value in expected.items():
        assert actual[name] == pytest.approx(value, rel=1e-3, abs=1e-4), name


def test_a_real_fall_matches_the_oracles_and_says_so(client, db_session, area) -> None:
    r, b, c = draws(1, 12, 5), draws(2, 6, 6), draws(3, 14, 14)
    busy = draws(4, 40, 40)
    for point, weekly in ((CENTRE, r), (RING, b), (CONTROL, c), (BUSY, busy)):
        seed(db_session, area.started, point, weekly)
    result = evaluate(client, db_session, area)
    assert_matches(result, r, b, c)
    assert result["control"]["cells"] == [h3.latlng_to_cell(CONTROL.y, CONTROL.x, 9)]
    assert result["wdq"] == pytest.approx(wdq_oracle(r, b, c), abs=1e-3)
    fit = did_fit(r, b, c)
    assert_ratio(result["did"], ratio_of(fit, "response"))
    assert_ratio(result["did_buffer"], ratio_of(fit, "buffer"))
    assert result["did"]["model"] == "poisson"
    assert result["did"]["p"] < 0.05 and result["did"]["rate_ratio"] < 1
    fell = round(100 * (1 - result["did"]["rate_ratio"]))
    assert result["verdict"].startswith(f"Reports fell {fell}% more than in the comparison area")
    assert "no sign of displacement into the surrounding 150 m" in result["verdict"]


def test_no_change_is_not_called_a_change(client, db_session, area) -> None:
    r, b, c = draws(11, 12, 12), draws(12, 6, 6), draws(13, 13, 13)
    for point, weekly in ((CENTRE, r), (RING, b), (CONTROL, c)):
        seed(db_session, area.started, point, weekly)
    result = evaluate(client, db_session, area)
    assert_matches(result, r, b, c)
    assert_ratio(result["did"], ratio_of(did_fit(r, b, c), "response"))
    assert result["did"]["p"] >= 0.05
    assert result["verdict"].startswith("No clear change compared with the comparison area")
    if result["wdq"] is None:  # the place did not fall relative to the control
        assert sum(r[WEEKS:]) / sum(c[WEEKS:]) >= sum(r[:WEEKS]) / sum(c[:WEEKS])
        assert result["wdq_reason"]


def test_displacement_into_the_buffer_is_seen(client, db_session, area) -> None:
    r, b, c = draws(21, 14, 5), draws(22, 5, 14), draws(23, 14, 14)
    for point, weekly in ((CENTRE, r), (RING, b), (CONTROL, c)):
        seed(db_session, area.started, point, weekly)
    result = evaluate(client, db_session, area)
    assert_matches(result, r, b, c)
    wdq = wdq_oracle(r, b, c)
    assert wdq < 0 and result["wdq"] == pytest.approx(wdq, abs=1e-3)
    fit = did_fit(r, b, c)
    assert_ratio(result["did_buffer"], ratio_of(fit, "buffer"))
    assert result["did_buffer"]["rate_ratio"] > 1 and result["did_buffer"]["p"] < 0.05
    assert "a sign of displacement" in result["verdict"]


def test_too_little_data_says_how_much_is_needed(client, db_session, area) -> None:
    r, b, c = [1, 0, 1, 0, 2, 1, 0, 0, 1, 0, 0, 1], [0] * 12, [2, 1, 3, 2, 1, 2, 1, 2, 2, 3, 1, 2]
    for point, weekly in ((CENTRE, r), (CONTROL, c)):
        seed(db_session, area.started, point, weekly)
    result = evaluate(client, db_session, area)
    assert_matches(result, r, b, c)
    assert result["verdict"] == "Too few reports to tell: at least 10 are needed before and after."
    assert result["wdq"] == pytest.approx(wdq_oracle(r, b, c), abs=1e-3)


def test_overdispersed_counts_switch_to_a_negative_binomial(client, db_session, area) -> None:
    r = [0, 25, 2, 30, 1, 20, 0, 9, 1, 12, 0, 8]
    b = [3, 9, 1, 12, 0, 7, 2, 8, 1, 10, 3, 6]
    c = [1, 30, 0, 28, 3, 25, 2, 27, 0, 31, 1, 26]
    for point, weekly in ((CENTRE, r), (RING, b), (CONTROL, c)):
        seed(db_session, area.started, point, weekly)
    result = evaluate(client, db_session, area)
    assert_matches(result, r, b, c)
    poisson = did_fit(r, b, c)
    assert poisson.pearson_chi2 / poisson.df_resid > 1.5
    assert result["did"]["model"] == "negative_binomial"
    assert_ratio(result["did"], ratio_of(did_fit(r, b, c, family="nb"), "response"))


def test_a_neighbourhood_code_is_the_control_and_only_the_teams_own(
    client, db_session, area
) -> None:
    r, c = draws(31, 12, 6), draws(32, 15, 15)
    seed(db_session, area.started, CENTRE, r)
    seed(db_session, area.started, ELSEWHERE, c)
    seed(db_session, area.started, CONTROL, draws(33, 50, 50))  # HUL-E, not the control now
    seed(db_session, area.started, Point(-0.31, 53.745), draws(34, 50, 50))  # Team F's
    result = evaluate(client, db_session, area, "&control=HUL-E2&buffer_m=120")
    assert result["control"]["neighbourhood"] == "HUL-E2"
    assert result["control"]["weekly_before"] == c[:WEEKS]
    assert result["control"]["weekly_after"] == c[WEEKS:]
    assert result["buffer_m"] == 120
    action_id = result["action"]["id"]
    for code in ("HUL-F", "NOPE"):
        refused = client.get(
            f"/api/v1/team/actions/{action_id}/impact?control={code}", headers=bearer(area.token)
        )
        assert refused.status_code == 404 and refused.get_json()["field"] == "control"


def test_a_place_reaching_into_another_teams_area_counts_only_its_own(
    client, db_session, area
) -> None:
    # Team F's reports 100 m west of the HUL-E/HUL-F border; Team E's circle crosses it.
    seed(db_session, area.started, Point(-0.3015, 53.745), [5] * 12)
    place = {"type": "circle", "lon": -0.2995, "lat": 53.745, "radius_m": 300}
    result = evaluate(client, db_session, area, place=place)
    assert result["response"]["before"] == result["response"]["after"] == 0
    assert result["buffer"]["before"] == 0


@pytest.mark.parametrize(
    "query, field",
    [
        ("weeks=1", "weeks"),
        ("weeks=x", "weeks"),
        ("buffer_m=-5", "buffer_m"),
        ("weeks=53", "weeks"),
    ],
)
def test_a_bad_impact_query_is_400_naming_the_parameter(
    client, db_session, area, query, field
) -> None:
    action_id = evaluate(client, db_session, area)["action"]["id"]
    response = client.get(
        f"/api/v1/team/actions/{action_id}/impact?{query}", headers=bearer(area.token)
    )
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_the_evaluation_downloads_as_csv_week_by_week(client, db_session, area) -> None:
    r, b, c = draws(41, 12, 6), draws(42, 5, 5), draws(43, 14, 14)
    for point, weekly in ((CENTRE, r), (RING, b), (CONTROL, c)):
        seed(db_session, area.started, point, weekly)
    action_id = evaluate(client, db_session, area)["action"]["id"]
    download = client.get(
        f"/api/v1/team/actions/{action_id}/impact?weeks={WEEKS}&format=csv",
        headers=bearer(area.token),
    )
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    lines = download.get_data(as_text=True).splitlines()
    assert lines[0] == "week,week_starts_on,period,response,buffer,control"
    rows = [line.split(",") for line in lines[1:]]
    assert [int(row[0]) for row in rows] == list(range(-WEEKS, WEEKS))
    assert rows[WEEKS][1] == area.started.isoformat()
    assert [int(row[3]) for row in rows] == r
    assert [int(row[4]) for row in rows] == b
    assert [int(row[5]) for row in rows] == c
    trail = client.get("/api/v1/team/audit", headers=bearer(area.token)).get_json()["events"]
    assert f"downloaded the evaluation of action {action_id} as CSV" in [
        event["summary"] for event in trail
    ]


def test_an_empty_comparison_area_is_named_as_the_reason(client, db_session, area) -> None:
    seed(db_session, area.started, CENTRE, draws(51, 12, 6))
    result = evaluate(client, db_session, area)
    assert result["control"]["before"] == result["control"]["after"] == 0
    assert result["did"] is None and result["did_reason"]
    assert result["verdict"].startswith("Too few reports in the comparison area to tell")


def test_the_actions_list_carries_each_actions_verdict(client, db_session, area) -> None:
    r, b, c = draws(1, 12, 5), draws(2, 6, 6), draws(3, 14, 14)
    for point, weekly in ((CENTRE, r), (RING, b), (CONTROL, c)):
        seed(db_session, area.started, point, weekly)
    evaluate(client, db_session, area)
    listed = client.get("/api/v1/team/actions", headers=bearer(area.token)).get_json()["actions"]
    assert len(listed) == 1
    shown = client.get(f"/api/v1/team/actions/{listed[0]['id']}/impact", headers=bearer(area.token))
    assert listed[0]["verdict"] == shown.get_json()["verdict"]
    assert listed[0]["verdict"].endswith(".") and "comparison area" in listed[0]["verdict"]


def test_a_listed_verdict_is_worked_out_again_only_when_its_inputs_change(
    client, db_session, area, monkeypatch
) -> None:
    from streetsafe.team import impact as module
    from streetsafe.team.actions import list_actions
    from streetsafe.team.service import authenticate

    seed(db_session, area.started, CENTRE, draws(4, 12, 5))
    evaluate(client, db_session, area)
    scope = authenticate(db_session, area.token)
    action = list_actions(db_session, scope)[0]
    real, calls = module.impact, []
    monkeypatch.setattr(module, "impact", lambda *a, **k: calls.append(1) or real(*a, **k))
    module.VERDICTS.clear()
    today = area.started + timedelta(weeks=WEEKS)
    first = module.kept_verdict(db_session, scope, action, (1, None), today)
    assert module.kept_verdict(db_session, scope, action, (1, None), today) == first
    assert len(calls) == 1  # the same reports, action, areas and day: kept
    for version, changed, day in (((2, None), action, today),  # new reports
                                  ((2, None), {**action, "title": "Renamed"}, today),
                                  ((2, None), action, today + timedelta(days=1)),
                                  (None, action, today), (None, action, today)):  # fmt: skip
        assert module.kept_verdict(db_session, scope, changed, version, day) == first
    assert len(calls) == 6  # each change, and every call in a transaction that has written


def test_reports_waiting_for_publication_do_not_count_yet(client, db_session, area) -> None:
    """A verdict is shown on public receipt pages: it counts the reports published so far
    (migration 0029), so it cannot move the moment one arrives."""
    r, b, c = draws(1, 12, 5), draws(2, 6, 6), draws(3, 14, 14)
    for point, weekly in ((CENTRE, r), (RING, b), (CONTROL, c)):
        seed(db_session, area.started, point, weekly)
    published = {row[0] for row in db_session.execute(sa.text("SELECT id FROM reports"))}
    seed(db_session, area.started, CENTRE, [0] * WEEKS + [9] * WEEKS)
    db_session.execute(sa.text("INSERT INTO unpublished_reports SELECT id FROM reports "
                               "WHERE NOT (id = ANY(:published))"),
                       {"published": list(published)})  # fmt: skip
    assert_matches(evaluate(client, db_session, area), r, b, c)

"""The programme view: every area, only disclosure-controlled aggregates, nothing else."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from shapely.geometry import Point

from streetsafe.hotspots.perturbation import published_count
from streetsafe.models import TeamAction
from streetsafe.team.service import create_team

from ..conftest import migrated_database, run_streetsafe
from .conftest import add_report, bearer, count

REFUSED = [
    ("GET", "/api/v1/team/reports"),
    ("GET", "/api/v1/team/reports?format=csv"),
    ("GET", "/api/v1/team/moderation"),
    ("POST", "/api/v1/team/moderation/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api/v1/team/hotspots/cells"),
    ("GET", "/api/v1/team/hotspots/stops"),
    ("GET", "/api/v1/team/hotspots/route-segments"),
    ("GET", "/api/v1/team/insights"),
    ("GET", "/api/v1/team/actions"),
    ("POST", "/api/v1/team/actions"),
    ("PATCH", "/api/v1/team/actions/1"),
    ("DELETE", "/api/v1/team/actions/1"),
    ("GET", "/api/v1/team/actions/1/impact"),
    ("GET", "/api/v1/team/audit"),
    ("GET", "/api/v1/team/neighbourhoods"),
]
BUSY = 23  # reports in area A this week: enough to publish


@pytest.fixture
def programme_token(db_session, world) -> str:
    token = create_team(db_session, "Programme board", [], programme=True)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    day = now - timedelta(days=now.weekday())  # this week's Monday: one week for every report
    for i in range(BUSY):
        context = "on_vehicle" if i % 2 else "street"
        add_report(db_session, Point(-0.35, 53.745), world.area_a, day, context=context,
                   mode="bus" if i % 2 else None, categories=["verbal_harassment"])  # fmt: skip
    db_session.commit()
    return token


def _week_exact(db_session, area: int | None) -> tuple[int, int]:
    """The exact count and key sum of this week's reports of one area (None: every area)."""
    row = db_session.execute(
        sa.text(
            "SELECT count(*), coalesce(sum(record_key), 0) FROM reports "
            "WHERE date_trunc('week', hotspot_local_day(occurred_at)) "
            "    = date_trunc('week', hotspot_local_day(now())) "
            "  AND neighbourhood_id IS NOT NULL "
            "  AND (CAST(:a AS int) IS NULL OR neighbourhood_id = :a)"
        ),
        {"a": area},
    ).one()
    return row[0], row[1]


def _numbers(value) -> list[int]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


def test_programme_counts_are_rounded_perturbed_and_small_areas_withheld(
    client, db_session, world, programme_token, settings
) -> None:
    view = client.get("/api/v1/team/programme", headers=bearer(programme_token)).get_json()
    k, base, noise = (
        settings.min_published_count,
        settings.public_rounding,
        settings.perturbation_max,
    )
    weekly = view["reports_per_week"]
    by_code = {a["code"]: a["weekly"][-1] for a in weekly["areas"]}
    exact_a, keys_a = _week_exact(db_session, world.area_a)
    assert exact_a >= BUSY
    assert by_code["HUL-A"] == published_count(exact_a, keys_a, k, base, noise)
    assert abs(by_code["HUL-A"] - exact_a) <= noise + base / 2
    assert by_code.get("HUL-B") is None  # one or two reports there: withheld, as if none
    exact_all, keys_all = _week_exact(db_session, None)
    assert weekly["all_areas"][-1] == published_count(exact_all, keys_all, k, base, noise)
    counts = [n for n in _numbers({key: view[key] for key in view if key != "disclosure"})
              if n != view["period"]["weeks"]]  # fmt: skip
    assert counts and all(n >= k and n % base == 0 for n in counts)
    transport = view["transport"]
    assert transport["by_mode"]["bus"]["reports"] % base == 0
    assert transport["transport_share"] == round(
        transport["on_transport"] / transport["reports"], 3
    )
    assert view["top_categories"][0]["category"] == "verbal_harassment"


def test_programme_never_sees_a_description_or_a_report_id(client, world, programme_token) -> None:
    csv_body = client.get("/api/v1/team/programme?format=csv", headers=bearer(programme_token))
    json_body = client.get("/api/v1/team/programme", headers=bearer(programme_token))
    for body in (csv_body.get_data(as_text=True), json_body.get_data(as_text=True)):
        assert "07700" not in body and "Other team's text" not in body
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", body)
        assert str(world.reports_a[0]) not in body


def test_programme_csv_is_a_download_with_one_row_per_number(client, programme_token) -> None:
    response = client.get("/api/v1/team/programme?format=csv", headers=bearer(programme_token))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    sections = {r["section"] for r in rows}
    assert {"reports_per_week", "transport", "top_categories", "evaluations"} <= sections
    area_a = [r for r in rows if r["section"] == "reports_per_week" and r["item"] == "HUL-A"]
    assert len(area_a) == 12 and area_a[-1]["value"] != ""


@pytest.mark.parametrize("method, path", REFUSED)
def test_programme_token_is_refused_everything_else(
    client, db_session, programme_token, method, path
) -> None:
    actions_before = count(db_session, "team_actions")
    body = {"title": "x", "kind": "patrol", "started_on": "2026-01-01", "lon": -0.35,
            "lat": 53.745, "radius_m": 100, "decision": "approve"}  # fmt: skip
    response = client.open(path, method=method, json=body, headers=bearer(programme_token))
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert count(db_session, "team_actions") == actions_before
    refused = db_session.scalar(
        sa.text("SELECT detail FROM audit_events WHERE action = 'refused' ORDER BY id DESC LIMIT 1")
    )
    assert refused["status"] == 403 and refused["path"] == path.split("?")[0]


def test_a_neighbourhood_team_is_refused_the_programme_view(client, world) -> None:
    response = client.get("/api/v1/team/programme", headers=bearer(world.token_a))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "query, field",
    [
        ("weeks=2", "weeks"),
        ("format=xlsx", "format"),
        ("until=tomorrow", "until"),
        ("bbox=1", "bbox"),
    ],
)
def test_bad_programme_query_is_422_naming_the_field(client, programme_token, query, field) -> None:
    response = client.get(f"/api/v1/team/programme?{query}", headers=bearer(programme_token))
    assert 400 <= response.status_code < 500
    assert response.get_json()["field"] == field


def test_programme_calls_are_audited_with_their_format(client, db_session, programme_token) -> None:
    client.get("/api/v1/team/programme?format=csv", headers=bearer(programme_token))
    event = db_session.execute(
        sa.text("SELECT action, detail FROM audit_events ORDER BY id DESC LIMIT 1")
    ).one()
    assert event.action == "programme" and event.detail["format"] == "csv"


def test_evaluations_below_k_actions_are_withheld(
    client, db_session, world, programme_token
) -> None:
    team_id = db_session.scalar(sa.text("SELECT id FROM teams WHERE name = 'Team A'"))
    polygon = "SRID=4326;POLYGON((-0.36 53.74,-0.35 53.74,-0.35 53.75,-0.36 53.74))"
    started = datetime.now(UTC).date() - timedelta(weeks=3)
    action = TeamAction(team_id=team_id, title="Lights", kind="lighting", started_on=started)
    action.geom = polygon
    db_session.add(action)
    db_session.commit()
    view = client.get("/api/v1/team/programme", headers=bearer(programme_token)).get_json()
    assert view["actions_by_kind"] == {}  # one action: under K, withheld
    assert view["evaluations"]["evaluated"] is None
    assert view["evaluations"]["median_rate_ratio"] is None


def _sign_in(client, token: str):
    html = client.get("/team/login").get_data(as_text=True)
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    return client.post("/team/login", data={"token": token, "csrf_token": csrf_token})


def test_programme_page_shows_the_tables_and_the_dashboard_sends_it_there(
    client, programme_token
) -> None:
    _sign_in(client, programme_token)
    response = client.get("/team")
    assert response.status_code == 303 and response.headers["Location"].endswith("/team/programme")
    page = client.get("/team/programme")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Reports per week and area" in text and "Area A (HUL-A)" in text
    assert "07700" not in text


def test_a_team_opening_the_programme_page_goes_to_its_dashboard(client, world) -> None:
    _sign_in(client, world.token_a)
    response = client.get("/team/programme")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(("/team", "/team/"))


def test_a_programme_token_names_no_neighbourhood(db_session, world) -> None:
    from streetsafe.errors import Unprocessable

    with pytest.raises(Unprocessable):
        create_team(db_session, "Board", ["HUL-A"], programme=True)


def test_cli_creates_a_programme_token_that_reads_the_programme_view(app) -> None:
    url = migrated_database("programme_cli")
    created = run_streetsafe(url, "teams", "create", "Board", "--programme")
    assert created.returncode == 0, created.stderr
    assert "programme view" in created.stdout
    token = created.stdout.strip().splitlines()[-1]
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        role = connection.scalar(sa.text("SELECT role FROM teams WHERE name = 'Board'"))
    engine.dispose()
    assert role == "programme" and token.startswith("sst_")
    both = run_streetsafe(url, "teams", "create", "B2", "--programme", "--neighbourhood", "X")
    assert both.returncode != 0 and "name none" in both.stderr
    listed = run_streetsafe(url, "teams", "list")
    assert "Board\tprogramme\tactive" in listed.stdout

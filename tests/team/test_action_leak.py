"""An action's impact counts only reports inside the team's own neighbourhoods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shapely.geometry import Point

from .conftest import add_report, bearer


def test_circle_reaching_into_another_teams_area_counts_none_of_its_reports(
    client, world, db_session
) -> None:
    # Reports only in A's area, 150-350 m west of the A|B border at lon -0.34.
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for day in range(1, 30):
        add_report(db_session, Point(-0.3420, 53.745), world.area_a, now - timedelta(days=day))
        add_report(db_session, Point(-0.3445, 53.745), world.area_a, now - timedelta(days=day))
    db_session.commit()
    # Team B's circle is centred 100 m inside B's area and reaches 400 m into A's.
    started = (now - timedelta(days=14)).date()
    created = client.post(
        "/api/v1/team/actions",
        json={
            "title": "Lights on the border",
            "started_on": started.isoformat(),
            "lon": -0.3385,
            "lat": 53.745,
            "radius_m": 500,
        },
        headers=bearer(world.token_b),
    )
    assert created.status_code == 201
    impact = client.get(
        f"/api/v1/team/actions/{created.get_json()['id']}/impact?weeks=4",
        headers=bearer(world.token_b),
    ).get_json()
    assert sum(impact["weeks_before"]) == 0
    assert sum(impact["weeks_after"]) == 0

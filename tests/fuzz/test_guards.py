"""Input no view can store (NUL characters) is refused up front with the field named."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


@pytest.mark.parametrize(
    "path, field",
    [
        ("/api/v1/transit/routes?q=a%00b", "q"),
        ("/api/v1/transit/stops/nearby?lat=53.7&lon=-0.3&mode=bu%00s", "mode"),
        ("/api/v1/transit/routes/demo%00x", None),
    ],
)
def test_nul_in_query_or_path_is_a_400(client, path, field) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


@pytest.mark.parametrize(
    "body, field",
    [
        (
            {
                "context": "street",
                "location": {"lat": 53.74, "lon": -0.34},
                "categories": ["badly_lit"],
                "description": "a\u0000b",
            },
            "description",
        ),
        ({"context": "street", "categories": ["bad\u0000ly_lit"]}, "categories.0"),
    ],
)
def test_nul_in_a_json_string_is_a_400_and_stores_nothing(client, db_session, body, field) -> None:
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert db_session.scalar(sa.text("SELECT count(*) FROM reports")) == 0

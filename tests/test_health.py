"""Liveness and readiness against real PostGIS."""

from __future__ import annotations

import sqlalchemy as sa

from streetsafe import create_app

from .conftest import fresh_database


def test_healthz_answers_without_touching_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_200_on_a_migrated_database(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ready"


def test_readyz_is_503_before_migrations(settings) -> None:
    url = fresh_database("unmigrated")
    app = create_app(settings.with_overrides(database_url=url))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert "streetsafe db upgrade" in body["reason"]
    assert response.headers["Retry-After"]


def test_readyz_is_503_without_postgis(settings) -> None:
    url = fresh_database("nopostgis")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP EXTENSION postgis"))
    engine.dispose()
    app = create_app(settings.with_overrides(database_url=url))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "PostGIS" in response.get_json()["reason"]


def test_readyz_is_503_when_the_database_is_unreachable(settings) -> None:
    app = create_app(
        settings.with_overrides(database_url="postgresql+psycopg://u@127.0.0.1:9/none")
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "unreachable" in response.get_json()["reason"]


def test_unknown_path_is_a_json_404(client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"

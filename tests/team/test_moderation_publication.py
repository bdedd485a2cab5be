"""A moderator's decision made while the hour's publication rewrites the reports' rows
(migration 0031) waits for it and is kept, on the rewritten row."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon
from sqlalchemy.orm import Session

from streetsafe.hotspots.publication import publish_pending
from streetsafe.models import Neighbourhood, Team
from streetsafe.reports.intake import Intake, parse_report, submit_batch
from streetsafe.team import moderation
from streetsafe.team.service import TeamScope, create_team
from tests.conftest import migrated_database, settings_for

from .conftest import AREA_A

BODY = {"context": "street", "location": {"lat": 53.745, "lon": -0.35},
        "categories": ["isolated"], "description": "Call me on 07700 900123"}  # fmt: skip


@pytest.fixture(scope="module")
def committed_url() -> str:
    """A database of its own: the publication and the moderator each commit."""
    return migrated_database("moderation_publication")


def _world(engine: sa.Engine, url: str) -> tuple[TeamScope, str]:
    """A team, its area and one queued report with a description in it."""
    with Session(engine) as session:
        area = Neighbourhood(code="HUL-A", name="Area A",
                             geom=from_shape(MultiPolygon([AREA_A]), 4326))  # fmt: skip
        session.add(area)
        session.flush()
        create_team(session, "Team A", ["HUL-A"])
        team_id = session.scalar(sa.select(Team.id))
        session.commit()
        scope = TeamScope(team_id, "Team A", (area.id,), ("HUL-A",))
    with engine.begin() as connection:
        settings = settings_for(url, publish_every_s=3600)
        submit_batch(connection, [Intake(parse_report(json.dumps(BODY)), None)], settings)
        report_id = connection.scalar(sa.text("SELECT report_id FROM unpublished_reports"))
    return scope, str(report_id)


def test_a_decision_during_a_publication_waits_for_it_and_is_kept(committed_url) -> None:
    engine = sa.create_engine(committed_url)
    scope, report_id = _world(engine, committed_url)
    decided: list[object] = []

    def moderate() -> None:
        try:
            with Session(engine) as session:
                decided.append(moderation.decide(session, scope, report_id, "approve"))
                session.commit()
        except Exception as error:  # handed to the test's thread
            decided.append(error)

    try:
        with engine.connect() as publishing:
            with publishing.begin():
                assert publish_pending(publishing) == 1  # rows rewritten, not yet committed
                moderator = threading.Thread(target=moderate)
                moderator.start()
                moderator.join(timeout=1.0)
                assert moderator.is_alive() and not decided  # it waits for the publication
            moderator.join(timeout=10)
        assert decided == ["approved"]
        with engine.connect() as connection:
            stored = connection.execute(sa.text(
                "SELECT status, body FROM report_descriptions WHERE report_id = :r"
            ), {"r": report_id}).one()  # fmt: skip
        assert stored.status == "approved" and "07700" not in stored.body
    finally:
        engine.dispose()

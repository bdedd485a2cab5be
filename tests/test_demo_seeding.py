"""The demo seed: nothing dated in the future, and descriptions waiting for moderation."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import sqlalchemy as sa

from streetsafe.demo.seeding import DEMO_DESCRIPTIONS, random_evening, seed_reports


def test_random_evening_is_never_after_now_even_early_in_the_morning() -> None:
    rng = random.Random(1)
    now = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)  # every evening hour of today is ahead
    times = [random_evening(rng, days_back=2, now=now) for _ in range(2000)]
    assert max(times) <= now
    assert any(t.date() == now.date() for t in times)  # today still appears, before now


def test_seeded_reports_are_in_the_past_and_some_await_moderation(db_session) -> None:
    assert seed_reports(db_session, (8, 9), count=300) == 300
    future = db_session.scalar(
        sa.text("SELECT count(*) FROM reports WHERE synthetic AND occurred_at > now()")
    )
    assert future == 0
    pending = db_session.scalars(
        sa.text(
            "SELECT d.body FROM report_descriptions d JOIN reports r ON r.id = d.report_id "
            "WHERE r.synthetic AND d.status = 'pending'"
        )
    ).all()
    assert sorted(pending) == sorted(DEMO_DESCRIPTIONS)


def test_seeded_demo_has_significant_hotspot_cells(client, db_session) -> None:
    from tests.hotspots.conftest import make_transit

    make_transit(db_session)
    seed_reports(db_session, (7, 8, 9, 10), count=600)
    db_session.commit()
    features = client.get("/api/v1/hotspots/cells").get_json()["features"]
    significant = [f for f in features if f["properties"]["hotspot"]]
    assert significant and all(f["properties"]["gi_p"] < 0.05 for f in significant)

"""Property: over random report sets and random public queries, a group of fewer than K
reports at a fresh place never changes any public answer, and every number is on the grid."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..hotspots.conftest import STOP_LONLATS
from .conftest import LONE_PLACE
from .test_attacks import _normalised, attacker_queries

CATEGORIES = ["badly_lit", "followed", "isolated", "no_staff", "overcrowding"]
world = st.lists(
    st.tuples(st.integers(0, 2), st.integers(1, 14), st.sampled_from(CATEGORIES),
              st.integers(0, 23), st.integers(1, 28)),
    min_size=1, max_size=5,
)  # fmt: skip
hidden = st.lists(
    st.tuples(st.sampled_from(CATEGORIES), st.integers(0, 23), st.integers(1, 28)),
    min_size=1, max_size=4,
)  # fmt: skip


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(groups=world, secret=hidden, seed=st.integers(0, 2**16))
def test_fewer_than_k_reports_never_change_a_public_answer(
    client, db_session, add_reports, groups, secret, seed
) -> None:
    savepoint = db_session.begin_nested()
    try:
        for stop, n, category, hour, day in groups:
            when = datetime(2025, 3, day, hour, tzinfo=UTC)
            add_reports(n, *STOP_LONLATS[stop], categories=[category], occurred_at=when)
        queries = random.Random(seed).sample(attacker_queries(*LONE_PLACE), 40)
        queries += random.Random(seed).sample(attacker_queries(*STOP_LONLATS[0]), 20)
        before = {q: _normalised(client.get(q)) for q in queries}
        for category, hour, day in secret:
            when = datetime(2025, 3, day, hour, tzinfo=UTC)
            add_reports(1, *LONE_PLACE, categories=[category], occurred_at=when)
        after = {q: _normalised(client.get(q)) for q in queries}
        assert [q for q in queries if before[q] != after[q]] == []
    finally:
        savepoint.rollback()

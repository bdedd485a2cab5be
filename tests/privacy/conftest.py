"""The attacker's world: published clusters, a place with a few withheld reports, an empty one.

The app runs with the production disclosure rules (K = 5, rounding 5, perturbation 2).
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ..hotspots.conftest import AddReports, Transit, make_transit
from ..hotspots.conftest import add_reports as add_reports  # noqa: F401 (a fixture)

# Far from the fixture's stops (about 7 km east): every H3 cell of res 7-10 holding it holds
# nothing else.
LONE_PLACE = (-0.2300, 53.7440)
EMPTY_PLACE = (-0.2300, 53.7800)


@pytest.fixture
def transit(db_session: Session) -> Transit:
    return make_transit(db_session)


@pytest.fixture
def published_world(transit: Transit, add_reports: AddReports) -> Transit:
    """Reports that are published: 12 at stop 0, 9 on segment 0, 7 in a street nearby."""
    from ..hotspots.conftest import STOP_LONLATS

    lon, lat = STOP_LONLATS[0]
    add_reports(12, lon, lat, context="at_stop", mode="bus", stop=transit.stop_ref(0))
    add_reports(9, lon + 0.003, lat, context="on_vehicle", mode="bus",
                segment=transit.segment_ref(0), categories=["overcrowding"])  # fmt: skip
    add_reports(7, *STOP_LONLATS[2], categories=["isolated", "followed"])
    return transit

"""Stop and segment summaries (migration 0019) give what the totals give, one row a feature."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from streetsafe.hotspots.aggregate import segment_features, site_totals, stop_features
from streetsafe.hotspots.filters import parse_filters
from streetsafe.hotspots.rollups import CATEGORY_IDS, rebuild_rollups

from .conftest import STOP_LONLATS

EVERY_CATEGORY = ",".join(CATEGORY_IDS)  # the same reports, read from the totals instead


def _add_mixed(transit, add_reports) -> None:
    mixes = (["badly_lit"], ["badly_lit", "isolated"], ["followed"], ["no_cctv", "other"])
    for i, (lon, lat) in enumerate(STOP_LONLATS[:2]):
        for j, categories in enumerate(mixes):
            add_reports(2 + i + j, lon, lat, context="at_stop", mode="bus",
                        stop=transit.stop_ref(i), categories=categories)  # fmt: skip
            add_reports(1 + j, lon, lat, context="on_vehicle", mode="bus",
                        segment=transit.segment_ref(i), categories=categories)  # fmt: skip


def _as_numbers(features) -> dict[str, tuple]:
    return {f.id: (f.count, f.key_sum, f.category_counts(), f.reports_with(0b11), f.properties)
            for f in features}  # fmt: skip


@pytest.mark.parametrize("read", [stop_features, segment_features])
def test_a_summary_reads_the_same_features_as_the_totals(
    db_session, transit, add_reports, read
) -> None:
    _add_mixed(transit, add_reports)
    summary = _as_numbers(read(db_session, parse_filters({}), 1))
    totals = _as_numbers(read(db_session, parse_filters({"categories": EVERY_CATEGORY}), 1))
    assert summary == totals and len(summary) == 2
    some = sorted(summary)[:1]
    assert _as_numbers(read(db_session, parse_filters({}), 1, some)) == {
        some[0]: summary[some[0]]
    }
    assert _as_numbers(read(db_session, parse_filters({}), 1000)) == {}


@pytest.mark.parametrize("layer", ["stops", "route-segments"])
def test_summary_totals_follow_intake_and_a_rebuild(db_session, transit, add_reports, layer):
    _add_mixed(transit, add_reports)
    unfiltered = sorted(site_totals(db_session, layer, parse_filters({}), 1))
    via_totals = parse_filters({"categories": EVERY_CATEGORY})
    assert unfiltered == sorted(site_totals(db_session, layer, via_totals, 1))
    rebuild_rollups(db_session)
    assert sorted(site_totals(db_session, layer, parse_filters({}), 1)) == unfiltered
    table = {"stops": "hotspot_stop_summary", "route-segments": "hotspot_segment_summary"}[layer]
    assert db_session.scalar(sa.text(f"SELECT count(*) FROM {table}")) == 2

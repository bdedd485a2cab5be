"""Rollups: maintained by triggers in the insert's transaction, equal to a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime

import h3
import shapely
import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe.hotspots.aggregate import cell_features
from streetsafe.hotspots.filters import parse_filters
from streetsafe.hotspots.rollups import CATEGORY_BITS, CATEGORY_IDS, rebuild_rollups
from streetsafe.vocabulary import CONTEXTS

from .conftest import STOP_LONLATS, Transit

COUNT_TABLES = (
    "hotspot_cell_rollup", "hotspot_cell_totals", "hotspot_stop_rollup", "hotspot_segment_rollup",
    "hotspot_cell_summary",
)  # fmt: skip


def _snapshot(session: Session) -> dict[str, list[tuple]]:
    return {
        table: sorted(tuple(row) for row in session.execute(sa.text(f"SELECT * FROM {table}")))
        for table in COUNT_TABLES
    }


def test_category_bits_match_the_database_function(db_session: Session) -> None:
    for category in CATEGORY_IDS:
        mask = db_session.scalar(
            sa.text("SELECT hotspot_category_mask(ARRAY[:c]::text[])"), {"c": category}
        )
        assert mask == CATEGORY_BITS[category]
    assert len(set(CATEGORY_BITS.values())) == 16


def test_insert_adds_report_to_cell_rollup_in_local_time(db_session, add_reports) -> None:
    lon, lat = STOP_LONLATS[0]
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
    when = datetime(2025, 6, 30, 23, 30, tzinfo=UTC)
    add_reports(3, lon, lat, categories=["badly_lit", "followed"], occurred_at=when)
    cell = h3.str_to_int(h3.latlng_to_cell(lat, lon, 9))
    row = db_session.execute(
        sa.text("SELECT day, hour, category_mask, count FROM hotspot_cell_rollup "
                "WHERE res = 9 AND cell = :cell"),
        {"cell": cell},
    ).one()  # fmt: skip
    assert (str(row.day), row.hour, row.count) == ("2025-07-01", 0, 3)
    assert row.category_mask == CATEGORY_BITS["badly_lit"] | CATEGORY_BITS["followed"]
    totals = db_session.scalar(sa.text("SELECT sum(count) FROM hotspot_cell_totals WHERE res = 9"))
    assert totals == 3


def test_stop_and_segment_rollups_and_their_geometry(
    db_session: Session, transit: Transit, add_reports
) -> None:
    lon, lat = STOP_LONLATS[0]
    add_reports(2, lon, lat, context="at_stop", mode="bus", stop=transit.stop_ref(0))
    add_reports(4, lon + 0.002, lat, context="on_vehicle", mode="bus",
                segment=transit.segment_ref(0))  # fmt: skip
    stops = db_session.execute(
        sa.text("SELECT stop_public_id, sum(count) FROM hotspot_stop_rollup GROUP BY 1")
    ).all()
    assert [tuple(r) for r in stops] == [("test:S0", 2)]
    wkb, n = db_session.execute(
        sa.text("SELECT ST_AsBinary(s.geom), (SELECT sum(count) FROM hotspot_segment_rollup) "
                "FROM hotspot_segment_sites s")
    ).one()  # fmt: skip
    line = shapely.from_wkb(wkb)
    assert n == 4
    # The stretch from stop 0 to stop 1 follows the shape between them.
    assert line.coords[0] == STOP_LONLATS[0]
    assert abs(line.coords[-1][0] - STOP_LONLATS[1][0]) < 1e-4


def test_rebuild_from_raw_reports_equals_trigger_rollups(
    db_session: Session, transit: Transit, add_reports
) -> None:
    lon, lat = STOP_LONLATS[1]
    add_reports(5, lon, lat, categories=["isolated"], stop=transit.stop_ref(1), context="at_stop")
    hood = transit.neighbourhood.id
    add_reports(2, lon, lat, categories=["no_staff", "other"], segment=transit.segment_ref(1),
                context="on_vehicle", mode="bus", neighbourhood_id=hood)  # fmt: skip
    by_triggers = _snapshot(db_session)
    rebuild_rollups(db_session)
    assert _snapshot(db_session) == by_triggers
    assert sum(r[-2] for r in by_triggers["hotspot_cell_totals"]) == 7 * 4  # (..., count, key_sum)


def test_purging_raw_reports_keeps_rollups(db_session: Session, add_reports) -> None:
    lon, lat = STOP_LONLATS[2]
    add_reports(6, lon, lat)
    db_session.execute(sa.text("DELETE FROM reports"))
    assert db_session.scalar(sa.text("SELECT sum(count) FROM hotspot_cell_totals")) == 24


def test_cell_summary_answers_like_the_totals(db_session: Session, add_reports) -> None:
    lon, lat = STOP_LONLATS[0]
    add_reports(3, lon, lat, categories=["isolated", "no_staff"])
    add_reports(4, lon, lat, categories=["isolated"], context="at_stop")
    add_reports(2, lon + 0.01, lat, categories=["other", "badly_lit"])
    add_reports(1, lon + 0.01, lat, categories=["rundown"], context="on_vehicle", mode="bus")
    bbox = f"{lon - 0.05},{lat - 0.05},{lon + 0.05},{lat + 0.05}"  # holds the cells' centres
    for res in ("7", "9", "10"):
        summary = parse_filters({"res": res, "bbox": bbox})
        # Naming every context gives the same reports but forces the totals rollup.
        totals = parse_filters({"res": res, "bbox": bbox, "context": ",".join(CONTEXTS)})
        assert summary.is_unfiltered and not totals.is_unfiltered

        def key(features: list) -> list[tuple]:
            return sorted(
                (f.id, f.count, f.mask_counts, f.category_counts(), f.geometry.wkt)
                for f in features
            )

        assert key(cell_features(db_session, summary)) == key(cell_features(db_session, totals))
        assert sum(f.count for f in cell_features(db_session, summary)) == 10


def test_stop_and_segment_totals_answer_like_the_day_hour_rollups(
    db_session: Session, transit: Transit, add_reports
) -> None:
    from streetsafe.hotspots.aggregate import segment_features, stop_features

    lon, lat = STOP_LONLATS[0]
    add_reports(4, lon, lat, categories=["isolated"], stop=transit.stop_ref(0), context="at_stop")
    add_reports(3, lon, lat, categories=["no_staff", "other"], segment=transit.segment_ref(0),
                context="on_vehicle", mode="bus")  # fmt: skip
    totals = parse_filters({})
    # Every day of the week: the same reports, through the day/hour rollups.
    rollups = parse_filters({"days": "mon,tue,wed,thu,fri,sat,sun"})
    assert not totals.has_time_filter and rollups.has_time_filter
    for layer in (stop_features, segment_features):

        def key(features: list) -> list[tuple]:
            return sorted((f.id, f.count, f.key_sum, f.mask_counts) for f in features)

        assert key(layer(db_session, totals)) == key(layer(db_session, rollups))
        assert sum(f.count for f in layer(db_session, totals)) in (4, 3)

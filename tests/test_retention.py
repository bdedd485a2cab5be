"""Retention: old reports and their descriptions go, recent ones and aggregates stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from streetsafe.models import IdempotencyKey, Report, ReportCell, ReportDescription
from streetsafe.retention import purge

from .conftest import migrated_database, run_streetsafe

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _report(session, days_ago: int, description: str | None = None) -> uuid.UUID:
    report = Report(
        id=uuid.uuid4(),
        context="street",
        categories=["badly_lit"],
        occurred_at=NOW - timedelta(days=days_ago),
        geom=from_shape(Point(-0.34, 53.74), 4326),
    )
    report.cells = [ReportCell(res=9, cell=0x89195DA49FFFFFF)]
    session.add(report)
    if description:
        session.add(ReportDescription(report_id=report.id, body=description))
    session.flush()
    return report.id


def _count(session, table: str) -> int:
    return session.scalar(sa.text(f"SELECT count(*) FROM {table}"))


def test_purge_deletes_old_reports_with_their_cells_and_descriptions(db_session) -> None:
    old = _report(db_session, 500, "old text")
    recent = _report(db_session, 10, "recent text")
    result = purge(db_session, 400, now=NOW)
    assert (result.reports, result.descriptions) == (1, 1)
    remaining = set(db_session.scalars(sa.select(Report.id)))
    assert recent in remaining and old not in remaining
    assert _count(db_session, "report_cells") == 1
    assert db_session.scalar(sa.select(ReportDescription.body)) == "recent text"


def test_purge_removes_only_expired_idempotency_keys(db_session) -> None:
    for name, hours in (("expired", -1), ("live", 5)):
        db_session.add(
            IdempotencyKey(
                key_hash=name,
                request_hash="x",
                status_code=201,
                response={},
                expires_at=NOW + timedelta(hours=hours),
            )
        )
    db_session.flush()
    result = purge(db_session, 400, now=NOW)
    assert result.idempotency_keys == 1
    assert list(db_session.scalars(sa.select(IdempotencyKey.key_hash))) == ["live"]


def test_a_purged_report_takes_its_receipt_code_and_stored_receipt_with_it(db_session) -> None:
    old, recent = _report(db_session, 500), _report(db_session, 10)
    codes = dict(db_session.execute(sa.select(Report.id, Report.receipt_code)).all())
    for report_id in (old, recent):  # live keys, as if both were sent an hour ago
        db_session.add(IdempotencyKey(
            key_hash=str(report_id), request_hash="x", status_code=201,
            response={"id": str(report_id), "receipt_code": codes[report_id]},
            expires_at=NOW + timedelta(hours=40)))  # fmt: skip
    db_session.flush()
    result = purge(db_session, 400, now=NOW)
    assert result.idempotency_keys == 1
    assert list(db_session.scalars(sa.select(IdempotencyKey.key_hash))) == [str(recent)]
    dump = " ".join(str(row) for table in ("reports", "idempotency_keys")
                    for row in db_session.execute(sa.text(f"SELECT * FROM {table}")))  # fmt: skip
    assert codes[old] not in dump and codes[recent] in dump


def test_purge_keeps_aggregate_tables(db_session) -> None:
    """Every table other than the raw ones keeps its rows (rollups have no FK to reports)."""
    _report(db_session, 500)
    raw = {"reports", "report_cells", "report_descriptions", "idempotency_keys"}
    tables = [
        name
        for name in sa.inspect(db_session.connection()).get_table_names()
        if name not in raw | {"spatial_ref_sys", "alembic_version"}
    ]
    before = {name: _count(db_session, name) for name in tables}
    purge(db_session, 400, now=NOW)
    assert {name: _count(db_session, name) for name in tables} == before


def test_purge_command_reports_what_it_deleted() -> None:
    url = migrated_database("retention_cli")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO reports (id, context, categories, occurred_at, geom) VALUES "
                "(gen_random_uuid(), 'street', '{badly_lit}', now() - interval '30 days', "
                "ST_SetSRID(ST_MakePoint(-0.34, 53.74), 4326)), "
                "(gen_random_uuid(), 'street', '{badly_lit}', now() - interval '2 days', "
                "ST_SetSRID(ST_MakePoint(-0.34, 53.74), 4326))"
            )
        )
    result = run_streetsafe(url, "purge", "--older-than", "7")
    assert result.returncode == 0, result.stderr
    assert "deleted 1 report (with 0 descriptions)" in result.stdout
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM reports")) == 1
    engine.dispose()
    bad = run_streetsafe(url, "purge", "--older-than", "0")
    assert bad.returncode != 0 and "--older-than" in bad.stderr

"""GET /receipt/{code}: what was recorded and the published actions covering it; nothing about
other reporters, no description, no cookie, no other host; unknown or malformed codes 404."""

from __future__ import annotations

import logging
import random
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from streetsafe import create_app
from streetsafe.db import get_database
from streetsafe.logs import NoClientAddresses
from streetsafe.models import ReportDescription
from streetsafe.reports.receipt_codes import grouped

from .conftest import bearer
from .test_actions import FULL, post
from .test_impact import CENTRE, CONTROL, RING, area, seed  # noqa: F401 (area)

INSIDE = {"type": "circle", "lon": -0.35, "lat": 53.745, "radius_m": 150}
ELSEWHERE = {"type": "circle", "lon": -0.357, "lat": 53.748, "radius_m": 100}


def code_of(db_session, report_id) -> str:
    return db_session.scalar(sa.text("SELECT receipt_code FROM reports WHERE id = :id"),
                             {"id": report_id})  # fmt: skip


def publish(client, token: str, title: str, place: dict, approve: bool = True, **extra) -> int:
    body = {**FULL, "place": place, "public": True, "public_title": title, **extra}
    action_id = post(client, token, body).get_json()["id"]
    if approve:
        decided = client.post(f"/api/v1/team/actions/{action_id}/publication",
                              json={"decision": "approve"}, headers=bearer(token))  # fmt: skip
        assert decided.status_code == 200
    return action_id


def since(html: str) -> str:
    """The "What has happened here since" section of a receipt page."""
    section = html.split('id="since-heading"', 1)[1].split("</section>", 1)[0]
    return section.split("</h2>", 1)[1]


def assert_private(response) -> None:
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    # No script, style, image or form of another host (the quick-exit link is a plain link).
    for url in re.findall(r'(?:src|action)="([^"]+)"|<link[^>]+href="([^"]+)"', html):
        for part in url:
            assert not part or part.startswith("/"), part
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_a_receipt_without_a_published_action_shows_what_was_recorded_only(
    client, world, db_session
) -> None:
    report_id = world.reports_a[1]
    db_session.add(ReportDescription(report_id=report_id, body="the man by the bins"))
    db_session.commit()
    code = code_of(db_session, report_id)
    response = client.get(f"/receipt/{grouped(code)}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert grouped(code) in html and "Badly lit" in html and "At a stop or station" in html
    assert "the man by the bins" not in html
    assert "No team has told us about anything done here yet" in since(html)
    assert not re.search(r"\d", re.sub(r"<[^>]+>", "", since(html)))  # no count of anything
    assert_private(response)
    # Typed in lower case, with spaces, or ungrouped: the same page.
    for typed in (code.lower(), " ".join(grouped(code).split("-")), code):
        again = client.get(f"/receipt/{typed}")
        assert again.status_code == 200 and grouped(code) in again.get_data(as_text=True)


def test_a_published_approved_action_covering_the_report_is_shown_to_every_report_there(
    client, world, db_session
) -> None:
    publish(client, world.token_a, "New street lights on Carr Lane", INSIDE,
            public_text="Six lamps went in. Ring 07700 900123 with questions.")  # fmt: skip
    publish(client, world.token_a, "Not approved yet", INSIDE, approve=False)
    publish(client, world.token_a, "Somewhere else", ELSEWHERE)
    post(client, world.token_a, {**FULL, "title": "Private team note", "place": INSIDE})
    pages = [client.get(f"/receipt/{code_of(db_session, r)}") for r in world.reports_a]
    sections = {since(page.get_data(as_text=True)) for page in pages}
    assert len(sections) == 1  # the same list for every report in the place
    [section] = sections
    assert "New street lights on Carr Lane" in section and "Patrols" in section
    assert "Six lamps went in" in section and "[phone]" in section and "07700" not in section
    assert "started 2 March 2026" in section and "ended 30 April 2026" in section
    for hidden in ("Not approved yet", "Somewhere else", "Private team note", "Evening patrols"):
        assert hidden not in section
    other = client.get(f"/receipt/{code_of(db_session, world.reports_b[0])}")
    assert "New street lights" not in other.get_data(as_text=True)
    for page in pages:
        assert_private(page)


def test_a_rejected_or_withdrawn_action_leaves_the_receipt(client, world, db_session) -> None:
    action_id = publish(client, world.token_a, "Lighting survey", INSIDE)
    url = f"/receipt/{code_of(db_session, world.reports_a[0])}"
    assert "Lighting survey" in client.get(url).get_data(as_text=True)
    client.post(f"/api/v1/team/actions/{action_id}/publication", json={"decision": "reject"},
                headers=bearer(world.token_a))  # fmt: skip
    assert "Lighting survey" not in client.get(url).get_data(as_text=True)
    client.patch(f"/api/v1/team/actions/{action_id}", json={"public_title": "Lighting survey 2"},
                 headers=bearer(world.token_a))  # fmt: skip
    client.post(f"/api/v1/team/actions/{action_id}/publication", json={"decision": "approve"},
                headers=bearer(world.token_a))  # fmt: skip
    assert "Lighting survey 2" in client.get(url).get_data(as_text=True)
    client.patch(f"/api/v1/team/actions/{action_id}", json={"public": False},
                 headers=bearer(world.token_a))  # fmt: skip
    assert "Lighting survey" not in client.get(url).get_data(as_text=True)


def test_the_verdict_shows_in_plain_words_once_evaluated(client, db_session, area) -> None:  # noqa: F811
    # The default evaluation, as the dashboard's list: 12 weeks before, the 6 complete after.
    for point, (before, after), rng in ((CENTRE, (12, 5), 1), (RING, (6, 6), 2),
                                        (CONTROL, (14, 14), 3)):  # fmt: skip
        counts = np.random.default_rng(rng).poisson([before] * 12 + [after] * 6).tolist()
        seed(db_session, area.started - timedelta(weeks=6), point, counts[:12])
        seed(db_session, area.started, point, [0] * 6 + counts[12:])
    db_session.commit()
    place = {"type": "circle", "lon": CENTRE.x, "lat": CENTRE.y, "radius_m": 150}
    body = {"kind": "lighting", "started_on": area.started.isoformat(), "place": place,
            "public": True, "public_title": "Brighter lighting"}  # fmt: skip
    action_id = client.post("/api/v1/team/actions", json=body,
                            headers=bearer(area.token)).get_json()["id"]  # fmt: skip
    client.post(f"/api/v1/team/actions/{action_id}/publication", json={"decision": "approve"},
                headers=bearer(area.token))  # fmt: skip
    report_id = db_session.scalar(sa.text(
        "SELECT id FROM reports WHERE ST_Equals(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) "
        "ORDER BY occurred_at LIMIT 1"), {"x": CENTRE.x, "y": CENTRE.y})  # fmt: skip
    section = since(client.get(f"/receipt/{code_of(db_session, report_id)}").get_data(as_text=True))
    assert "less often than in comparable places nearby" in section
    verdict = section.split("What has changed:", 1)[1].split("</p>", 1)[0]
    assert not re.search(r"\d", verdict)


def test_a_young_action_has_no_verdict_yet(client, world, db_session) -> None:
    publish(client, world.token_a, "Patrols from today", INSIDE,
            started_on=datetime.now(UTC).date().isoformat(), ended_on=None)  # fmt: skip
    section = since(client.get(f"/receipt/{code_of(db_session, world.reports_a[0])}")
                    .get_data(as_text=True))  # fmt: skip
    assert "Patrols from today" in section and "What has changed" not in section


@pytest.mark.parametrize("typed", [
    "ABCD-EFGH-JKMNP",  # well formed, unknown
    "ABCD-EFGH-JKMN",  # too short
    "not a code", "%27%20OR%201%3D1", "A" * 300, "ABCD-EFGH-JKMNP/extra",
])  # fmt: skip
def test_an_unknown_or_malformed_code_is_a_plain_404_page(client, world, typed) -> None:
    response = client.get(f"/receipt/{typed}")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "We could not find that receipt" in html and 'name="code"' in html
    assert_private(response)


def test_a_purged_reports_code_finds_nothing(client, world, db_session) -> None:
    from streetsafe.retention import purge

    code = code_of(db_session, world.reports_a[0])
    assert client.get(f"/receipt/{code}").status_code == 200
    purge(db_session, 1, now=datetime.now(UTC) + timedelta(days=30))
    db_session.commit()
    assert client.get(f"/receipt/{code}").status_code == 404


def test_the_form_sends_a_typed_code_to_its_page(client, world, db_session) -> None:
    empty = client.get("/receipt")
    assert empty.status_code == 200 and 'name="code"' in empty.get_data(as_text=True)
    code = code_of(db_session, world.reports_a[0])
    sent = client.get(f"/receipt?code={code.lower()}")
    assert sent.status_code == 303 and sent.headers["Location"] == f"/receipt/{code.lower()}"
    assert client.get(sent.headers["Location"]).status_code == 200
    assert 'action="/receipt"' in client.get("/").get_data(as_text=True)


def test_lookups_are_limited_per_client(settings, connection, world, db_session) -> None:
    app = create_app(settings.with_overrides(receipt_limits="3/minute"))
    database = get_database(app)
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)  # fmt: skip
    database.session_factory = database.read_session_factory = factory
    client = app.test_client()
    # A network of its own each run: the counters live in the test Redis for their window.
    a, b = random.randrange(1 << 16), random.randrange(1 << 16)
    address = {"REMOTE_ADDR": f"2001:db8:{a:x}:{b:x}::1"}
    code = code_of(db_session, world.reports_a[0])
    statuses = [client.get(f"/receipt/{c}", environ_base=address).status_code
                for c in (code, "ABCD-EFGH-JKMNP", code, code)]  # fmt: skip
    assert statuses == [200, 404, 200, 429]
    limited = client.get(f"/receipt/{code}", environ_base=address)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.mimetype == "text/html" and "Set-Cookie" not in limited.headers
    elsewhere = {"REMOTE_ADDR": f"2001:db8:{a:x}:{b ^ 1:x}::1"}  # the next /64
    other = client.get(f"/receipt/{code}", environ_base=elsewhere)
    assert other.status_code == 200
    database.dispose()


def test_a_log_line_keeps_the_receipt_path_without_the_code() -> None:
    record = logging.LogRecord("gunicorn.error", logging.WARNING, __file__, 1,
                               "Invalid request GET /receipt/%s?x=1 and /receipt?code=%s",
                               ("ABCD-EFGH-JKMNP", "abcdefghjkmnp"), None)  # fmt: skip
    NoClientAddresses().filter(record)
    message = record.getMessage()
    assert "ABCD" not in message and "abcdefghjkmnp" not in message
    assert "/receipt/[code withheld]?x=1" in message and "code=[code withheld]" in message


@pytest.mark.parametrize("main, words", [
    (None, None),
    ({"p": 0.3, "rate_ratio": 0.8}, "no clear change"),
    ({"p": 0.01, "rate_ratio": 0.6}, "less often"),
    ({"p": 0.01, "rate_ratio": 1.7}, "more often"),
])  # fmt: skip
def test_the_public_verdict_has_a_direction_and_no_number(main, words) -> None:
    from streetsafe.team.evaluation import Series, public_verdict

    response, control = Series([5] * 6, [5] * 6), Series([12] * 6, [12] * 6)
    kept = public_verdict(response, control, main)  # lazy text: put into words by str()
    verdict = None if kept is None else str(kept)
    assert verdict is None if words is None else words in verdict
    assert public_verdict(Series([1] * 6, [1] * 6), control, main) is None  # too few to tell
    assert not re.search(r"\d", verdict or "")


def test_with_redis_away_lookups_are_still_limited_in_each_worker(settings) -> None:
    app = create_app(settings.with_overrides(receipt_limits="2/minute",
                                             redis_url="redis://127.0.0.1:1/0"))  # fmt: skip
    client = app.test_client()
    statuses = [client.get("/receipt/ABCD-EFGH-JKMNP").status_code for _ in range(4)]
    assert statuses == [404, 404, 429, 429]
    get_database(app).dispose()

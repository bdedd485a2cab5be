"""Reporting with no signal, and the receipt page, in Chromium.

"No signal" is both halves of it: the browser context is offline (Playwright's set_offline,
so the page sees navigator.onLine false and its own requests fail) and the server is stopped,
so that the service worker's own requests fail too (Chromium's offline emulation does not
reach service workers). Coming back online restarts the server on the same port: the same
origin, so the same service worker and the same saved reports.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.request
import uuid

import pytest
import sqlalchemy as sa
from shapely.geometry import Point, box
from werkzeug.serving import make_server

from streetsafe import create_app
from streetsafe.config import Settings
from tests.conftest import redis_url

from .conftest import BASEMAP_URL, _free_port
from .helpers import assert_accessible, reports_with_description
from .test_team_benefits import team_whose_place_improved
from .test_team_dashboard import _sign_in, _wait_loaded

# An area in York, away from the other browser tests' places (the database is shared).
YORK = box(-1.10, 53.95, -1.08, 53.97)
CENTRE = Point(-1.09, 53.96)
CONTROL = Point(-1.084, 53.953)

SAVED = "Saved on this phone; it will be sent when you have signal."
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{5}")


class Restartable:
    """The app served from a thread on a fixed port, stopped and started again at will."""

    def __init__(self, database_url: str) -> None:
        settings = Settings(database_url=database_url, redis_url=redis_url(),
                            secret_key="browser-test-secret-key-0123", rate_limits="",
                            receipt_limits="", basemap_url=BASEMAP_URL)  # fmt: skip
        self.app = create_app(settings)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = None
        self.thread = None

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)
            self.server = None


@pytest.fixture
def server(browser_database):
    served = Restartable(browser_database)
    served.start()
    yield served
    served.stop()


def open_controlled(page, url: str) -> None:
    """Open the report page and wait until its service worker controls it (shell kept)."""
    page.goto(url + "/")
    page.locator("#category-groups input").first.wait_for()
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")


def lose_signal(context, server: Restartable) -> None:
    context.set_offline(True)
    server.stop()


def regain_signal(context, server: Restartable) -> None:
    server.start()
    context.set_offline(False)


def report_offline(page, description: str) -> None:
    """With no signal: reload the page (from the service worker), make a street report."""
    page.reload()
    page.locator("#category-groups input").first.wait_for()  # the kept category list
    page.get_by_role("button", name="Place pin at map centre").click()
    page.locator('input[name="categories"][value="badly_lit"]').check()
    page.get_by_label("What happened").fill(description)
    page.get_by_role("button", name="Send report").click()
    page.get_by_text(SAVED).wait_for()


def waiting_on_device(page) -> int:
    return page.evaluate(
        "async () => (await (await import('/static/js/outbox.js')).waiting()).length")


def test_a_report_made_with_no_signal_is_stored_once_when_the_page_is_reopened(
    server, phone_page, browser_engine
) -> None:
    page, _ = phone_page
    description = f"offline report {uuid.uuid4()}"
    open_controlled(page, server.url)
    lose_signal(page.context, server)
    report_offline(page, description)
    page.shots.take(page, "saved-offline")
    assert_accessible(page, "saved offline")
    assert page.locator("#outbox-list li").count() == 1
    assert "Badly lit" in page.locator("#outbox-list").inner_text()
    assert waiting_on_device(page) == 1
    assert reports_with_description(browser_engine, description) == []
    context, shots = page.context, page.shots
    page.close()

    # Opened again with no signal: it says what is waiting, and keeps it.
    still_offline = context.new_page()
    still_offline.goto(server.url + "/")
    still_offline.get_by_text(SAVED).wait_for()
    assert still_offline.locator("#outbox-list li").count() == 1
    still_offline.close()

    regain_signal(context, server)
    again = context.new_page()
    again.goto(server.url + "/")
    again.get_by_text("Your saved report was sent.").wait_for()
    code = again.locator("#outbox-sent-list [data-code]").inner_text()
    assert CODE.fullmatch(code)
    shots.take(again, "sent-on-reopening")
    [stored] = reports_with_description(browser_engine, description)
    assert stored["receipt_code"] == code.replace("-", "")
    assert stored["occurred_at"].minute == 0  # the hour it was saved in, no finer
    assert waiting_on_device(again) == 0
    assert again.evaluate("async () => (await (await import('/static/js/outbox.js')).takeSent())"
                          ".length") == 0  # fmt: skip
    # Reopened once more, the page neither sends it again nor still shows it.
    again.reload()
    again.locator("#category-groups input").first.wait_for()
    assert again.locator("#outbox").is_hidden()
    assert len(reports_with_description(browser_engine, description)) == 1

    # The receipt code leads to its receipt page: what was recorded, never the description.
    again.goto(f"{server.url}/receipt/{code}")
    again.get_by_role("heading", name="What was recorded").wait_for()
    assert "Badly lit" in again.content() and description not in again.content()
    assert_accessible(again, "receipt page")
    again.goto(f"{server.url}/receipt/ABCD-EFGH-JKMNP")
    again.get_by_role("heading", name="We could not find that receipt").wait_for()
    again.close()


def test_two_sends_of_the_same_saved_report_store_one_row(
    server, phone_page, browser_engine
) -> None:
    page, _ = phone_page
    description = f"sent twice {uuid.uuid4()}"
    open_controlled(page, server.url)
    body = {"context": "street", "location": {"lat": 53.7446, "lon": -0.3367},
            "categories": ["isolated"], "description": description}  # fmt: skip
    results = page.evaluate(
        """async (body) => {
            const outbox = await import('/static/js/outbox.js');
            await outbox.save(body, crypto.randomUUID());
            return Promise.all([outbox.sendAll('/api/v1'), outbox.sendAll('/api/v1')]);
        }""",
        body,
    )
    codes = {receipt["receipt_code"] for result in results for receipt in result["sent"]}
    assert len(codes) == 1 and sum(len(result["sent"]) for result in results) == 2
    assert len(reports_with_description(browser_engine, description)) == 1
    assert waiting_on_device(page) == 0


def test_a_saved_report_can_be_deleted_and_is_then_never_sent(
    server, phone_page, browser_engine
) -> None:
    page, _ = phone_page
    description = f"deleted offline {uuid.uuid4()}"
    open_controlled(page, server.url)
    lose_signal(page.context, server)
    report_offline(page, description)
    page.get_by_role("button", name="Delete it from this phone").click()
    page.get_by_text("The saved report was deleted from this phone. It was not sent.").wait_for()
    assert waiting_on_device(page) == 0
    regain_signal(page.context, server)
    page.reload()
    page.locator("#category-groups input").first.wait_for()
    page.wait_for_timeout(500)
    assert reports_with_description(browser_engine, description) == []


def test_no_receipt_page_sets_a_cookie_or_calls_another_host(
    server, phone_page, browser_engine
) -> None:
    page, traffic = phone_page
    request = urllib.request.Request(
        server.url + "/api/v1/reports", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"context": "street", "location": {"lat": 53.7446, "lon": -0.3367},
                         "categories": ["isolated"]}).encode())  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        code = json.load(response)["receipt_code"]
    for path in (f"/receipt/{code}", "/receipt", "/receipt/not-a-code"):
        page.goto(server.url + path)
        page.locator("h1").wait_for()
    page.get_by_label("Receipt code").fill(code.lower())
    page.get_by_role("button", name="Check").click()
    page.get_by_role("heading", name="What was recorded").wait_for()
    assert traffic.blocked == []  # not even the basemap: a receipt page has no map
    assert page.context.cookies() == []


@pytest.fixture
def york_team(browser_engine) -> tuple[str, str]:
    return team_whose_place_improved(browser_engine, "York", YORK, CENTRE, CONTROL)


def test_a_team_publishes_an_action_and_a_reporter_there_reads_it_on_their_receipt(
    team_page, serve, york_team, browser_engine
) -> None:
    page, _traffic = team_page
    token, started = york_team
    served = serve()
    _sign_in(page, served, token)
    _wait_loaded(page)
    form = page.locator("#action-form")
    form.get_by_label("Kind").select_option("lighting")
    form.get_by_label("What", exact=True).fill("Lamp survey")
    form.get_by_label("From").fill(started)
    form.get_by_label("Radius (m)").fill("150")
    form.get_by_label("Show it on the receipt page").check()
    form.get_by_label("Public title").fill("Brighter street lights")
    form.get_by_label("Public text (optional)").fill("Questions? Ring 07700 900123.")
    page.evaluate(f"state.map.fire('click', {{latlng: L.latLng({CENTRE.y}, {CENTRE.x})}})")
    form.get_by_role("button", name="Record action").click()
    item = page.locator("#actions li").filter(has_text="Lamp survey")
    item.filter(has_text="waiting for approval").wait_for()
    waiting = page.locator("#publications li").filter(has_text="Brighter street lights")
    assert "[phone]" in waiting.inner_text() and "07700" not in waiting.inner_text()
    page.shots.take(page, "publication-waiting")
    assert_accessible(page, "publication waiting")
    waiting.get_by_role("button", name="Approve").click()
    item.filter(has_text="shown").wait_for()

    with browser_engine.connect() as connection:
        code = connection.scalar(sa.text(
            "SELECT receipt_code FROM reports WHERE ST_Equals(geom, "
            "ST_SetSRID(ST_MakePoint(:x, :y), 4326)) LIMIT 1"),
            {"x": CENTRE.x, "y": CENTRE.y})  # fmt: skip
    reporter = page.context.browser.new_context(locale="en-GB")
    elsewhere: list[str] = []
    reporter.on("request", lambda r: r.url.startswith(served.url) or elsewhere.append(r.url))
    receipt = reporter.new_page()
    receipt.goto(f"{served.url}/receipt/{code}")
    since = receipt.locator("section").filter(has_text="What has happened here since")
    since.get_by_role("heading", name="Brighter street lights").wait_for()
    text = since.inner_text()
    assert "Lighting" in text and "[phone]" in text and "Lamp survey" not in text
    assert "less often than in comparable places nearby" in text
    assert not re.search(r"\d+ reports?|\d+%", text)
    assert reporter.cookies() == [] and elsewhere == []
    reporter.close()


def test_a_report_whose_first_answer_was_lost_is_not_stored_again(
    server, phone_page, browser_engine
) -> None:
    """The page's send reached the server but its answer was lost; the saved copy (now with
    its hour) goes again under the same key and gets the first report's receipt."""
    page, _ = phone_page
    description = f"answer lost {uuid.uuid4()}"
    open_controlled(page, server.url)
    body = {"context": "street", "location": {"lat": 53.7446, "lon": -0.3367},
            "categories": ["followed"], "description": description}  # fmt: skip
    first, resent = page.evaluate(
        """async (body) => {
            const key = crypto.randomUUID();
            const answer = await fetch('/api/v1/reports', {
                method: 'POST', body: JSON.stringify(body),
                headers: {'Content-Type': 'application/json', 'Idempotency-Key': key}});
            const outbox = await import('/static/js/outbox.js');
            await outbox.save(body, key);  // as the page does when no answer came
            return [await answer.json(), await outbox.sendAll('/api/v1')];
        }""",
        body,
    )
    assert [r["receipt_code"] for r in resent["sent"]] == [first["receipt_code"]]
    assert len(reports_with_description(browser_engine, description)) == 1
    assert waiting_on_device(page) == 0


def test_a_saved_report_the_server_refuses_stays_marked_for_the_person_to_delete(
    server, phone_page, browser_engine
) -> None:
    page, traffic = phone_page
    open_controlled(page, server.url)
    page.evaluate(
        """async () => {
            const outbox = await import('/static/js/outbox.js');
            await outbox.save({context: 'street', location: {lat: 53.7446, lon: -0.3367},
                               categories: ['no_such_reason']}, crypto.randomUUID());
        }"""
    )
    page.reload()
    refused = page.locator("#outbox-list li").filter(has_text="It could not be sent")
    refused.wait_for()
    assert "unknown category" in refused.inner_text()
    assert waiting_on_device(page) == 1
    posts = len(traffic.posts)
    page.reload()  # still listed, and not sent again
    page.locator("#outbox-list li").filter(has_text="It could not be sent").wait_for()
    page.wait_for_timeout(300)
    assert len(traffic.posts) == posts
    refused = page.locator("#outbox-list li").filter(has_text="It could not be sent")
    refused.get_by_role("button", name="Delete it from this phone").click()
    page.get_by_text("The saved report was deleted from this phone.").wait_for()
    assert waiting_on_device(page) == 0


def test_a_report_saved_on_the_welsh_page_is_refused_in_welsh(server, phone_page) -> None:
    page, _ = phone_page
    page.goto(server.url + "/cy/")
    page.locator("#category-groups input").first.wait_for()
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")
    page.evaluate(
        """async () => {
            const outbox = await import('/static/js/outbox.js');
            await outbox.save({context: 'street', location: {lat: 53.7446, lon: -0.3367},
                               categories: ['no_such_reason']}, crypto.randomUUID(),
                              document.documentElement.lang);
        }"""
    )
    page.reload()
    refused = page.locator("#outbox-list li").filter(has_text="Ni ellid ei anfon")
    refused.wait_for()
    assert "categori anhysbys" in refused.inner_text()  # the API's refusal, asked in Welsh

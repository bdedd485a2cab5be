"""The report page in Chromium: each way of reporting, stored in PostGIS with the right snap."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis

from tests.conftest import redis_url, within_one_window

from .conftest import BASEMAP_ORIGIN, QUICK_EXIT_URL
from .helpers import (
    assert_accessible,
    distance_m,
    reports_with_description,
    stored_report,
    tab_to,
)
from .hull_network import STOPS

PARAGON, FERENSWAY, JAMESON, QVS, WHITEFRIARGATE = STOPS
LONDON = ZoneInfo("Europe/London")  # the browser contexts' time zone


def _category(page, category_id: str):
    return page.locator(f'input[name="categories"][value="{category_id}"]')


def _receipt_id(page) -> str:
    page.locator("#receipt").wait_for(state="visible")
    return page.locator("#receipt").get_attribute("data-report-id")


def test_report_at_a_stop_chosen_from_the_nearby_list(serve, phone_page, browser_engine) -> None:
    page, traffic = phone_page
    server = serve()
    page.goto(server.url + "/")
    page.locator("#category-groups input").first.wait_for()
    page.shots.take(page, "opened")
    assert_accessible(page, "opened")

    page.get_by_label("At a stop or station").check()
    stop_choice = page.get_by_role("radio", name=re.compile("^Jameson Street"))
    stop_choice.wait_for()
    page.shots.take(page, "nearby-stops")
    assert_accessible(page, "nearby stops")
    stop_choice.check()
    page.get_by_text("Pin placed at the stop Jameson Street.").wait_for()

    _category(page, "badly_lit").check()
    _category(page, "no_staff").check()
    page.get_by_label("Earlier today").check()
    page.get_by_label("Time of day").select_option(label="Night (midnight to 6am)")
    page.get_by_label("What happened").fill("Shelter light out, nobody around")
    page.shots.take(page, "filled")
    assert_accessible(page, "filled")
    page.get_by_role("button", name="Send report").click()

    report = stored_report(browser_engine, _receipt_id(page))
    page.shots.take(page, "receipt")
    assert_accessible(page, "receipt")
    assert page.locator("#receipt-details").get_by_text(re.compile("^Jameson Street")).is_visible()
    assert re.fullmatch(r"[0-9A-Z-]{6,}", page.locator("#receipt-code").inner_text())
    assert report["context"] == "at_stop"
    assert report["stop_public_id"] == JAMESON.public_id
    assert report["stop_distance_m"] < 1.0
    assert distance_m(browser_engine, report["lon"], report["lat"], JAMESON.lon, JAMESON.lat) < 1
    assert sorted(report["categories"]) == ["badly_lit", "no_staff"]
    assert report["description"] == "Shelter light out, nobody around"
    local = report["occurred_at"].astimezone(LONDON)
    assert local.date() == datetime.now(LONDON).date() and local.hour < 6
    assert all(url.startswith(BASEMAP_ORIGIN) for url in traffic.blocked)


def test_report_on_a_vehicle_found_by_route_search(serve, desktop_page, browser_engine) -> None:
    page, _ = desktop_page
    server = serve()
    page.goto(server.url + "/")
    page.locator("#category-groups input").first.wait_for()

    page.get_by_label("On a bus, tram or train").check()
    page.get_by_role("combobox", name="Route number or name").fill("5")
    route_choice = page.get_by_role("option", name=re.compile(r"^5 – "))
    route_choice.wait_for()
    assert page.get_by_role("option", name=re.compile(r"^56 – ")).count() == 1
    page.shots.take(page, "routes-found")
    assert_accessible(page, "route suggestions")
    route_choice.click()
    page.get_by_text(re.compile("is shown on the map")).wait_for()
    page.shots.take(page, "route-shown")
    assert_accessible(page, "route shown")

    # Tap the line half way between Jameson Street and Queen Victoria Square.
    page.locator("#map").evaluate("map => map.scrollIntoView({block: 'center'})")
    first = page.locator(f'path[data-stop-id="{JAMESON.public_id}"]').first.bounding_box()
    second = page.locator(f'path[data-stop-id="{QVS.public_id}"]').first.bounding_box()
    page.mouse.click(
        (first["x"] + first["width"] / 2 + second["x"] + second["width"] / 2) / 2,
        (first["y"] + first["height"] / 2 + second["y"] + second["height"] / 2) / 2,
    )
    page.get_by_text(re.compile(r"^Pin placed \(")).wait_for()
    _category(page, "followed").check()
    yesterday = datetime.now(LONDON).date() - timedelta(days=1)
    page.get_by_label("Another day").check()
    page.get_by_label("Day", exact=True).fill(yesterday.isoformat())
    page.get_by_label("Time of day").select_option(label="Afternoon (noon to 6pm)")
    page.shots.take(page, "pin-on-route")
    page.get_by_role("button", name="Send report").click()

    report = stored_report(browser_engine, _receipt_id(page))
    page.shots.take(page, "receipt")
    assert_accessible(page, "receipt")
    assert report["context"] == "on_vehicle"
    assert report["route_public_id"] == "browsertest:route-5"
    assert report["route_distance_m"] < 15
    assert {report["segment_from_name"], report["segment_to_name"]} == {JAMESON.name, QVS.name}
    half_way = distance_m(browser_engine, JAMESON.lon, JAMESON.lat, QVS.lon, QVS.lat) / 2
    assert distance_m(browser_engine, report["lon"], report["lat"], JAMESON.lon, JAMESON.lat) == (
        pytest.approx(half_way, abs=25)
    )
    local = report["occurred_at"].astimezone(LONDON)
    assert (local.date(), local.hour) == (yesterday, 15)
    receipt = page.locator("#receipt-details").inner_text()
    assert "Jameson Street" in receipt and "Queen Victoria Square" in receipt


def test_keyboard_only_report(serve, desktop_page, browser_engine) -> None:
    page, _ = desktop_page
    server = serve()
    page.goto(server.url + "/")
    page.locator("#category-groups input").first.wait_for()
    keys = page.keyboard

    tab_to(page, 'input[name="context"]')
    keys.press("ArrowDown")  # street -> at a stop
    assert page.get_by_label("At a stop or station").is_checked()

    tab_to(page, "#map")
    for _ in range(3):
        keys.press("ArrowLeft")  # pan the map
    tab_to(page, "#pin-centre")
    keys.press("Enter")
    page.get_by_text(re.compile("^Pin placed at the map centre")).wait_for()
    placed = page.locator("#pin-status").inner_text()
    keys.press("ArrowUp")  # the pin has focus: the arrow keys move it
    keys.press("ArrowUp")
    page.get_by_text(re.compile(r"^Pin moved \(")).wait_for()
    assert page.locator("#pin-status").inner_text() != placed
    page.shots.take(page, "pin-moved-by-keys")

    page.locator('#stop-list[aria-busy="false"]').wait_for()  # redrawn for the moved pin
    tab_to(page, 'input[name="stop"]')
    page.get_by_role("radio", name=re.compile("^Ferensway")).wait_for()
    for _ in range(len(STOPS)):
        if page.evaluate("() => document.activeElement.value") == FERENSWAY.public_id:
            break
        keys.press("ArrowDown")
    keys.press("Space")
    page.get_by_text("Pin placed at the stop Ferensway.").wait_for()

    tab_to(page, 'input[value="isolated"]')
    keys.press("Space")
    tab_to(page, 'input[value="intimidating_behaviour"]')
    keys.press("Space")
    tab_to(page, 'input[name="when"]')
    keys.press("ArrowDown")  # earlier today
    tab_to(page, "#when-band")
    keys.press("Home")  # night (midnight to 6am), always already begun
    tab_to(page, "#description")
    keys.type("Group shouting at the stop")
    page.shots.take(page, "filled-by-keyboard")
    assert_accessible(page, "filled by keyboard")
    tab_to(page, "#submit")
    keys.press("Enter")

    report = stored_report(browser_engine, _receipt_id(page))
    page.shots.take(page, "receipt")
    assert page.evaluate("() => document.activeElement.id") == "receipt"
    assert report["context"] == "at_stop"
    assert report["stop_public_id"] == FERENSWAY.public_id
    assert sorted(report["categories"]) == ["intimidating_behaviour", "isolated"]
    local = report["occurred_at"].astimezone(LONDON)
    assert local.date() == datetime.now(LONDON).date() and local.hour < 6
    assert report["description"] == "Group shouting at the stop"


def _post_report_directly(base_url: str) -> int:
    body = json.dumps(
        {
            "context": "street",
            "location": {"lat": PARAGON.lat, "lon": PARAGON.lon},
            "categories": ["other"],
        }
    ).encode()
    request = urllib.request.Request(
        base_url + "/api/v1/reports",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_rate_limited_report_keeps_the_form_and_retries_with_the_same_key(
    serve, phone_page, browser_engine
) -> None:
    page, traffic = phone_page
    redis.Redis.from_url(redis_url()).flushdb()  # this run's own test database: no old counts
    server = serve(rate_limits="1/5second")
    page.goto(server.url + "/")
    page.locator("#category-groups input").first.wait_for()
    page.get_by_label("At a stop or station").check()
    page.get_by_role("radio", name=re.compile("^Queen Victoria Square")).check()
    _category(page, "drugs_alcohol").check()
    marker = f"rate limit check {time.time_ns()}"
    page.get_by_label("What happened").fill(marker)

    within_one_window(5, need_s=4.9)  # the direct report and the page's in one window
    assert _post_report_directly(server.url) == 201  # uses this client's one report
    page.get_by_role("button", name="Send report").click()
    alert = page.get_by_role("alert")
    alert.get_by_text(re.compile("too many reports")).wait_for()
    page.shots.take(page, "rate-limited")
    assert_accessible(page, "rate limited")
    wait_s = int(re.search(r"wait (\d+) second", alert.inner_text()).group(1))
    assert 1 <= wait_s <= 5
    assert page.get_by_label("What happened").input_value() == marker
    assert page.get_by_role("radio", name=re.compile("^Queen Victoria Square")).is_checked()
    assert _category(page, "drugs_alcohol").is_checked()
    assert reports_with_description(browser_engine, marker) == []

    time.sleep(wait_s + 0.5)
    page.get_by_role("button", name="Send report").click()
    report = stored_report(browser_engine, _receipt_id(page))
    page.shots.take(page, "sent-after-waiting")
    assert report["stop_public_id"] == QVS.public_id
    assert len(reports_with_description(browser_engine, marker)) == 1
    keys = [post["idempotency-key"] for post in traffic.posts]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_quick_exit_replaces_the_page_and_its_history_entry(serve, phone_page) -> None:
    page, traffic = phone_page
    server = serve()
    page.goto(server.url + "/healthz")
    page.goto(server.url + "/")
    history_length = page.evaluate("() => history.length")
    with page.expect_request(QUICK_EXIT_URL):
        page.get_by_role("link", name="Leave this site quickly").click()
    assert QUICK_EXIT_URL in traffic.blocked  # the external site itself is never reached
    page.wait_for_load_state()
    assert not page.url.startswith(server.url + "/")
    assert page.evaluate("() => history.length") == history_length  # replaced, not pushed

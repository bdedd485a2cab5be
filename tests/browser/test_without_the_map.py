"""A location without the map (issue 17): a keyboard user finds a stop by name and reports."""

from __future__ import annotations

import re

from .helpers import assert_accessible, stored_report, tab_to
from .hull_network import STOPS

PARAGON, FERENSWAY, JAMESON, QVS, WHITEFRIARGATE = STOPS


def test_a_stop_found_by_name_with_the_keyboard_only(serve, desktop_page, browser_engine) -> None:
    page, _ = desktop_page
    server = serve()
    page.goto(server.url + "/")
    page.locator("#category-groups input").first.wait_for()
    keys = page.keyboard

    tab_to(page, 'input[name="context"]')
    keys.press("ArrowDown")  # street -> at a stop
    search = page.get_by_role("combobox", name=re.compile("^Or find it by name"))
    tab_to(page, "#stop-q")
    keys.type("white")
    option = page.get_by_role("option", name=re.compile("^Whitefriargate"))
    option.wait_for()
    assert search.get_attribute("aria-expanded") == "true"
    page.get_by_text(re.compile(r"^1 suggestion\.")).wait_for()
    assert_accessible(page, "stop suggestions")
    keys.press("ArrowDown")
    assert search.get_attribute("aria-activedescendant") == option.get_attribute("id")
    assert option.get_attribute("aria-selected") == "true"
    keys.press("Enter")
    page.get_by_text("Pin placed at the stop Whitefriargate.").wait_for()
    assert search.get_attribute("aria-expanded") == "false"
    assert page.get_by_role("radio", name=re.compile("^Whitefriargate")).is_checked()

    tab_to(page, 'input[value="isolated"]')
    keys.press("Space")
    tab_to(page, "#submit")
    keys.press("Enter")
    page.locator("#receipt").wait_for(state="visible")
    report = stored_report(browser_engine, page.locator("#receipt").get_attribute("data-report-id"))
    assert report["context"] == "at_stop"
    assert report["stop_public_id"] == WHITEFRIARGATE.public_id
    assert report["categories"] == ["isolated"]


def test_escape_closes_the_suggestions_and_nothing_is_chosen(serve, desktop_page) -> None:
    page, _ = desktop_page
    server = serve()
    page.goto(server.url + "/")
    page.get_by_label("At a stop or station").check()
    search = page.get_by_role("combobox", name=re.compile("^Or find it by name"))
    search.fill("queen")
    page.get_by_role("option", name=re.compile("^Queen Victoria Square")).wait_for()
    search.press("Escape")  # closes the list; it does not leave the site
    assert search.get_attribute("aria-expanded") == "false"
    assert page.url.startswith(server.url + "/")
    assert page.get_by_role("option").count() == 0  # the hidden list has no visible options
    assert not page.locator("#pin-status").inner_text().startswith("Pin placed")
    assert page.locator('input[name="stop"]:checked').count() == 0
    search.fill("zzzz")
    page.get_by_text("No matches.").wait_for()


def test_a_route_found_by_a_word_of_its_name_with_the_keyboard_only(
    serve, desktop_page, browser_engine
) -> None:
    page, _ = desktop_page
    server = serve()
    page.goto(server.url + "/")
    page.locator("#category-groups input").first.wait_for()
    keys = page.keyboard

    page.get_by_role("radio", name="On a bus, tram or train").focus()
    keys.press("Space")
    search = page.get_by_role("combobox", name="Route number or name")
    search.focus()
    keys.type("old town")  # the middle of "Paragon - Old Town", not its start
    option = page.get_by_role("option", name=re.compile(r"^5 – Paragon - Old Town"))
    option.wait_for()
    assert page.get_by_role("option").count() == 1
    page.get_by_text(re.compile(r"^1 suggestion\.")).wait_for()
    assert_accessible(page, "route suggestions")
    keys.press("ArrowDown")
    keys.press("Enter")
    page.get_by_text(re.compile("^Route 5 – Paragon - Old Town is shown on the map")).wait_for()
    assert search.input_value() == "5 – Paragon - Old Town"

    between = page.get_by_role("combobox", name=re.compile("^Between which stops"))
    between.focus()
    between.select_option(label=JAMESON.name)  # a native select, chosen with the keyboard
    page.get_by_text(f"Pin placed on the route at {JAMESON.name}.", exact=False).wait_for()
    page.get_by_role("checkbox", name=re.compile("^Being followed")).check()
    page.get_by_role("button", name="Send report").focus()
    keys.press("Enter")
    page.locator("#receipt").wait_for(state="visible")
    report = stored_report(browser_engine, page.locator("#receipt").get_attribute("data-report-id"))
    assert report["context"] == "on_vehicle"
    assert report["route_public_id"] == "browsertest:route-5"
    assert report["segment_from_name"] == JAMESON.name or report["segment_to_name"] == JAMESON.name


def test_a_street_report_placed_by_the_phone_s_location(serve, phone_page, browser_engine) -> None:
    page, _ = phone_page
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": QVS.lat + 0.001, "longitude": QVS.lon})
    server = serve()
    page.goto(server.url + "/")
    page.locator("#category-groups input").first.wait_for()
    page.get_by_role("button", name="Use my location").click()
    page.get_by_text(re.compile(r"^Pin placed at your location")).wait_for()
    page.get_by_role("checkbox", name=re.compile("^Badly lit")).check()
    page.get_by_role("button", name="Send report").click()
    page.locator("#receipt").wait_for(state="visible")
    report = stored_report(browser_engine, page.locator("#receipt").get_attribute("data-report-id"))
    assert report["context"] == "street"
    assert abs(report["lat"] - (QVS.lat + 0.001)) < 1e-5 and abs(report["lon"] - QVS.lon) < 1e-5

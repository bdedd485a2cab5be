"""The service in Welsh in a real browser (issue 17 item 1): /cy/ in Welsh with lang="cy",
the language link both ways, no cookie (the phone_page fixture fails a test that sets one),
Welsh error messages from the page's JavaScript and from the API, and the dashboard."""

from __future__ import annotations

import re

from babel import Locale

from .helpers import assert_accessible
from .test_team_dashboard import york_teams  # noqa: F401 - the fixture

CATEGORY_WAIT = "#category-groups input"


def test_cy_is_welsh_and_the_link_switches_both_ways_without_a_cookie(serve, phone_page) -> None:
    page, _ = phone_page
    server = serve()
    page.goto(server.url + "/cy/")
    page.locator(CATEGORY_WAIT).first.wait_for()
    assert page.evaluate("() => document.documentElement.lang") == "cy"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Rhowch wybod am le")
    # The categories come from the API, asked in the page's language.
    page.get_by_role("checkbox", name="Golau gwael").wait_for()
    page.get_by_role("group", name="Y lle").wait_for()
    assert page.get_by_role("link", name="Gadael y wefan hon yn gyflym").is_visible()
    page.shots.take(page, "welsh")
    assert_accessible(page, "welsh page")

    page.get_by_role("link", name="English").click()
    page.wait_for_url(server.url + "/")
    page.locator(CATEGORY_WAIT).first.wait_for()
    assert page.evaluate("() => document.documentElement.lang") == "en-GB"
    page.get_by_role("checkbox", name="Badly lit").wait_for()

    page.get_by_role("link", name="Cymraeg").click()
    page.wait_for_url(server.url + "/cy/")
    assert page.evaluate("() => document.documentElement.lang") == "cy"


def test_the_pages_own_problems_are_said_in_welsh(serve, phone_page) -> None:
    page, _ = phone_page
    page.goto(serve().url + "/cy/")
    page.locator(CATEGORY_WAIT).first.wait_for()
    page.get_by_role("button", name="Anfon yr adroddiad").click()
    summary = page.get_by_role("alert")
    # Two problems: Welsh's "two" plural form, from the catalogue through tn().
    summary.get_by_text("gwiriwch y 2 ateb hyn").wait_for()
    assert summary.get_by_role("link").all_inner_texts() == [
        "Gosodwch y pin lle digwyddodd.",
        "Dewiswch o leiaf un rheswm.",
    ]
    assert page.locator("#error-categories").inner_text() == "Dewiswch o leiaf un rheswm."
    page.shots.take(page, "welsh-problems")
    assert_accessible(page, "welsh problems")


def test_a_refusal_from_the_api_is_said_in_welsh(serve, desktop_page) -> None:
    page, traffic = desktop_page
    page.goto(serve().url + "/cy/")
    page.locator(CATEGORY_WAIT).first.wait_for()
    page.get_by_label("Ar fws, tram neu drên").check()
    page.locator("#map").focus()
    for _ in range(25):  # pan some kilometres south, away from every route
        page.keyboard.press("ArrowDown")
    page.get_by_role("button", name="Gosod y pin yng nghanol y map").click()
    page.get_by_role("checkbox", name="Golau gwael").check()
    with page.expect_response(re.compile(r"/api/v1/reports$")) as answer:
        page.get_by_role("button", name="Anfon yr adroddiad").click()
    response = answer.value
    assert response.status == 422
    assert response.headers["content-language"] == "cy"
    assert response.json()["message"].startswith("does dim llwybr bws o fewn 100 m")
    summary = page.get_by_role("alert")
    welsh = re.compile("^Does dim llwybr bws o fewn 100 m i'r pin")
    summary.get_by_role("link", name=welsh).wait_for()


def test_the_browsers_welsh_plural_rule_is_babels(serve, phone_page) -> None:
    page, _ = phone_page
    page.goto(serve().url + "/cy/")
    numbers = list(range(0, 120))
    browser = page.evaluate("(ns) => ns.map((n) => new Intl.PluralRules('cy').select(n))", numbers)
    rule = Locale.parse("cy").plural_form
    assert browser == [rule(n) for n in numbers]


def test_the_dashboard_in_welsh(team_page, serve, york_teams) -> None:  # noqa: F811
    page, _ = team_page
    server = serve()
    page.goto(f"{server.url}/cy/team")
    page.wait_for_url(re.compile(r".*/cy/team/login$"))
    assert page.evaluate("() => document.documentElement.lang") == "cy"
    page.get_by_label("Tocyn y tîm").fill(york_teams["a"])
    page.get_by_role("button", name="Mewngofnodi").click()
    page.wait_for_url(re.compile(r".*/cy/team/?$"))
    status = page.locator("#status")
    status.filter(has_text=re.compile(r"\d+ hecsagon,")).wait_for()
    assert page.get_by_role("heading", name="Mannau problemus").is_visible()
    page.get_by_label("Categorïau").locator("option", has_text="Golau gwael").first.wait_for(
        state="attached"
    )
    page.shots.take(page, "welsh-dashboard")
    assert_accessible(page, "welsh dashboard")
    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r".*/team/?$"))
    page.locator("#status").filter(has_text=re.compile(r"\d+ hexagons?,")).wait_for()

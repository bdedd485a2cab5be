"""The report page as a new user on a phone finds it (issue 17 item 6): errors written for
people, all shown at once and each linked to its own question; steps numbered as shown; the
receipt in view below the sticky header; quick exit from the keyboard."""

from __future__ import annotations

import re

from .conftest import QUICK_EXIT_URL
from .helpers import assert_accessible
from .hull_network import STOPS

PARAGON, FERENSWAY, JAMESON, QVS, WHITEFRIARGATE = STOPS
# What a developer reads in the API's messages and a person should never see.
FIELD_PATH = re.compile(r"\((?:transit|location|categories)\b|transit\.|route_id|stop_id")


def _numbers(page) -> list[str]:
    return page.locator(".step:not([hidden]) .step-no").all_inner_texts()


def test_the_questions_shown_are_numbered_one_by_one(serve, phone_page) -> None:
    page, _ = phone_page
    page.goto(serve().url + "/")
    page.locator("#category-groups input").first.wait_for()
    assert _numbers(page) == ["1", "2", "3", "4", "5"]  # street: no stop or route question
    page.get_by_label("At a stop or station").check()
    assert _numbers(page) == ["1", "2", "3", "4", "5", "6"]
    page.get_by_label("On a bus, tram or train").check()
    assert _numbers(page) == ["1", "2", "3", "4", "5", "6"]
    page.get_by_label("On a street or in a public place").check()
    assert _numbers(page) == ["1", "2", "3", "4", "5"]


def test_every_problem_is_shown_at_once_and_links_to_its_own_question(serve, phone_page) -> None:
    page, _ = phone_page
    page.goto(serve().url + "/")
    page.locator("#category-groups input").first.wait_for()
    page.get_by_label("On a bus, tram or train").check()
    page.get_by_role("combobox", name="Route number or name").fill("zzz")  # typed, never chosen
    page.get_by_role("button", name="Send report").click()

    summary = page.get_by_role("alert")
    summary.get_by_text("please check these 3 answers").wait_for()
    links = summary.get_by_role("link")
    assert links.count() == 3
    in_page_order = ["Place the pin", "Choose one of the suggested routes", "Choose at least one"]
    texts = links.all_inner_texts()
    starts = [text[: len(start)] for text, start in zip(texts, in_page_order, strict=True)]
    assert starts == in_page_order
    assert not FIELD_PATH.search(summary.inner_text())
    page.shots.take(page, "three-problems")
    assert_accessible(page, "three problems")
    # Each problem is also said beside its own question.
    assert page.locator("#error-transit-route_id").is_visible()
    assert page.locator("#error-location").is_visible()
    assert page.locator("#error-categories").is_visible()

    summary.get_by_role("link", name=re.compile("suggested routes")).click()
    assert page.evaluate("() => document.activeElement.id") == "route-q"
    summary.get_by_role("link", name=re.compile("reason")).click()
    assert page.evaluate("() => document.activeElement.name") == "categories"
    summary.get_by_role("link", name=re.compile("Place the pin")).click()
    assert page.evaluate("() => document.activeElement.id") == "map"


def test_a_refusal_from_the_api_is_said_for_people_at_the_route_question(
    serve, desktop_page
) -> None:
    page, _ = desktop_page
    page.goto(serve().url + "/")
    page.locator("#category-groups input").first.wait_for()
    page.get_by_label("On a bus, tram or train").check()
    page.locator("#map").focus()
    for _ in range(25):  # pan some kilometres south, away from every route
        page.keyboard.press("ArrowDown")
    page.get_by_role("button", name="Place pin at map centre").click()
    page.get_by_role("checkbox", name="Badly lit").check()
    page.get_by_role("button", name="Send report").click()

    summary = page.get_by_role("alert")
    link = summary.get_by_role("link", name=re.compile("^There is no bus route within 100 m"))
    link.wait_for()
    assert not FIELD_PATH.search(summary.inner_text())
    assert_accessible(page, "refused by the API")
    link.click()
    assert page.evaluate("() => document.activeElement.id") == "route-q"  # not step 2
    assert page.locator("#error-transit-route_id").is_visible()


def test_the_receipt_heading_is_below_the_sticky_header(serve, phone_page) -> None:
    page, _ = phone_page
    page.goto(serve().url + "/")
    page.locator("#category-groups input").first.wait_for()
    page.get_by_label("At a stop or station").check()
    page.get_by_role("radio", name=re.compile("^Jameson Street")).check()
    page.get_by_role("checkbox", name="Badly lit").check()
    page.get_by_role("button", name="Send report").click()
    heading = page.get_by_role("heading", name=re.compile("^Thank you"))
    heading.wait_for()
    page.wait_for_function("() => document.activeElement.id === 'receipt'")
    header = page.locator(".site-header").bounding_box()
    box = heading.bounding_box()
    assert box["y"] >= header["y"] + header["height"], (box, header)
    assert box["y"] + box["height"] <= page.viewport_size["height"]


def test_escape_leaves_the_site(serve, phone_page) -> None:
    page, _ = phone_page
    page.goto(serve().url + "/")
    page.locator("#category-groups input").first.wait_for()
    with page.expect_request(QUICK_EXIT_URL):
        page.keyboard.press("Escape")


def test_shift_three_times_leaves_the_site_and_typing_capitals_does_not(
    serve, desktop_page
) -> None:
    page, traffic = desktop_page
    page.goto(serve().url + "/")
    page.locator("#category-groups input").first.wait_for()
    page.get_by_label("What happened").focus()
    for letter in "ABC":  # Shift held for capitals, with letters between: stay
        page.keyboard.press(f"Shift+{letter}")
    page.wait_for_timeout(200)
    assert QUICK_EXIT_URL not in traffic.blocked
    with page.expect_request(QUICK_EXIT_URL):
        for _ in range(3):
            page.keyboard.press("Shift")

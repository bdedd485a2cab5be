"""axe-core finds no WCAG 2.2 A/AA violation (issue 17 item 2) on the states the other browser
tests do not already audit: the report page with each context at phone and desktop width, the
team sign-in page, empty and refused. The audit itself is shown to fail on a known fault."""

from __future__ import annotations

import pytest

from .helpers import assert_accessible

CONTEXTS = ("On a street or in a public place", "At a stop or station", "On a bus, tram or train")


def test_the_audit_fails_on_a_page_with_a_known_fault(serve, desktop_page) -> None:
    page, _ = desktop_page
    page.goto(serve().url + "/")
    page.evaluate(
        """() => {
          const button = document.createElement("button");  // no name, 10 x 10 px
          Object.assign(button.style, { width: "10px", height: "10px", padding: "0" });
          const next = button.cloneNode();  // right beside it: too small a target (WCAG 2.5.8)
          next.setAttribute("aria-label", "next");
          const faint = document.createElement("p");
          Object.assign(faint.style, { color: "#bbb", background: "#fff" });
          faint.textContent = "faint text";
          document.querySelector("main").append(button, next, faint);
        }"""
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, "known fault")
    assert "button-name" in str(failure.value)
    assert "color-contrast" in str(failure.value)
    assert "target-size" in str(failure.value)


@pytest.mark.parametrize("device", ["phone_page", "desktop_page"])
def test_the_report_page_in_each_context(serve, device, request) -> None:
    page, _ = request.getfixturevalue(device)
    page.goto(serve().url + "/")
    page.locator("#category-groups input").first.wait_for()
    for label in CONTEXTS:
        page.get_by_label(label).check()
        if label.startswith("At a stop"):
            page.locator("#stop-list[aria-busy='false'] input").first.wait_for()
        assert_accessible(page, label)
    page.get_by_label("Another day").check()
    assert_accessible(page, "another day")


def test_the_team_sign_in_page_empty_and_refused(serve, team_page) -> None:
    page, _ = team_page
    page.goto(serve().url + "/team/login")
    assert_accessible(page, "sign in")
    page.get_by_label("Team token").fill("not-a-token-at-all")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").wait_for()
    assert_accessible(page, "sign in refused")

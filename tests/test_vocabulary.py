"""The one vocabulary: what the importers, the pages and the API spell is pinned to it.

tests/test_migrations.py pins the migrations and the database they build.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from streetsafe.demo.seeding import CATEGORY_WEIGHTS
from streetsafe.reports.schema import ReportIn
from streetsafe.transit.gtfs import ROUTE_TYPE_MODES, route_type_mode
from streetsafe.transit.naptan import STOP_TYPE_MODES
from streetsafe.vocabulary import CATEGORIES, CATEGORY_IDS, CONTEXTS, GROUPS, MODES, TIME_ZONE

PACKAGE = Path(__file__).resolve().parents[1] / "streetsafe"
HULL = "-0.36,53.73,-0.32,53.76"


def _values(template: str, pattern: str) -> list[str]:
    return re.findall(pattern, (PACKAGE / template).read_text())


def test_category_ids_are_unique_and_every_group_is_known() -> None:
    assert len(set(CATEGORY_IDS)) == len(CATEGORIES)
    assert {category.group for category in CATEGORIES} == set(GROUPS)


def test_every_mode_the_importers_give_is_in_the_vocabulary() -> None:
    given = {mode for _, _, mode in ROUTE_TYPE_MODES} | set(STOP_TYPE_MODES.values())
    assert given | {route_type_mode(9999)} <= set(MODES)


def test_the_report_page_offers_exactly_the_contexts() -> None:
    radios = _values("web/templates/web/report.html", r'name="context" value="([a-z_]+)"')
    assert sorted(radios) == sorted(CONTEXTS)


def test_the_dashboard_filters_offer_only_known_contexts_and_modes() -> None:
    template = (PACKAGE / "team/templates/team/dashboard.html").read_text()
    contexts = re.search(r'<select name="context">(.*?)</select>', template, re.S)
    modes = re.search(r'<select name="mode">(.*?)</select>', template, re.S)
    assert contexts and modes
    offered = set(re.findall(r'value="([a-z_]+)"', contexts.group(1)))
    assert offered == set(CONTEXTS)
    assert set(re.findall(r"<option>([a-z_]+)</option>", modes.group(1))) <= set(MODES)


def test_the_report_schema_accepts_exactly_the_contexts_and_modes() -> None:
    schema = ReportIn.model_json_schema()
    enums = [
        tuple(found["enum"])
        for found in _walk(schema)
        if isinstance(found, dict) and isinstance(found.get("enum"), list)
    ]
    assert CONTEXTS in enums
    assert MODES in enums


@pytest.mark.parametrize("name, values", [("context", CONTEXTS), ("mode", MODES),
                                          ("categories", CATEGORY_IDS)])  # fmt: skip
def test_the_hotspot_filters_accept_every_term_and_refuse_others(client, name, values) -> None:
    for value in values:
        response = client.get(f"/api/v1/hotspots/cells?res=9&bbox={HULL}&{name}={value}")
        assert response.status_code == 200, (value, response.get_json())
    refused = client.get(f"/api/v1/hotspots/cells?res=9&bbox={HULL}&{name}=not_a_term")
    assert refused.status_code == 400
    assert refused.get_json()["field"] == name


def test_the_demo_weights_only_known_categories() -> None:
    assert set(CATEGORY_WEIGHTS) <= set(CATEGORY_IDS)


def _walk(node: object):
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        yield from _walk(child)


def test_the_time_zone_is_spelled_only_in_the_vocabulary() -> None:
    spelled = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "vocabulary.py"
        and any(
            isinstance(node, ast.Constant) and node.value == TIME_ZONE
            for node in ast.walk(ast.parse(path.read_text()))
        )
    ]
    assert spelled == []

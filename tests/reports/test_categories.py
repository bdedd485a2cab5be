"""GET /api/v1/categories: the contract's ids, in their groups."""

from __future__ import annotations

EXPECTED = {
    "environment": ["no_cctv", "badly_lit", "isolated", "poor_layout", "restricted_visibility",
                    "rundown", "drugs_alcohol"],
    "behaviour": ["verbal_harassment_single", "verbal_harassment_group", "followed",
                  "unwanted_sexual_behaviour", "intimidating_behaviour"],
    "transport": ["no_staff", "long_wait_after_dark", "overcrowding"],
    "other": ["other"],
}


def test_categories_list_every_id_in_its_group(client):
    response = client.get("/api/v1/categories")
    assert response.status_code == 200
    body = response.get_json()
    grouped: dict[str, list[str]] = {}
    for item in body:
        assert set(item) == {"id", "label", "group"} and item["label"]
        grouped.setdefault(item["group"], []).append(item["id"])
    assert grouped == EXPECTED
    assert "Set-Cookie" not in response.headers

"""OpenAPI 3.1 document built from the request/response models, and the docs page."""

from __future__ import annotations

from openapi_spec_validator import validate

from streetsafe.reports.schema import ReportIn


def test_openapi_document_is_valid_3_1_and_uses_the_intake_models(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    post = spec["paths"]["/api/v1/reports"]["post"]
    body_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref == "#/components/schemas/ReportIn"
    schema = spec["components"]["schemas"]["ReportIn"]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(ReportIn.model_fields)
    assert {"201", "400", "413", "415", "422", "429"} <= set(post["responses"])
    for path in ("/api/v1/categories", "/api/v1/transit/stops/nearby", "/api/v1/transit/routes",
                 "/api/v1/transit/routes/{route_id}", "/api/v1/reports/{report_id}"):
        assert path in spec["paths"]


def test_docs_page_is_served_by_the_app_without_external_assets(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "POST" in html.upper() and "/api/v1/reports" in html and "ReportIn" in html
    assert "http://" not in html and "https://cdn" not in html

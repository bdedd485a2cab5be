"""OpenAPI 3.1 for the whole API, built from the pydantic models that validate and serialise.

How a blueprint documents an operation: decorate its view with `operation`, naming the path
(OpenAPI syntax, `{id}`), the method, and the pydantic models of its query string, JSON body
and responses. The decorator only records the operation in a module-level registry and
returns the view unchanged; `build_spec()` turns every recorded operation into one
document, with each model's JSON Schema (pydantic's `model_json_schema`, which is JSON
Schema 2020-12 as OpenAPI 3.1 expects) under `components/schemas`.

    from .openapi import operation

    @bp.get("/layers/<layer>")
    @operation("/api/v1/layers/{layer}", "get", tag="hotspots", summary="A hotspot layer",
               query=LayerQuery, responses={200: LayerCollection, 404: ErrorBody},
               path_params={"layer": "The layer's id"})
    def layer(layer: str): ...

`responses` maps a status to a model, to None (no body), or to a `(model, description)`
pair; every operation also gets the shared `ErrorBody` for 400/422/429 unless given.
`GET /api/v1/openapi.json` serves the document and `GET /api/docs` renders it as HTML with
a template of our own (no CDN, no JavaScript needed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

F = TypeVar("F", bound=Callable[..., Any])
ResponseSpec = type[BaseModel] | None | tuple[type[BaseModel] | None, str]

REF_TEMPLATE = "#/components/schemas/{model}"
API_TITLE = "StreetSafe API"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "Anonymous reports of places where people felt unsafe, snapped to streets, stops and "
    "transit routes, and the transit data the report form needs. Nothing about who sends a "
    "report is stored or logged. Errors are always "
    '`{"error": code, "message": text, "field": "dotted.path" | null}`.'
)


class ErrorBody(BaseModel):
    """Every error response: a code, a human-readable message, and the field at fault."""

    model_config = ConfigDict(extra="forbid")

    error: str = Field(description="A stable machine-readable code, e.g. invalid_request")
    message: str = Field(description="What is wrong and how to fix it")
    field: str | None = Field(
        description="Dotted path of the offending field or header; null for the whole body"
    )


_DEFAULT_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    400: "Invalid request; `field` names the offending part",
    404: "Not found",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Well-formed but cannot be processed; `field` names the offending part",
    429: "Too many requests; see Retry-After",
}


@dataclass(frozen=True)
class Operation:
    """One documented operation (path in OpenAPI syntax, lower-case method)."""

    path: str
    method: str
    summary: str
    tag: str
    description: str = ""
    query: tuple[type[BaseModel], ...] = ()
    body: type[BaseModel] | None = None
    responses: dict[int, ResponseSpec] = field(default_factory=dict)
    path_params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # Media types of the success response when it is not plain JSON of its model:
    # media type -> the model for JSON-like types, None for text or binary bodies.
    media: dict[str, type[BaseModel] | None] = field(default_factory=dict)
    # Query fields of the models that this operation does not take (tiles: res and bbox).
    query_exclude: frozenset[str] = frozenset()


_REGISTRY: list[Operation] = []


def operation(
    path: str,
    method: str,
    *,
    summary: str,
    tag: str,
    description: str = "",
    query: type[BaseModel] | tuple[type[BaseModel], ...] | None = None,
    body: type[BaseModel] | None = None,
    responses: dict[int, ResponseSpec] | None = None,
    path_params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    media: dict[str, type[BaseModel] | None] | None = None,
    query_exclude: frozenset[str] = frozenset(),
) -> Callable[[F], F]:
    """Record an operation for the OpenAPI document; the view is returned unchanged.

    `query` is the model (or models, in order) the view validates its query string into.
    """
    recorded = Operation(
        path=path,
        method=method.lower(),
        summary=summary,
        tag=tag,
        description=description,
        query=query if isinstance(query, tuple) else (query,) if query else (),
        body=body,
        responses=dict(responses or {}),
        path_params=dict(path_params or {}),
        headers=dict(headers or {}),
        media=dict(media or {}),
        query_exclude=frozenset(query_exclude),
    )

    def decorator(view: F) -> F:
        if not any(o.path == path and o.method == recorded.method for o in _REGISTRY):
            _REGISTRY.append(recorded)
        return view

    return decorator


def registered_operations() -> list[Operation]:
    """Every operation recorded so far, in registration order."""
    return list(_REGISTRY)


def _response_model(spec: ResponseSpec) -> tuple[type[BaseModel] | None, str | None]:
    if isinstance(spec, tuple):
        return spec
    return spec, None


def _models(operations: list[Operation]) -> list[tuple[type[BaseModel], str]]:
    """Each model with the JSON Schema mode it is used in (request bodies validate)."""
    seen: dict[tuple[type[BaseModel], str], None] = {(ErrorBody, "serialization"): None}
    for op in operations:
        if op.body is not None:
            seen[(op.body, "validation")] = None
        for model in op.query:
            seen[(model, "validation")] = None
        for spec in op.responses.values():
            model, _ = _response_model(spec)
            if model is not None:
                seen[(model, "serialization")] = None
        for model in op.media.values():
            if model is not None:
                seen[(model, "serialization")] = None
    return list(seen)


def _parameters(op: Operation, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": text,
            "schema": {"type": "string"},
        }
        for name, text in op.path_params.items()
    ]
    for model in op.query:
        schema = schemas[model.__name__]
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            if name in op.query_exclude:
                continue
            param = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    for name, text in op.headers.items():
        params.append(
            {
                "name": name,
                "in": "header",
                "required": False,
                "description": text,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        )
    return params


def _responses(op: Operation) -> dict[str, Any]:
    specs: dict[int, ResponseSpec] = {400: ErrorBody, 429: ErrorBody}
    specs.update(op.responses)
    out: dict[str, Any] = {}
    for status in sorted(specs):
        model, description = _response_model(specs[status])
        entry: dict[str, Any] = {
            "description": description or _DEFAULT_DESCRIPTIONS.get(status, "Response")
        }
        if 200 <= status < 300 and op.media:
            entry["content"] = {
                media_type: {"schema": _media_schema(media_type, media_model)}
                for media_type, media_model in op.media.items()
            }
        elif model is not None:
            entry["content"] = {
                "application/json": {"schema": {"$ref": REF_TEMPLATE.format(model=model.__name__)}}
            }
        out[str(status)] = entry
    return out


def _media_schema(media_type: str, model: type[BaseModel] | None) -> dict[str, Any]:
    if model is not None:
        return {"$ref": REF_TEMPLATE.format(model=model.__name__)}
    if media_type.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "contentMediaType": media_type}


def _operation_object(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "operationId": f"{op.method}_{op.path.strip('/').replace('/', '_')}".replace(
            "{", ""
        ).replace("}", ""),
        "summary": op.summary,
        "tags": [op.tag],
        "responses": _responses(op),
    }
    if op.description:
        obj["description"] = op.description
    parameters = _parameters(op, schemas)
    if parameters:
        obj["parameters"] = parameters
    if op.body is not None:
        obj["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": REF_TEMPLATE.format(model=op.body.__name__)}
                }
            },
        }
    return obj


def build_spec(operations: list[Operation] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document for the given operations (default: every registered one)."""
    operations = registered_operations() if operations is None else operations
    _, top = models_json_schema(_models(operations), ref_template=REF_TEMPLATE)
    schemas: dict[str, Any] = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = _operation_object(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": API_TITLE,
            "version": API_VERSION,
            "description": API_DESCRIPTION,
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


@cache
def _cached_spec(count: int) -> dict[str, Any]:
    # Keyed on the registry size: operations are registered once, when blueprints are imported.
    return build_spec()


bp = Blueprint("openapi", __name__, template_folder="templates")


@bp.get("/api/v1/openapi.json")
def openapi_json() -> ResponseReturnValue:
    """The OpenAPI 3.1 document."""
    return jsonify(_cached_spec(len(_REGISTRY)))


@bp.get("/api/docs")
def api_docs() -> ResponseReturnValue:
    """The OpenAPI document rendered as a readable HTML page."""
    spec = _cached_spec(len(_REGISTRY))
    return render_template("api_docs.html", spec=spec)

"""Turn request input into typed models, and pydantic's errors into our one error shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import InvalidRequest
from ..reports.schema import field_of_error

M = TypeVar("M", bound=BaseModel)


def invalid_from(exc: ValidationError, prefix: str = "") -> InvalidRequest:
    """The first validation error as an InvalidRequest naming its field."""
    first = exc.errors(include_url=False)[0]
    field = field_of_error(first)
    if first["type"] == "extra_forbidden":
        return InvalidRequest(f"unknown field {field!r}", field)
    if first["type"] == "json_invalid":
        return InvalidRequest(f"the body is not valid JSON: {first['msg']}", None)
    message = str(first["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return InvalidRequest(f"{prefix}{field}: {message}" if field else message, field)


def parse_query(model: type[M], args: Mapping[str, str]) -> M:
    """Validate a query string (first value of each parameter) into `model`; 400 on error."""
    try:
        return model.model_validate(dict(args.items()))
    except ValidationError as exc:
        raise invalid_from(exc) from None


def parse_json(model: type[M], data: object) -> M:
    """Validate an already-decoded JSON body into `model`; 400 naming the field on error."""
    if data is None:
        raise InvalidRequest("the body must be a JSON object", None)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from None

"""Turn request input into typed models, and pydantic's errors into our one error shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import InvalidRequest
from ..i18n import lazy_gettext as _l
from ..reports.schema import field_of_error
from ..validation import error_message

M = TypeVar("M", bound=BaseModel)


def invalid_from(exc: ValidationError, prefix: str = "") -> InvalidRequest:
    """The first validation error as an InvalidRequest naming its field."""
    first = exc.errors(include_url=False)[0]
    field = field_of_error(first)
    if first["type"] == "extra_forbidden":
        return InvalidRequest(_l("unknown field %(field)r", field=field), field)
    if first["type"] == "json_invalid":
        return InvalidRequest(
            _l("the body is not valid JSON: %(detail)s", detail=first["msg"]), None
        )
    message = error_message(first)
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
        raise InvalidRequest(_l("the body must be a JSON object"), None)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from None

"""Turn request input into typed models (errors.invalid_from translates what pydantic refuses).

`invalid_from` is imported here too, for the callers that found it here first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import InvalidRequest, invalid_from
from ..i18n import lazy_gettext as _l

__all__ = ["invalid_from", "parse_json", "parse_query"]

M = TypeVar("M", bound=BaseModel)


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

"""One error hierarchy, the HTTP status on the class, and one JSON renderer for all of them."""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

if TYPE_CHECKING:
    from pydantic import ValidationError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Base of every error the API renders as {"error", "message", "field"}."""

    status = 400
    code = "invalid_request"

    def __init__(
        self, message: str, field: str | None = None, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = headers or {}

    def to_dict(self) -> dict[str, object]:
        """The JSON body."""
        return {"error": self.code, "message": self.message, "field": self.field}


class InvalidRequest(ApiError):
    status = 400
    code = "invalid_request"


class Unprocessable(ApiError):
    """Well-formed but not acceptable (unknown stop, nothing to snap to, idempotency mismatch)."""

    status = 422
    code = "unprocessable"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class ServiceUnavailable(ApiError):
    status = 503
    code = "unavailable"


class FieldError(ValueError):
    """A validator's ValueError that knows its field: below the validator's own location, or
    (root) instead of it, as a model validator names the field it refuses."""

    def __init__(self, message: str, where: str | int, root: bool = False) -> None:
        super().__init__(message)
        self.where = where
        self.root = root


def field_of_error(error: dict) -> str | None:
    """The dotted field of a pydantic error dict, refined by a FieldError's own location."""
    loc = [str(part) for part in error["loc"]]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        loc = [str(cause.where)] if cause.root else [*loc, str(cause.where)]
    return ".".join(loc) if loc else None


def invalid_from(exc: ValidationError, prefix: str = "") -> InvalidRequest:
    """The one translator of pydantic's errors: the first one as an InvalidRequest naming
    its field (bodies, query strings and hotspot queries alike)."""
    first = exc.errors(include_url=False)[0]
    field = field_of_error(first)
    if first["type"] == "extra_forbidden":
        return InvalidRequest(f"unknown field {field!r}", field)
    if first["type"] == "json_invalid":
        return InvalidRequest(f"the body is not valid JSON: {first['msg']}", None)
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidRequest(f"{prefix}{field}: {message}" if field else message, field)


def error_response(error: ApiError) -> Response:
    """Render an ApiError as JSON with its status and headers."""
    response = jsonify(error.to_dict())
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    429: "rate_limited",
}


def register_error_handlers(app: Flask) -> None:
    """Every error, ours or Werkzeug's, leaves as the same JSON shape."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        body = ApiError(error.description or error.name)
        body.code = _HTTP_CODES.get(status, "http_error")
        response = error_response(body)
        response.status_code = status
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError

        if isinstance(error, OperationalError | TimeoutError) or (
            isinstance(error, DBAPIError) and error.connection_invalidated
        ):
            log.warning("database unavailable: %s", type(error).__name__)
            unavailable = ServiceUnavailable(
                "the database is unavailable; retry shortly", headers={"Retry-After": "5"}
            )
            return error_response(unavailable)
        # The type and the frames, never the message: a database error's message can quote
        # the request's data (a report's description inside a JSON parse error, say).
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error("unhandled error %s\n%s", type(error).__name__, frames)
        body = ApiError("internal error; this is a bug, please report it")
        body.code = "internal_error"
        response = error_response(body)
        response.status_code = 500
        return response

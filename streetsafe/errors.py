"""One error hierarchy, the HTTP status on the class, and one JSON renderer for all of them."""

from __future__ import annotations

import logging
import re
import traceback
from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from .i18n import N_, Message, gettext, lazy_gettext
from .validation import error_message

if TYPE_CHECKING:
    from pydantic import ValidationError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Base of every error the API renders as {"error", "message", "field"}.

    `message` is usually a lazy_gettext string: it is put into words when the response is
    rendered, in the language the request chose (English outside a request).
    """

    status = 400
    code = "invalid_request"

    def __init_subclass__(cls, status: int, code: str, **kwargs: object) -> None:
        """Each kind of error names its HTTP status and its `error` code where it is declared:
        `class NotFound(ApiError, status=404, code="not_found")`."""
        super().__init_subclass__(**kwargs)
        cls.status, cls.code = status, code

    def __init__(
        self, message: Message, field: str | None = None, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = headers or {}

    def to_dict(self) -> dict[str, object]:
        """The JSON body."""
        return {"error": self.code, "message": str(self.message), "field": self.field}


class InvalidRequest(ApiError, status=400, code="invalid_request"):
    """A parameter or body that does not parse or is out of range."""


class Unprocessable(ApiError, status=422, code="unprocessable"):
    """Well-formed but not acceptable (unknown stop, nothing to snap to, idempotency mismatch)."""


class NotFound(ApiError, status=404, code="not_found"):
    """No such thing (or not this client's to see)."""


class Unauthorized(ApiError, status=401, code="unauthorized"):
    """No valid team token or session."""


class Forbidden(ApiError, status=403, code="forbidden"):
    """Signed in, but not allowed (another team's area, a programme token)."""


class PayloadTooLarge(ApiError, status=413, code="payload_too_large"):
    """A body over the size bound."""


class UnsupportedMediaType(ApiError, status=415, code="unsupported_media_type"):
    """A body that is not JSON."""


class ServiceUnavailable(ApiError, status=503, code="unavailable"):
    """The database (or its replica) is down or too slow: try again (Retry-After)."""


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
        return InvalidRequest(lazy_gettext("unknown field %(field)r", field=field), field)
    if first["type"] == "json_invalid":
        detail = first["msg"]
        return InvalidRequest(lazy_gettext("the body is not valid JSON: %(detail)s", detail=detail),
                              None)  # fmt: skip
    message = error_message(first)
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


# Werkzeug's own descriptions, word for word (tests/test_i18n.py pins them), so that its 404s
# and 405s can be answered in Welsh too.
_WERKZEUG_DESCRIPTIONS = (
    N_("The requested URL was not found on the server. If you entered the URL manually please "
       "check your spelling and try again."),
    N_("The method is not allowed for the requested URL."),
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_("The data value transmitted exceeds the capacity limit."),
    N_("The server does not support the media type transmitted in the request."),
)
# Flask-Limiter describes a breached limit as the limit itself ("10 per 1 minute").
_LIMIT = re.compile(r"(\d+) per (\d+) (second|minute|hour|day|month|year)")


def http_message(description: str) -> str:
    """A Werkzeug or Flask-Limiter description in the reader's language (else as it is)."""
    if description in _WERKZEUG_DESCRIPTIONS:
        return gettext(description)
    limit = _LIMIT.fullmatch(description)
    if limit:
        units = {"second": N_("second"), "minute": N_("minute"), "hour": N_("hour"),
                 "day": N_("day"), "month": N_("month"), "year": N_("year")}  # fmt: skip
        return gettext("%(amount)s per %(multiple)s %(unit)s", amount=limit[1],
                       multiple=limit[2], unit=gettext(units[limit[3]]))  # fmt: skip
    return description


def register_error_handlers(app: Flask) -> None:
    """Every error, ours or Werkzeug's, leaves as the same JSON shape."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        body = ApiError(http_message(error.description or error.name))
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
                lazy_gettext("the database is unavailable; retry shortly"),
                headers={"Retry-After": "5"},
            )
            return error_response(unavailable)
        # The type and the frames, never the message: a database error's message can quote
        # the request's data (a report's description inside a JSON parse error, say).
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error("unhandled error %s\n%s", type(error).__name__, frames)
        body = ApiError(lazy_gettext("internal error; this is a bug, please report it"))
        body.code = "internal_error"
        response = error_response(body)
        response.status_code = 500
        return response

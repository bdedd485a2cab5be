"""Public endpoints: categories and report intake. No cookies, no client data logged."""

from __future__ import annotations

import uuid

from flask import Blueprint, Request, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, RootModel
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge

from ..current import current_settings
from ..db import db_session
from ..errors import InvalidRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from ..i18n import Message
from ..i18n import lazy_gettext as _l
from ..reports import idempotency
from ..reports.intake import load_receipt, parse_report, report_writer, submit_report
from ..reports.schema import MAX_BODY_BYTES, Receipt, ReportIn
from ..vocabulary import CATEGORIES
from .openapi import ErrorBody, operation

bp = Blueprint("public", __name__, url_prefix="/api/v1")


class CategoryItem(BaseModel):
    id: str
    label: str
    group: str


class CategoryList(RootModel[list[CategoryItem]]):
    """Every reason a report may give, in form order."""


@bp.get("/categories")
@operation(
    "/api/v1/categories",
    "get",
    tag="reports",
    summary="The categories a report may name",
    responses={200: CategoryList},
)
def categories() -> ResponseReturnValue:
    """Every category with its label and group."""
    return jsonify([category.to_dict() for category in CATEGORIES])


def parse_report_body(req: Request) -> ReportIn:
    """The request's JSON body as a ReportIn: 415, 413 or 400 naming the field otherwise."""
    if req.mimetype != "application/json":
        raise UnsupportedMediaType(
            _l("send the report as JSON with Content-Type: application/json"), "Content-Type"
        )
    if (req.content_length or 0) > MAX_BODY_BYTES:
        raise PayloadTooLarge(_too_large(), None)
    req.max_content_length = MAX_BODY_BYTES  # also bounds chunked bodies without a length
    try:
        data = req.get_data(cache=False)
    except RequestEntityTooLarge:
        raise PayloadTooLarge(_too_large(), None) from None
    if len(data) > MAX_BODY_BYTES:  # a chunked body the guards read before the view
        raise PayloadTooLarge(_too_large(), None)
    return parse_report(data)


def _too_large() -> Message:
    return _l("the body is larger than %(limit)s bytes", limit=MAX_BODY_BYTES)


def idempotency_key(headers: Headers) -> str | None:
    """The Idempotency-Key header (1 to 255 visible ASCII characters), if sent."""
    key = headers.get(idempotency.HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= idempotency.MAX_KEY_LENGTH or not all(
        33 <= ord(ch) <= 126 for ch in key
    ):
        raise InvalidRequest(
            _l("%(header)s must be 1 to %(max)s visible ASCII characters (a UUID is a good "
               "choice)", header=idempotency.HEADER, max=idempotency.MAX_KEY_LENGTH),
            idempotency.HEADER,
        )
    return key


def _receipt_response(body: dict, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/reports")
@operation(
    "/api/v1/reports",
    "post",
    tag="reports",
    summary="Report a place where you felt unsafe",
    description=(
        "Anonymous: no address, user agent or cookie is stored or logged. The point is "
        "snapped to a stop or route according to `context`; the response is the receipt. "
        "Send an Idempotency-Key to make retries safe. Limited per client (429)."
    ),
    body=ReportIn,
    responses={201: Receipt, 413: ErrorBody, 415: ErrorBody, 422: ErrorBody},
    headers={idempotency.HEADER: "Makes retries safe: same key and body, same response"},
)
def create_report() -> ResponseReturnValue:
    """Validate, snap, store; 201 with the receipt and its Location."""
    report_in = parse_report_body(request)
    key = idempotency_key(request.headers)
    submission = submit_report(
        db_session(), report_in, current_settings(), key, writer=report_writer()
    )
    response = _receipt_response(submission.body, submission.status)
    response.headers["Location"] = url_for("public.report", report_id=submission.body["id"])
    if submission.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/reports/<report_id>")
@operation(
    "/api/v1/reports/{report_id}",
    "get",
    tag="reports",
    summary="A report's receipt (never its description)",
    path_params={"report_id": "The id returned when the report was made"},
    responses={200: Receipt, 404: ErrorBody},
)
def report(report_id: str) -> ResponseReturnValue:
    """The receipt of one report, for whoever holds its unguessable id."""
    try:
        parsed = uuid.UUID(report_id)
    except ValueError:
        raise NotFound(_l("no report with this id"), "report_id") from None
    receipt = load_receipt(db_session(), parsed)
    if receipt is None:
        raise NotFound(_l("no report with this id"), "report_id")
    return _receipt_response(receipt.model_dump(mode="json"))

"""Public endpoints: categories and report intake. No cookies, no client data logged."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, RootModel

from ..reports.categories import CATEGORIES
from .openapi import operation

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

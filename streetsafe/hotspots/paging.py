"""Pages of a public layer: at most MAX_FEATURES features per response, a `next` link for more.

A page is DEFAULT_FEATURES features unless `limit` asks for up to MAX_FEATURES: building a
feature (categories, perturbation, GeoJSON) costs 60-100 µs, so 2,000 stay inside the 300 ms
bound of issue 14 with room for the rest of the request.

Features are in id order, so a page is the same set of features whatever else changes in the
query string; `numberMatched` counts published features only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import invalid_from
from ..i18n import gettext
from .formats import FORMATS, check_format

DEFAULT_FEATURES, MAX_FEATURES = 1_000, 2_000


@dataclass(frozen=True)
class Page:
    """`limit` features from `offset` on."""

    limit: int = DEFAULT_FEATURES
    offset: int = 0


class PageQuery(BaseModel):
    """A layer response's format and page: the parameters beside the HotspotQuery."""

    model_config = ConfigDict(frozen=True)

    format: Literal[FORMATS] = "geojson"  # type: ignore[valid-type]
    limit: int = Field(
        DEFAULT_FEATURES, ge=1, le=MAX_FEATURES,
        description="Features per response (default 1,000, max 2,000)",
    )  # fmt: skip
    offset: int = Field(0, ge=0, description="Features to skip (follow the `next` link)")

    @field_validator("format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Any:
        return check_format(value)

    @field_validator("limit", mode="before")
    @classmethod
    def _limit(cls, value: Any) -> int:
        if not str(value).isdigit() or not 1 <= int(value) <= MAX_FEATURES:
            raise ValueError(gettext("must be a whole number 1-%(most)s; follow the response's "
                                     "next link for more features", most=MAX_FEATURES))
        return int(value)

    @field_validator("offset", mode="before")
    @classmethod
    def _offset(cls, value: Any) -> int:
        if not str(value).isdigit() or int(value) > 10**9:
            raise ValueError(gettext("must be a whole number, 0 or more"))
        return int(value)

    @property
    def page(self) -> Page:
        """The features this response holds."""
        return Page(self.limit, self.offset)


def parse_page(args: Mapping[str, str]) -> PageQuery:
    """`format`, `limit` (1-MAX_FEATURES, default DEFAULT_FEATURES) and `offset` from a query
    string; a 400 naming the parameter otherwise."""
    try:
        wanted = {k: v for k, v in args.items() if k in PageQuery.model_fields}
        return PageQuery.model_validate(wanted)
    except ValidationError as exc:
        raise invalid_from(exc) from None


def page_links(base_url: str, args: Mapping[str, str], page: Page, total: int) -> list[dict]:
    """next/prev links (OGC API style) when the layer holds more than the page."""

    def href(offset: int) -> str:
        query = {k: v for k, v in args.items() if k not in ("limit", "offset")}
        query.update(limit=str(page.limit), offset=str(offset))
        return f"{base_url}?{urlencode(query)}"

    links = []
    if page.offset + page.limit < total:
        links.append({"rel": "next", "type": "application/geo+json",
                      "href": href(page.offset + page.limit)})  # fmt: skip
    if page.offset > 0:
        links.append({"rel": "prev", "type": "application/geo+json",
                      "href": href(max(page.offset - page.limit, 0))})  # fmt: skip
    return links

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
from urllib.parse import urlencode

from ..errors import InvalidRequest
from ..i18n import lazy_gettext as _l

DEFAULT_FEATURES, MAX_FEATURES = 1_000, 2_000


@dataclass(frozen=True)
class Page:
    """`limit` features from `offset` on."""

    limit: int = DEFAULT_FEATURES
    offset: int = 0


def parse_page(args: Mapping[str, str]) -> Page:
    """`limit` (1-MAX_FEATURES, default DEFAULT_FEATURES) and `offset` from a query string."""
    limit, offset = args.get("limit", str(DEFAULT_FEATURES)), args.get("offset", "0")
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_FEATURES:
        raise InvalidRequest(
            _l("limit: must be a whole number 1-%(most)s; follow the response's next link for "
               "more features", most=MAX_FEATURES),
            "limit",
        )
    if not offset.isdigit() or int(offset) > 10**9:
        raise InvalidRequest(_l("offset: must be a whole number, 0 or more"), "offset")
    return Page(int(limit), int(offset))


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

"""Disclosure control: the one step every public hotspot output passes through.

- a feature counting fewer than K reports (STREETSAFE_MIN_PUBLISHED_COUNT) is left out, and
  the layer says how many were;
- published counts are rounded to a multiple of STREETSAFE_PUBLIC_ROUNDING, never below K;
- category counts under K are merged into `other_suppressed` (the number of reports having
  any merged category, each report once); while that remainder is itself under K, or while
  some published number could be derived by subtracting two others of the same feature, the
  smallest remaining category joins it. No published number lies in 1..K-1.
Descriptions never reach this module: features carry counts and public transit names only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

from ..config import Settings
from .aggregate import HotspotFeature
from .rollups import ALL_CATEGORIES_MASK, CATEGORY_BITS

OTHER_SUPPRESSED = "other_suppressed"


@dataclass(frozen=True)
class PublicFeature:
    """A feature as the public sees it: rounded count, safe category breakdown."""

    id: str
    geometry: BaseGeometry
    count: int
    categories: dict[str, int]
    properties: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class PublicLayer:
    """The published features, how many were withheld, and the rules applied."""

    features: list[PublicFeature]
    suppressed: int
    min_published_count: int
    rounding: int
    withheld_ids: tuple[str, ...] = ()


def round_count(n: int, k: int, base: int) -> int:
    """`n` (at least k) rounded half up to a multiple of `base`, and never below k."""
    rounded = math.floor(n / base + 0.5) * base
    return max(rounded, math.ceil(k / base) * base)


def is_safe(total: int, categories: dict[str, int], k: int) -> bool:
    """No number under k, and no difference of two numbers (or total minus sum) in 1..k-1."""
    numbers = sorted([total, *categories.values()])
    if any(0 < n < k for n in numbers):
        return False
    # Some pair differs by 1..k-1 exactly when two neighbours in sorted order do: the steps
    # between such a pair are each at most their difference and at least one is positive.
    if any(0 < b - a < k for a, b in itertools.pairwise(numbers)):
        return False
    return not 0 < total - sum(categories.values()) < k


def _reports_in(mask_counts: dict[int, int], mask: int) -> int:
    if not mask:
        return 0  # nothing merged (the usual case for busy cells): skip the histogram
    return sum(n for m, n in mask_counts.items() if m & mask)


def safe_categories(
    feature: HotspotFeature, k: int, base: int, category_mask: int = 0
) -> dict[str, int]:
    """The feature's rounded category breakdown after merging small categories."""
    exact = feature.category_counts(category_mask)
    merged = {c for c, n in exact.items() if n < k}
    total = round_count(feature.count, k, base)
    while True:
        open_ = sorted((n, c) for c, n in exact.items() if c not in merged)
        other = _reports_in(feature.mask_counts, sum(CATEGORY_BITS[c] for c in merged))
        if 0 < other < k and open_:
            merged.add(open_[0][1])
            continue
        published = {c: round_count(n, k, base) for n, c in open_}
        if other:
            published[OTHER_SUPPRESSED] = round_count(other, k, base)
        if is_safe(total, published, k):
            return published
        if not open_:
            return {}  # even all-in-one is unsafe (reports outside the categories): no breakdown
        merged.add(open_[0][1])


def publish(
    features: Iterable[HotspotFeature], settings: Settings, category_mask: int = 0
) -> PublicLayer:
    """Apply disclosure control to exact features: the only way to a public output."""
    k, base = settings.min_published_count, settings.public_rounding
    mask = category_mask or ALL_CATEGORIES_MASK
    published: list[PublicFeature] = []
    withheld: list[str] = []
    for feature in features:
        if feature.count < k:
            withheld.append(feature.id)
            continue
        published.append(
            PublicFeature(
                id=feature.id,
                geometry=feature.geometry,
                count=round_count(feature.count, k, base),
                categories=safe_categories(feature, k, base, mask),
                properties=dict(feature.properties),
            )
        )
    return PublicLayer(published, len(withheld), k, base, tuple(withheld))

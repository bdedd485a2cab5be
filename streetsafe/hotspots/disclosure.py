"""Disclosure control: the one step every public hotspot output passes through.

- a feature counting fewer than K reports (STREETSAFE_MIN_PUBLISHED_COUNT) is absent: no
  public output, header or count tells it from a place with no reports;
- every published number is perturbed by the cell-key method (perturbation.py) and rounded
  to a multiple of STREETSAFE_PUBLIC_ROUNDING, never below K;
- category counts under K are merged into `other_suppressed` (the number of reports having
  any merged category, each report once, perturbed by its own cell key); while that
  remainder is itself under K, or while some published number could be derived by
  subtracting two others of the same feature, the smallest remaining category joins it. No
  published number lies in 1..K-1.
Descriptions never reach this module: features carry counts and public transit names only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

from ..config import Settings
from .aggregate import HotspotFeature
from .perturbation import published_count
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
    """The published features and the rules applied (never what was withheld)."""

    features: list[PublicFeature]
    min_published_count: int
    rounding: int
    max_noise: int = 0
    matched: int | None = None  # published features in the whole layer, when paged


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


def safe_categories(
    feature: HotspotFeature, settings: Settings, total: int, category_mask: int = 0
) -> dict[str, int]:
    """The feature's perturbed, rounded category breakdown after merging small categories."""
    k = settings.min_published_count

    def public(reports: tuple[int, int]) -> int:
        return published_count(*reports, k, settings.public_rounding, settings.perturbation_max)

    exact = feature.category_counts(category_mask)
    merged = {c for c, (n, _) in exact.items() if n < k}
    while True:
        open_ = sorted((n, c) for c, (n, _) in exact.items() if c not in merged)
        other = feature.reports_with(sum(CATEGORY_BITS[c] for c in merged))
        if 0 < other[0] < k and open_:
            merged.add(open_[0][1])
            continue
        published = {c: public(exact[c]) for _, c in open_}
        if other[0]:
            published[OTHER_SUPPRESSED] = public(other)
        if is_safe(total, published, k):
            return published
        if not open_:
            return {}  # even all-in-one is unsafe (reports outside the categories): no breakdown
        merged.add(open_[0][1])


def publish(
    features: Iterable[HotspotFeature], settings: Settings, category_mask: int = 0
) -> PublicLayer:
    """Apply disclosure control to exact features: the only way to a public output."""
    k, base, max_noise = (settings.min_published_count, settings.public_rounding,
                          settings.perturbation_max)  # fmt: skip
    mask = category_mask or ALL_CATEGORIES_MASK
    published: list[PublicFeature] = []
    for feature in features:
        count = published_count(feature.count, feature.key_sum, k, base, max_noise)
        if count is None:
            continue
        published.append(
            PublicFeature(
                id=feature.id,
                geometry=feature.geometry,
                count=count,
                categories=safe_categories(feature, settings, count, mask),
                properties=dict(feature.properties),
            )
        )
    return PublicLayer(published, k, base, max_noise)

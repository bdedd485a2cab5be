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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

import numpy as np
from shapely.geometry.base import BaseGeometry

from ..config import Settings
from .aggregate import HotspotFeature
from .formats import Feature
from .perturbation import published_counts, publisher
from .rollups import ALL_CATEGORIES_MASK, CATEGORY_BITS

OTHER_SUPPRESSED = "other_suppressed"


# Only this module holds it: a PublicLayer or PublicCounts made anywhere else is a TypeError.
_GATE = object()
# Properties computed from published counts, which may be added to a published layer.
AFTER_THE_GATE = frozenset({"gi_z", "gi_p", "hotspot"})


def _check(gate: object, made: str) -> None:
    if gate is not _GATE:
        raise TypeError(f"a {made} is made by the disclosure gate only (disclosure.publish)")


class PublicLayer:
    """Published features and the rules applied (never what was withheld).

    Only `publish` (and `PublicCounts.layer`) make one; its methods give new layers of the
    same features, so every PublicLayer comes from the gate. Tiles, OGC, downloads and
    GeoJSON take a PublicLayer: forgetting the gate is a type error.
    """

    __slots__ = ("features", "min_published_count", "rounding", "max_noise", "matched")
    public = True
    kind = "hotspot"

    def __init__(
        self, gate: object, features: Iterable[Feature], min_published_count: int,
        rounding: int, max_noise: int, matched: int | None = None,
    ) -> None:  # fmt: skip
        _check(gate, "PublicLayer")
        set_ = object.__setattr__
        set_(self, "features", tuple(features))
        set_(self, "min_published_count", min_published_count)
        set_(self, "rounding", rounding)
        set_(self, "max_noise", max_noise)
        # Published features in the whole layer, when this is one page of it.
        set_(self, "matched", matched)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a PublicLayer cannot be changed")

    def _with(self, features: Iterable[Feature], matched: int | None) -> PublicLayer:
        k, base, noise = self.min_published_count, self.rounding, self.max_noise
        return PublicLayer(_GATE, features, k, base, noise, matched)

    def paged(self, matched: int) -> PublicLayer:
        """These features as one page of a layer of `matched` published features."""
        return self._with(self.features, matched)

    def with_properties(self, extra: Mapping[str, Mapping[str, object]]) -> PublicLayer:
        """The same features with Gi* of their published counts as properties, by id: the
        only thing added after the gate (anything else is a ValueError)."""
        added = {name for props in extra.values() for name in props}
        if not added <= AFTER_THE_GATE:
            raise ValueError(f"a PublicLayer takes only {sorted(AFTER_THE_GATE)} after the gate")
        return self._with(
            [replace(f, properties={**f.properties, **extra.get(f.id, {})}) for f in self.features],
            self.matched,
        )

    def rules(self) -> dict[str, object]:
        """The disclosure rules applied, as a download's metadata states them."""
        return {"min_published_count": self.min_published_count, "rounding": self.rounding,
                "perturbation": f"cell-key method, noise up to {self.max_noise}"}  # fmt: skip


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
    publish_one = publisher(*settings.disclosure_rules)

    def public(reports: tuple[int, int]) -> int:
        return publish_one(*reports)

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
            # By name: built in order of exact count, which no output may show.
            return dict(sorted(published.items()))
        if not open_:
            return {}  # even all-in-one is unsafe (reports outside the categories): no breakdown
        merged.add(open_[0][1])


def publish(
    features: Iterable[HotspotFeature], settings: Settings, category_mask: int = 0
) -> PublicLayer:
    """Apply disclosure control to exact features: the only way to a public output.

    Features keep their order; the withheld ones are simply absent.
    """
    k, base, max_noise = settings.disclosure_rules
    mask = category_mask or ALL_CATEGORIES_MASK
    published: list[Feature] = []
    publish_one = publisher(k, base, max_noise)
    for feature in features:
        count = publish_one(feature.count, feature.key_sum)
        if count is None:
            continue
        published.append(
            Feature(
                id=feature.id,
                geometry=feature.geometry,
                count=count,
                categories=safe_categories(feature, settings, count, mask),
                properties=dict(feature.properties),
            )
        )
    return PublicLayer(_GATE, published, k, base, max_noise)


class PublicCounts:
    """Published counts of features read without geometry or categories (cells as 64-bit
    ids): what Gi* and the coarse tiles use. Made by `publish_counts` only."""

    __slots__ = ("ids", "counts", "settings_used")

    def __init__(
        self, gate: object, ids: np.ndarray, counts: np.ndarray, settings_used: tuple[int, ...]
    ) -> None:
        _check(gate, "PublicCounts")
        # (K, rounding, largest noise): the rules these counts were published under.
        self.ids, self.counts, self.settings_used = ids, counts, settings_used

    def __len__(self) -> int:
        return len(self.ids)

    def by_id(self) -> dict[int, int]:
        """id -> published count."""
        return dict(zip(self.ids.tolist(), self.counts.tolist(), strict=True))

    def layer(
        self, chosen: np.ndarray, feature_id: Callable[[int], str],
        geometry: Callable[[int], BaseGeometry],
    ) -> PublicLayer:  # fmt: skip
        """The features at positions `chosen` as a counts-only PublicLayer."""
        features = [
            Feature(feature_id(int(i)), geometry(int(i)), int(n), {})
            for i, n in zip(self.ids[chosen], self.counts[chosen], strict=True)
        ]
        return PublicLayer(_GATE, features, *self.settings_used)


def publish_counts(
    ids: Iterable[int], totals: Iterable[int], key_sums: Iterable[int], settings: Settings
) -> PublicCounts:
    """The cell-key method over (id, exact count, key sum) columns (lists or numpy arrays):
    the published count of each feature that is published (a feature under K is absent), in
    the columns' order."""
    rules = settings.disclosure_rules
    counts = published_counts(_column(totals), _column(key_sums), *rules)
    kept = counts > 0
    return PublicCounts(_GATE, _column(ids, np.uint64)[kept], counts[kept], rules)


def _column(values: Iterable[int], dtype: type = np.int64) -> np.ndarray:
    return np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=dtype)

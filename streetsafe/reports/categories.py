"""The fixed list of reasons a person can give for feeling unsafe, grouped for the form."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Category:
    """One reason: a stable id, an English label, and the group the form shows it under."""

    id: str
    label: str
    group: str

    def to_dict(self) -> dict[str, str]:
        """The JSON object served by GET /api/v1/categories."""
        return asdict(self)


CATEGORIES: tuple[Category, ...] = (
    Category("no_cctv", "No CCTV", "environment"),
    Category("badly_lit", "Badly lit", "environment"),
    Category("isolated", "Isolated, nobody around", "environment"),
    Category("poor_layout", "Poor layout (blind corners, no way out)", "environment"),
    Category("restricted_visibility", "Restricted visibility", "environment"),
    Category("rundown", "Run-down or neglected", "environment"),
    Category("drugs_alcohol", "Drug or alcohol use", "environment"),
    Category("verbal_harassment_single", "Verbal harassment by one person", "behaviour"),
    Category("verbal_harassment_group", "Verbal harassment by a group", "behaviour"),
    Category("followed", "Being followed", "behaviour"),
    Category("unwanted_sexual_behaviour", "Unwanted sexual behaviour", "behaviour"),
    Category("intimidating_behaviour", "Intimidating behaviour", "behaviour"),
    Category("no_staff", "No staff around", "transport"),
    Category("long_wait_after_dark", "Long wait after dark", "transport"),
    Category("overcrowding", "Overcrowding", "transport"),
    Category("other", "Something else", "other"),
)

CATEGORY_IDS: frozenset[str] = frozenset(category.id for category in CATEGORIES)
GROUPS: tuple[str, ...] = ("environment", "behaviour", "transport", "other")
MAX_CATEGORIES = 6

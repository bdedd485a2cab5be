"""The one vocabulary: report categories, contexts, modes and the local time zone.

Everything else reads these names from here. The migrations keep their own copies (a
migration is history and must not change when this module does); tests/test_migrations.py
pins them, and the database they build, to this module, so a category added here without a
migration fails the tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .i18n import N_, gettext


@dataclass(frozen=True)
class Category:
    """One reason: a stable id, an English label (the msgid of its translations), and the group
    the form shows it under."""

    id: str
    label: str
    group: str

    def to_dict(self) -> dict[str, str]:
        """The JSON object served by GET /api/v1/categories, its label in the reader's language."""
        return {**asdict(self), "label": gettext(self.label)}


# The order is the rollups' category bits: bit i of a category_mask is CATEGORIES[i]
# (migration 0005). New categories go at the end, with a migration; none is ever reordered.
CATEGORIES: tuple[Category, ...] = (
    Category("no_cctv", N_("No CCTV"), "environment"),
    Category("badly_lit", N_("Badly lit"), "environment"),
    Category("isolated", N_("Isolated, nobody around"), "environment"),
    Category("poor_layout", N_("Poor layout (blind corners, no way out)"), "environment"),
    Category("restricted_visibility", N_("Restricted visibility"), "environment"),
    Category("rundown", N_("Run-down or neglected"), "environment"),
    Category("drugs_alcohol", N_("Drug or alcohol use"), "environment"),
    Category("verbal_harassment_single", N_("Verbal harassment by one person"), "behaviour"),
    Category("verbal_harassment_group", N_("Verbal harassment by a group"), "behaviour"),
    Category("followed", N_("Being followed"), "behaviour"),
    Category("unwanted_sexual_behaviour", N_("Unwanted sexual behaviour"), "behaviour"),
    Category("intimidating_behaviour", N_("Intimidating behaviour"), "behaviour"),
    Category("no_staff", N_("No staff around"), "transport"),
    Category("long_wait_after_dark", N_("Long wait after dark"), "transport"),
    Category("overcrowding", N_("Overcrowding"), "transport"),
    Category("other", N_("Something else"), "other"),
)
CATEGORY_IDS: tuple[str, ...] = tuple(category.id for category in CATEGORIES)
GROUPS: tuple[str, ...] = ("environment", "behaviour", "transport", "other")
MAX_CATEGORIES = 6  # a report names 1 to 6 categories (check constraint of migration 0001)

# Where a report happened: in the street, waiting at a stop, or on board.
CONTEXTS: tuple[str, ...] = ("street", "at_stop", "on_vehicle")

# The transit modes stops, routes and reports carry (the importers map GTFS route types
# and NaPTAN stop types onto them; anything else is "other").
MODES: tuple[str, ...] = ("bus", "tram", "metro", "rail", "ferry", "other")

# Local day and hour of every rollup, filter and team chart. The database function
# hotspot_timezone() (migration 0005) returns the `streetsafe.timezone` database setting,
# else this zone; the rollups are keyed by it, so SQL uses hotspot_timezone() and Python
# asks `local_time_zone` rather than assuming this default.
TIME_ZONE = "Europe/London"
TIME_ZONE_SQL = "hotspot_timezone()"


def local_time_zone(connection: sa.Connection | Session) -> str:
    """The time zone the database keys rollups by (`streetsafe.timezone`, else TIME_ZONE)."""
    return connection.scalar(sa.text(f"SELECT {TIME_ZONE_SQL}")) or TIME_ZONE

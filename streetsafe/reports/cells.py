"""H3 cells of a point. The one place that turns our (lon, lat) into h3's (lat, lng)."""

from __future__ import annotations

from collections.abc import Iterable

import h3


def point_to_cells(lon: float, lat: float, resolutions: Iterable[int]) -> dict[int, str]:
    """The H3 cell (hex string) containing (lon, lat) at each resolution."""
    return {res: h3.latlng_to_cell(lat, lon, res) for res in resolutions}


def cell_to_int(cell: str) -> int:
    """An H3 cell as the 64-bit integer stored in report_cells.cell (fits a signed BIGINT)."""
    return h3.str_to_int(cell)


def int_to_cell(cell: int) -> str:
    """The hex string of a stored 64-bit H3 cell."""
    return h3.int_to_str(cell)

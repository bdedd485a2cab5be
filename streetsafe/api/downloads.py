"""How every rendered download leaves (public layers, team layers and reports).

GeoJSON is inline (the map and the dashboard read it), CSV and GeoPackage are attachments;
the file name is formats.render's, and a public layer's rules ride along as headers.
"""

from __future__ import annotations

from flask import Response

from ..hotspots.formats import Download


def download_response(download: Download) -> Response:
    """The bytes with their media type, file name and the download's own headers."""
    response = Response(download.body, mimetype=download.mimetype)
    disposition = "inline" if download.mimetype == "application/geo+json" else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{download.filename}"'
    response.headers.update(download.headers)
    return response

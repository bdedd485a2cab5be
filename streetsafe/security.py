"""Security headers on every response: a strict Content-Security-Policy and privacy headers.

The public pages load nothing from other origins except a remote basemap's tiles (none with the
self-hosted PMTiles basemap), run no inline script or style, and send no referrer. Over HTTPS
(directly, or behind a proxy that gunicorn trusts for X-Forwarded-Proto) responses also carry
HSTS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

from .config import Settings

HSTS = "max-age=63072000; includeSubDomains"


def basemap_origin(tile_url: str) -> str | None:
    """The CSP source for a Leaflet tile URL template ({s} subdomains become a wildcard)."""
    parts = urlsplit(tile_url.replace("{s}", "tiles-subdomain"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None  # a relative URL: tiles come from this origin, covered by 'self'
    host = parts.hostname
    if "tiles-subdomain" in host:
        host = host.replace("tiles-subdomain", "*", 1)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def content_security_policy(settings: Settings) -> str:
    """The policy: only this origin, plus a remote basemap's origin for images; no inline code."""
    img_sources = ["'self'", "data:"]
    # A self-hosted archive is fetched from 'self' (connect-src) and drawn on canvas.
    origin = None if settings.basemap_pmtiles else basemap_origin(settings.basemap_url)
    if origin:
        img_sources.append(origin)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(img_sources),
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(settings: Settings) -> dict[str, str]:
    """Headers every response carries."""
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
    }


def register_security_headers(app: Flask, settings: Settings) -> None:
    """Add the security headers to every response (views may set stricter ones first)."""
    headers = security_headers(settings)

    @app.after_request
    def _add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

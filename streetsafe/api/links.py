"""The base of absolute links (OGC API): STREETSAFE_PUBLIC_URL, or a trusted Host header.

A link built from whatever Host a client sends points wherever that client likes
(`http://evil.example/ogc/...`), and a cache in front of the service would hand it to
everyone. With STREETSAFE_PUBLIC_URL set, links always start with it; without it, the Host
header is used only when its host name is in STREETSAFE_ALLOWED_HOSTS, and anything else is
refused with 400 naming the header.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..config import Settings
from ..errors import InvalidRequest
from ..i18n import lazy_gettext as _l


def base_url(settings: Settings, url_root: str) -> str:
    """The service's absolute URL, without a trailing slash, for a request to `url_root`."""
    if settings.public_url:
        return settings.public_url
    host = (urlsplit(url_root).hostname or "").lower()
    if host not in settings.allowed_hosts:
        raise InvalidRequest(
            _l("the Host header names a host not trusted for links: set STREETSAFE_PUBLIC_URL, "
               "or add the host to STREETSAFE_ALLOWED_HOSTS"),
            "Host",
        )
    return url_root.rstrip("/")

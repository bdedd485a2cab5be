"""Settings: every environment variable the service reads, its default and its validation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

MAX_H3_RES = 15


class ConfigError(Exception):
    """A configuration value is missing or invalid; the message names the variable."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


def _number(env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float,
            kind: type[int] | type[float]) -> float:  # fmt: skip
    """`name` read as `kind` (default when unset), within [minimum, maximum]."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(name, f"must be {what}, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(name, f"must be between {minimum} and {maximum}, got {value}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    return int(_number(env, name, default, minimum, maximum, int))


def _float(
    env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float
) -> float:
    return float(_number(env, name, default, minimum, maximum, float))


def _resolutions(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    values: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        if not part.isdigit() or not 0 <= int(part) <= MAX_H3_RES:
            raise ConfigError(name, f"must be comma-separated H3 resolutions 0-15, got {raw!r}")
        values.append(int(part))
    if len(set(values)) != len(values):
        raise ConfigError(name, f"lists a resolution twice: {raw!r}")
    return tuple(sorted(values))


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(schemes):
        raise ConfigError(
            name, f"must start with one of {', '.join(schemes)}, got {raw.split(':')[0]!r}"
        )
    return raw


OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
DB_SCHEMES = ("postgresql+psycopg://", "postgresql://", "postgres://")


def normalise_database_url(url: str) -> str:
    """Make a plain postgres URL name the psycopg 3 driver for SQLAlchemy."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    """The service's configuration, built from the environment by `from_env`."""

    database_url: str | None = None
    database_read_url: str | None = None
    redis_url: str | None = None
    secret_key: str = ""
    min_published_count: int = 5
    public_rounding: int = 5
    perturbation_max: int = 2
    h3_resolutions: tuple[int, ...] = (7, 8, 9, 10)
    rate_limits: str = "10/minute;50/day"
    receipt_limits: str = "10/minute;100/day"
    at_stop_radius_m: float = 150.0
    on_vehicle_radius_m: float = 100.0
    street_stop_radius_m: float = 50.0
    retention_days: int = 400
    idempotency_ttl_hours: int = 48
    trusted_proxies: int = 0
    public_read_timeout_ms: int = 2000
    tile_cache_s: int = 60
    # Reports reach the hotspot layers together on each boundary of this period (seconds
    # since the epoch divisible by it), never the moment they arrive; 0: at once. The
    # environment's default is 3600 (on the hour); 0 here for code and tests that build
    # Settings themselves and read their own reports back.
    publish_every_s: int = 0
    basemap_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    # None: the archive's own attribution with a PMTiles basemap, else OpenStreetMap's.
    basemap_attribution: str | None = None
    basemap_pmtiles: str | None = None  # a PMTiles archive served by the app: no remote tiles
    data_licence: str = "Open Government Licence v3.0"
    local_dir: str = ".local"
    local_pg_port: int = 54329
    local_redis_port: int = 63799
    env: str = "development"
    testing: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    team_session_idle_minutes: int = 30
    team_session_max_hours: int = 12
    team_signin_window_minutes: int = 15
    team_signin_failures_per_network: int = 10
    team_signin_failures_global: int = 300
    public_url: str | None = None
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    map_centre: tuple[float, float] | None = None  # (lon, lat); None: the densest stops
    map_zoom: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every STREETSAFE_* variable plus DATABASE_URL and REDIS_URL."""
        env = os.environ if env is None else env
        return cls(
            **_servers(env),
            **_disclosure(env),
            **_intake(env),
            **_reads_and_pages(env),
            **_team(env),
            **_local(env),
        )

    @property
    def disclosure_rules(self) -> tuple[int, int, int]:
        """(K, rounding base, largest noise): what every published number depends on, and
        so part of every cache key of published layers."""
        return (self.min_published_count, self.public_rounding, self.perturbation_max)

    @property
    def queues_reports(self) -> bool:
        """Whether stored reports wait for the next publication (publish_every_s > 0)."""
        return self.publish_every_s > 0

    @property
    def production(self) -> bool:
        """True when local servers must not be started and every secret must be given."""
        return self.env == "production"

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and tools)."""
        return replace(self, **changes)


def _servers(env: Mapping[str, str]) -> dict[str, Any]:
    """The database, the replica, Redis, the secret key and the run environment."""
    database_url = _url(env, "DATABASE_URL", DB_SCHEMES)
    read_url = _url(env, "DATABASE_READ_URL", DB_SCHEMES)
    secret = env.get("STREETSAFE_SECRET_KEY", "").strip()
    if secret and len(secret) < 16:
        raise ConfigError("STREETSAFE_SECRET_KEY", "must be at least 16 characters long")
    run_env = env.get("STREETSAFE_ENV", "").strip() or "development"
    if run_env not in ("development", "production"):
        raise ConfigError("STREETSAFE_ENV", f"must be development or production, got {run_env!r}")
    return {
        "database_url": normalise_database_url(database_url) if database_url else None,
        "database_read_url": normalise_database_url(read_url) if read_url else None,
        "redis_url": _url(env, "REDIS_URL", ("redis://", "rediss://", "unix://")),
        "secret_key": secret,
        "env": run_env,
    }


def _disclosure(env: Mapping[str, str]) -> dict[str, Any]:
    """What the public layers publish: K, rounding, perturbation, H3 resolutions, licence."""
    return {
        "min_published_count": _int(env, "STREETSAFE_MIN_PUBLISHED_COUNT", 5, 1, 1000),
        "public_rounding": _int(env, "STREETSAFE_PUBLIC_ROUNDING", 5, 1, 1000),
        "perturbation_max": _int(env, "STREETSAFE_PERTURBATION_MAX", 2, 0, 10),
        "h3_resolutions": _resolutions(env, "STREETSAFE_H3_RESOLUTIONS", (7, 8, 9, 10)),
        "data_licence": _text(env, "STREETSAFE_DATA_LICENCE", Settings.data_licence),
    }


def _intake(env: Mapping[str, str]) -> dict[str, Any]:
    """Report intake: abuse limits, proxies, snapping radii, retention and idempotency."""
    return {
        "rate_limits": _rate_limits(env),
        "receipt_limits": _rate_limits(env, "STREETSAFE_RECEIPT_LIMITS", "10/minute;100/day"),
        "trusted_proxies": _int(env, "STREETSAFE_TRUSTED_PROXIES", 0, 0, 10),
        "at_stop_radius_m": _float(env, "STREETSAFE_AT_STOP_RADIUS_M", 150.0, 1.0, 2000.0),
        "on_vehicle_radius_m": _float(env, "STREETSAFE_ON_VEHICLE_RADIUS_M", 100.0, 1.0, 2000.0),
        "street_stop_radius_m": _float(env, "STREETSAFE_STREET_STOP_RADIUS_M", 50.0, 0.0, 2000.0),
        "retention_days": _int(env, "STREETSAFE_RETENTION_DAYS", 400, 1, 36500),
        "idempotency_ttl_hours": _int(env, "STREETSAFE_IDEMPOTENCY_TTL_HOURS", 48, 24, 24 * 365),
    }


def _reads_and_pages(env: Mapping[str, str]) -> dict[str, Any]:
    """Public reads (time bound, tile cache), the page's basemap, and the service's URL."""
    return {
        "public_read_timeout_ms": _int(env, "STREETSAFE_PUBLIC_READ_TIMEOUT_MS", 2000, 50, 600000),
        "tile_cache_s": _int(env, "STREETSAFE_TILE_CACHE_S", 60, 0, 3600),
        "publish_every_s": _int(env, "STREETSAFE_PUBLISH_EVERY_S", 3600, 0, 86400),
        "basemap_url": _text(env, "STREETSAFE_BASEMAP_URL", Settings.basemap_url),
        "basemap_attribution": env.get("STREETSAFE_BASEMAP_ATTRIBUTION", "").strip() or None,
        "basemap_pmtiles": _basemap_pmtiles(env),
        "public_url": _public_url(env),
        "allowed_hosts": _allowed_hosts(env),
        "map_centre": _map_centre(env),
        "map_zoom": _int(env, "STREETSAFE_MAP_ZOOM", 0, 3, 19) or None,
    }


def _team(env: Mapping[str, str]) -> dict[str, Any]:
    """Team sessions and the throttling of failed sign-ins."""
    return {
        "team_session_idle_minutes": _int(env, "STREETSAFE_TEAM_SESSION_IDLE_MINUTES", 30, 1, 1440),
        "team_session_max_hours": _int(env, "STREETSAFE_TEAM_SESSION_MAX_HOURS", 12, 1, 168),
        "team_signin_window_minutes": _int(
            env, "STREETSAFE_TEAM_SIGNIN_WINDOW_MINUTES", 15, 1, 1440
        ),
        "team_signin_failures_per_network": _int(
            env, "STREETSAFE_TEAM_SIGNIN_FAILURES_PER_NETWORK", 10, 1, 100_000
        ),
        "team_signin_failures_global": _int(
            env, "STREETSAFE_TEAM_SIGNIN_FAILURES_GLOBAL", 300, 1, 1_000_000
        ),
    }


def _local(env: Mapping[str, str]) -> dict[str, Any]:
    """The project-local servers' folder and ports (used when no URL is set)."""
    return {
        "local_dir": _text(env, "STREETSAFE_LOCAL_DIR", Settings.local_dir),
        "local_pg_port": _int(env, "STREETSAFE_LOCAL_PG_PORT", 54329, 1024, 65535),
        "local_redis_port": _int(env, "STREETSAFE_LOCAL_REDIS_PORT", 63799, 1024, 65535),
    }


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


def _rate_limits(
    env: Mapping[str, str], name: str = "STREETSAFE_RATE_LIMITS", default: str = "10/minute;50/day"
) -> str:
    if name not in env:
        return default
    raw = env[name].strip()
    if not raw:
        return ""
    from limits import parse_many

    try:
        parse_many(raw)
    except ValueError as exc:
        raise ConfigError(
            name, f"is not in Flask-Limiter's notation (e.g. 10/minute;50/day): {exc}"
        ) from None
    return raw


def _public_url(env: Mapping[str, str]) -> str | None:
    """STREETSAFE_PUBLIC_URL: the service's own absolute URL (scheme and host, maybe a path)."""
    from urllib.parse import urlsplit

    name = "STREETSAFE_PUBLIC_URL"
    raw = _url(env, name, ("https://", "http://"))
    if raw is None:
        return None
    parts = urlsplit(raw)
    if not parts.hostname or parts.query or parts.fragment or parts.username:
        raise ConfigError(name, f"must be like https://streetsafe.example.org, got {raw!r}")
    return raw.rstrip("/")


def _allowed_hosts(env: Mapping[str, str]) -> tuple[str, ...]:
    """STREETSAFE_ALLOWED_HOSTS: comma-separated host names trusted in the Host header."""
    name = "STREETSAFE_ALLOWED_HOSTS"
    raw = env.get(name, "").strip()
    if not raw:
        return Settings.allowed_hosts
    hosts = tuple(part.strip().lower().strip("[]") for part in raw.split(","))
    for host in hosts:
        if not host or any(c in host for c in "/@?#\\ "):
            raise ConfigError(name, f"must be comma-separated host names, got {raw!r}")
    return hosts


def _basemap_pmtiles(env: Mapping[str, str]) -> str | None:
    """STREETSAFE_BASEMAP_PMTILES: a PMTiles archive of vector tiles the app serves itself."""
    from .basemap import ArchiveError, read_archive

    name = "STREETSAFE_BASEMAP_PMTILES"
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return read_archive(os.path.expanduser(raw)).path
    except ArchiveError as exc:
        raise ConfigError(
            name,
            f"{exc}. Give the path of a PMTiles archive of vector tiles (the demo's is "
            "geodata/demo/hull-basemap.pmtiles; `streetsafe demo-basemap OUT.pmtiles` builds "
            "one from the loaded boundaries, stops and routes), or unset it to use "
            "STREETSAFE_BASEMAP_URL",
        ) from None


def _map_centre(env: Mapping[str, str]) -> tuple[float, float] | None:
    """STREETSAFE_MAP_CENTRE: "lon,lat" in WGS84 degrees, where the report page's map opens."""
    name = "STREETSAFE_MAP_CENTRE"
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        lon, lat = (float(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(
            name, f'must be "lon,lat" in degrees, e.g. -0.3367,53.7446, got {raw!r}'
        ) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ConfigError(name, f"must have -180 <= lon <= 180 and -90 <= lat <= 90, got {raw!r}")
    return lon, lat

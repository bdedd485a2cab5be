"""Per-client abuse limits on report intake (Flask-Limiter on Redis) that keep no timestamps.

- Counters are fixed windows aligned to the clock (a minute window is 12:03:00-12:04:00, a day
  window one UTC day): `AlignedWindowRedisStorage` makes each counter expire at the end of its
  window, so neither its value nor its TTL says when a request came. Moving-window lists,
  which held every request's exact time, are gone.
- A client is its network: an IPv4 address, or the /64 of an IPv6 address (one household or
  phone gets one budget however it rotates its privacy addresses), behind
  STREETSAFE_TRUSTED_PROXIES hops of X-Forwarded-For (werkzeug's ProxyFix).
- The counter key is HMAC-SHA256(window key, network). The window key is random, lives only in
  Redis, and expires with the longest limit window it serves (created with SET NX EXAT at the
  window's end): once it is gone, its counters cannot be tied back to an address even by
  someone holding a Redis dump, and while it lives they hold counts, never times.
Limits come from STREETSAFE_RATE_LIMITS in Flask-Limiter's notation; an empty value turns them
off. Receipt look-ups (`/receipt/{code}`) have limits of their own, STREETSAFE_RECEIPT_LIMITS,
counted the same way, so that nobody can try codes by the million (a code has 65 random bits).
A 429 carries Retry-After and X-RateLimit-Limit/-Remaining/-Reset; other responses carry
none (computing them costs a Redis round trip per report).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import threading
import time
from collections.abc import Callable

import redis
from flask import Flask, Response, request
from flask_limiter import Limiter
from limits import parse_many
from limits.storage import RedisStorage
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Settings

log = logging.getLogger(__name__)

# Endpoints (blueprint.view) the per-client limits apply to.
LIMITED_ENDPOINTS = ("public.create_report",)
RECEIPT_ENDPOINT = "web.receipt"  # STREETSAFE_RECEIPT_LIMITS
_KEY_NAME = "streetsafe:client-key:{period}:{index}"
IPV6_PREFIX = 64


class AlignedWindowRedisStorage(RedisStorage):
    """limits' Redis storage whose fixed-window counters end on the clock's window boundaries.

    limits sets a counter's expiry from its first hit, so its TTL told that hit's time to the
    second. Here every hit sets the expiry to the end of the aligned window (EXPIREAT), which
    any request in the window would set alike.
    """

    STORAGE_SCHEME = ["streetsafe+redis"]
    SCRIPT_INCR_EXPIRE_AT = """
        local current = redis.call("incrby", KEYS[1], tonumber(ARGV[2]))
        redis.call("expireat", KEYS[1], ARGV[1])
        return current
    """

    def initialize_storage(self, _uri: str) -> None:
        super().initialize_storage(_uri)
        self.lua_incr_expire_at = self.get_connection().register_script(
            self.SCRIPT_INCR_EXPIRE_AT
        )

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add to the counter of the window `expiry` seconds long that holds this moment."""
        window_end = (int(time.time()) // expiry + 1) * expiry
        return int(self.lua_incr_expire_at([self.prefixed_key(key)], [window_end, amount]))


def client_network(address: str | None) -> str:
    """The network a client is counted by: its IPv4 address, or its IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


class WindowKey:
    """The HMAC key of the current longest window, shared by the workers through Redis.

    While Redis is unreachable the worker uses a random key of its own (the limits then count
    per worker, in Flask-Limiter's in-memory fallback), and asks Redis again at most every
    RETRY_S.
    """

    RETRY_S = 5.0

    def __init__(self, client: redis.Redis, period_s: int) -> None:
        self.client = client
        self.period_s = period_s
        self._lock = threading.Lock()
        self._cached: tuple[int, bytes] | None = None
        self._local: tuple[int, bytes] | None = None
        self._retry_at = 0.0

    def current(self) -> bytes:
        """This window's key, created in Redis (expiring at the window's end) by the first ask."""
        index = int(time.time()) // self.period_s
        cached = self._cached
        if cached is not None and cached[0] == index:
            return cached[1]
        with self._lock:
            if time.monotonic() < self._retry_at:
                return self._local_key(index)
            name = _KEY_NAME.format(period=self.period_s, index=index)
            end = (index + 1) * self.period_s
            try:
                self.client.set(name, secrets.token_hex(32), nx=True, exat=end)
                value = self.client.get(name)
            except redis.RedisError:
                self._retry_at = time.monotonic() + self.RETRY_S
                return self._local_key(index)
            key = bytes.fromhex(value.decode() if isinstance(value, bytes) else value)
            self._cached = (index, key)
            return key

    def _local_key(self, index: int) -> bytes:
        if self._local is None or self._local[0] != index:
            self._local = (index, secrets.token_bytes(32))
        return self._local[1]


def client_key(
    window_key: WindowKey, address: str | None, watch: RedisWatch | None = None
) -> str:
    """The limiter's key for a client: keyed hash of its network (never the address)."""
    if watch is not None:
        watch.up()  # notices Redis going or coming back (at most every few seconds)
    digest = hmac.new(window_key.current(), client_network(address).encode(), hashlib.sha256)
    return digest.hexdigest()


def longest_window_s(*rate_limits: str) -> int:
    """The longest window among the limits, in seconds (the key's lifetime)."""
    return max(limit.get_expiry() for limits in rate_limits if limits
               for limit in parse_many(limits))  # fmt: skip


def init_app(app: Flask, settings: Settings) -> Limiter | None:
    """Trust the configured proxies, and apply settings.rate_limits to the limited endpoints
    and settings.receipt_limits to receipt look-ups."""
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    # Flask-Limiter logs the key of a breached limit at INFO; keep its logs to real problems.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    if not settings.rate_limits and not settings.receipt_limits:
        return None
    pool = redis.ConnectionPool.from_url(settings.redis_url, socket_timeout=1,
                                         socket_connect_timeout=1)  # fmt: skip
    period_s = longest_window_s(settings.rate_limits, settings.receipt_limits)
    window_key = WindowKey(redis.Redis(connection_pool=pool), period_s)
    watch = app.extensions["streetsafe.redis_watch"] = RedisWatch(redis.Redis(connection_pool=pool))
    # The limits are Flask-Limiter's default limits, exempt everywhere but LIMITED_ENDPOINTS, so
    # they are checked once per request, in its before_request hook.
    limiter = Limiter(
        key_func=lambda: client_key(window_key, request.remote_addr, watch),
        app=app,
        storage_uri="streetsafe+redis://",
        storage_options={"connection_pool": pool},
        strategy="fixed-window",
        default_limits=[settings.rate_limits] if settings.rate_limits else [],
        default_limits_exempt_when=lambda: request.endpoint not in LIMITED_ENDPOINTS,
        # Flask-Limiter's headers cost a second Redis call per report (the window's state);
        # they are sent on a 429 only, where Retry-After matters (see _limit_headers).
        headers_enabled=False,
        key_prefix="streetsafe",
        # Redis away: each worker keeps counting in memory (same limits, same keyed hash), so a
        # person reporting never loses a report to the limiter's store (docs/SCALING.md).
        in_memory_fallback_enabled=True,
        # A Redis error in the middle of a check (before the fallback takes over) lets the
        # report through rather than failing it.
        swallow_errors=True,
    )
    if settings.receipt_limits and RECEIPT_ENDPOINT in app.view_functions:
        # A decorated limit is checked by its wrapper: the view is swapped for it.
        view = app.view_functions[RECEIPT_ENDPOINT]
        app.view_functions[RECEIPT_ENDPOINT] = limiter.limit(
            settings.receipt_limits, scope="receipt")(view)  # fmt: skip
    app.after_request(_limit_headers(limiter))
    app.extensions["streetsafe.limiter"] = limiter
    return limiter


class RedisWatch:
    """Whether Redis answers, checked at most every CHECK_S; one warning when it goes and one
    when it returns (no client data in either)."""

    CHECK_S = 2.0

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._up = True
        self._checked = 0.0
        self._lock = threading.Lock()

    def up(self, max_age_s: float = CHECK_S) -> bool:
        """True while Redis answers a PING (asked again when the last answer is older)."""
        with self._lock:
            if time.monotonic() - self._checked < max_age_s:
                return self._up
            self._checked = time.monotonic()
            try:
                up = bool(self.client.ping())
            except redis.RedisError:
                up = False
            if up != self._up:
                log.warning("Redis is back: report limits are shared again" if up else
                            "Redis unreachable: report limits count per worker until it returns")
            self._up = up
            return up


def _limit_headers(limiter: Limiter) -> Callable[[Response], Response]:
    """An after_request hook adding Retry-After and the X-RateLimit-* headers to a 429."""

    def add_headers(response: Response) -> Response:
        current = limiter.current_limit if response.status_code == 429 else None
        if current is None:
            return response
        reset_at = current.reset_at
        response.headers["X-RateLimit-Limit"] = str(current.limit.amount)
        response.headers["X-RateLimit-Remaining"] = str(current.remaining)
        response.headers["X-RateLimit-Reset"] = str(reset_at)
        response.headers["Retry-After"] = str(max(1, int(reset_at - time.time())))
        return response

    return add_headers

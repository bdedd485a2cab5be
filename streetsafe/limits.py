"""Per-client abuse limits on report intake (Flask-Limiter on Redis), without keeping addresses.

A client is identified by HMAC-SHA256(daily key, client address). The daily key is random,
lives only in Redis (created with SET NX, expiring after 48 h, its name holding the UTC
date), and is never logged or written to PostgreSQL: once it expires, yesterday's counters
cannot be tied back to an address even by someone holding the Redis dump. Limits come from
STREETSAFE_RATE_LIMITS in Flask-Limiter's notation; an empty value turns them off. A 429
carries Retry-After and X-RateLimit-Limit/-Remaining/-Reset; other responses carry none
(computing them costs a Redis round trip per report).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import redis
from flask import Flask, Response, request
from flask_limiter import Limiter

from .config import Settings

# Endpoints (blueprint.view) the per-client limits apply to.
LIMITED_ENDPOINTS = ("public.create_report",)
DAILY_KEY_TTL_S = 48 * 3600
_KEY_NAME = "streetsafe:client-key:{date}"


class DailyKey:
    """The day's HMAC key, shared by every worker through Redis and cached per process."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._cached: tuple[str, bytes] | None = None

    def current(self) -> bytes:
        """Today's key (UTC), created in Redis by whichever worker asks first."""
        today = datetime.now(UTC).date().isoformat()
        cached = self._cached
        if cached is not None and cached[0] == today:
            return cached[1]
        with self._lock:
            name = _KEY_NAME.format(date=today)
            self.client.set(name, secrets.token_hex(32), nx=True, ex=DAILY_KEY_TTL_S)
            value = self.client.get(name)
            key = bytes.fromhex(value.decode() if isinstance(value, bytes) else value)
            self._cached = (today, key)
            return key


def client_key(daily_key: DailyKey, address: str | None) -> str:
    """The limiter's key for a client: keyed hash of its address (never the address)."""
    digest = hmac.new(daily_key.current(), (address or "").encode(), hashlib.sha256)
    return digest.hexdigest()


def init_app(app: Flask, settings: Settings) -> Limiter | None:
    """Apply settings.rate_limits to the limited endpoints; None when limits are off."""
    # Flask-Limiter logs the key of a breached limit at INFO; keep its logs to real problems.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    if not settings.rate_limits:
        return None
    daily_key = DailyKey(redis.Redis.from_url(settings.redis_url))
    # The limits are Flask-Limiter's default limits, exempt everywhere but LIMITED_ENDPOINTS, so
    # they are checked once per request, in its before_request hook. Decorating the view
    # checked twice: the hook resolved every limit (finding none to hit), then the decorator.
    limiter = Limiter(
        key_func=lambda: client_key(daily_key, request.remote_addr),
        app=app,
        storage_uri=settings.redis_url,
        strategy="moving-window",
        default_limits=[settings.rate_limits],
        default_limits_exempt_when=lambda: request.endpoint not in LIMITED_ENDPOINTS,
        # Flask-Limiter's headers cost a second Redis script per report (the window's state);
        # they are sent on a 429 only, where Retry-After matters (see _limit_headers).
        headers_enabled=False,
        key_prefix="streetsafe",
    )
    app.after_request(_limit_headers(limiter))
    app.extensions["streetsafe.limiter"] = limiter
    return limiter


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

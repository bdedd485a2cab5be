"""Per-client abuse limits on report intake (Flask-Limiter on Redis), without keeping addresses.

A client is identified by HMAC-SHA256(daily key, client address). The daily key is random,
lives only in Redis (created with SET NX, expiring after 48 h, its name holding the UTC
date), and is never logged or written to PostgreSQL: once it expires, yesterday's counters
cannot be tied back to an address even by someone holding the Redis dump. Limits come from
STREETSAFE_RATE_LIMITS in Flask-Limiter's notation; an empty value turns them off.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from datetime import UTC, datetime

import redis
from flask import Flask, request
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
    limiter = Limiter(
        key_func=lambda: client_key(daily_key, request.remote_addr),
        app=app,
        storage_uri=settings.redis_url,
        strategy="moving-window",
        headers_enabled=True,
        key_prefix="streetsafe",
    )
    for endpoint in LIMITED_ENDPOINTS:
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(settings.rate_limits)(view)
    app.extensions["streetsafe.limiter"] = limiter
    return limiter

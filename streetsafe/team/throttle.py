"""Failed team sign-ins are throttled per client network and over all clients (Redis).

Each failure (a wrong form token or a bad Bearer token) adds one to two fixed-window
counters: one for the client's network (IPv4 /24, IPv6 /64) and one for everyone. While
either is at its limit, sign-ins from that network (or from anyone) get 429 with
Retry-After until the window ends. A network is named by HMAC-SHA256 under the limiter's
daily window key (limits.WindowKey), never by its address, and the counters hold no timestamps:
each expires with its window. If Redis is unreachable, sign-in is not throttled (one
warning is logged), since locking every team out would be worse than the brief gap.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import time
from dataclasses import dataclass

import redis

from ..errors import ApiError
from ..i18n import lazy_gettext as _l
from ..limits import WindowKey

log = logging.getLogger(__name__)
_PREFIX = "streetsafe:signin"


class TooManyAttempts(ApiError, status=429, code="rate_limited"):
    """Too many failed sign-ins from this network or overall; retry after the window."""


def network_of(address: str | None) -> str:
    """The client's network: /24 for IPv4, /64 for IPv6 ('unknown' when unparseable)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@dataclass
class SignInThrottle:
    """Fixed-window counters of failed sign-ins in Redis."""

    client: redis.Redis
    daily_key: WindowKey
    window_s: int
    per_network: int
    overall: int
    _redis_down: bool = False

    def _keys(self, address: str | None) -> tuple[str, str, int]:
        window = int(time.time() // self.window_s)
        digest = hmac.new(
            self.daily_key.current(), network_of(address).encode(), hashlib.sha256
        ).hexdigest()
        end = (window + 1) * self.window_s
        return f"{_PREFIX}:net:{window}:{digest}", f"{_PREFIX}:all:{window}", end

    def check(self, address: str | None) -> None:
        """Raise TooManyAttempts while this network or everyone is at the limit."""
        try:
            net_key, all_key, end = self._keys(address)
            by_network, overall = self.client.mget(net_key, all_key)
        except redis.RedisError:
            self._note_down()
            return
        self._note_up()
        if int(by_network or 0) >= self.per_network or int(overall or 0) >= self.overall:
            retry_after = max(1, int(end - time.time()))
            raise TooManyAttempts(
                _l("too many failed sign-ins; retry in %(seconds)s s", seconds=retry_after),
                None,
                headers={"Retry-After": str(retry_after)},
            )

    def failed(self, address: str | None) -> None:
        """Count one failed sign-in from `address`."""
        try:
            net_key, all_key, end = self._keys(address)
            pipe = self.client.pipeline(transaction=False)
            for key in (net_key, all_key):
                pipe.incr(key)
                pipe.expireat(key, end + 1)
            pipe.execute()
        except redis.RedisError:
            self._note_down()

    def _note_down(self) -> None:
        if not self._redis_down:
            log.warning("Redis unreachable: team sign-in is not throttled until it returns")
        self._redis_down = True

    def _note_up(self) -> None:
        if self._redis_down:
            log.warning("Redis is back: team sign-in is throttled again")
        self._redis_down = False

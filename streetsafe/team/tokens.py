"""Team sign-in tokens: shown once, stored only as an argon2 hash plus a short lookup prefix."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PREFIX = "sst"
_hasher = PasswordHasher()


def new_token() -> tuple[str, str]:
    """A fresh token and its lookup prefix: `sst_<lookup>_<secret>`."""
    lookup = secrets.token_hex(6)
    return f"{PREFIX}_{lookup}_{secrets.token_urlsafe(32)}", lookup


def lookup_of(token: str) -> str | None:
    """The lookup prefix a well-formed token carries, or None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


def hash_token(token: str) -> str:
    """The argon2id hash stored for a token."""
    return _hasher.hash(token)


class _VerifiedCache:
    """Tokens verified in the last minute, so API clients don't pay argon2 on every call."""

    def __init__(self, ttl_s: float = 60.0) -> None:
        self.ttl_s = ttl_s
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def key(self, token: str, stored_hash: str) -> str:
        return hashlib.sha256(f"{stored_hash}\0{token}".encode()).hexdigest()

    def hit(self, key: str) -> bool:
        with self._lock:
            expires = self._seen.get(key)
            return expires is not None and expires > time.monotonic()

    def remember(self, key: str) -> None:
        with self._lock:
            if len(self._seen) > 1000:
                self._seen.clear()
            self._seen[key] = time.monotonic() + self.ttl_s


_cache = _VerifiedCache()


def verify_token(token: str, stored_hash: str) -> bool:
    """True when `token` matches `stored_hash`."""
    key = _cache.key(token, stored_hash)
    if _cache.hit(key):
        return True
    try:
        _hasher.verify(stored_hash, token)
    except (VerificationError, InvalidHashError):
        return False
    _cache.remember(key)
    return True

"""Team sign-in tokens: shown once, stored only as a SHA-256 hash plus a short lookup prefix.

A token carries 256 random bits, so a slow password hash adds nothing against a stolen
table (no one can enumerate 2^256 secrets) while it hands an attacker a lever: argon2 cost
400 ms and 64 MiB per guess, and an unknown prefix skipped it, answering in 3 ms (a timing
oracle). SHA-256 is compared in constant time, and an unknown or malformed token is hashed
and compared against a dummy digest, so every guess costs the same small work.

Hashes written before this change are argon2 (`$argon2id$...`). They are still verified,
one at a time per process so that guesses cannot add up 64 MiB each, and replaced by the
SHA-256 form on the first successful sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PREFIX = "sst"
SCHEME = "sha256$"
_DUMMY_DIGEST = SCHEME + "0" * 64
_legacy_hasher = PasswordHasher()
_legacy_slot = threading.BoundedSemaphore(1)


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
    """The hash stored for a token: `sha256$<hex digest>`."""
    return SCHEME + hashlib.sha256(token.encode()).hexdigest()


def is_legacy(stored_hash: str) -> bool:
    """True for an argon2 hash from before SHA-256 (replace it after a good sign-in)."""
    return not stored_hash.startswith(SCHEME)


def verify_token(token: str, stored_hash: str | None) -> bool:
    """True when `token` matches `stored_hash`; None (no such team) costs the same and fails."""
    if stored_hash is not None and is_legacy(stored_hash):
        return _verify_legacy(token, stored_hash)
    digest = hash_token(token)
    matches = hmac.compare_digest(digest, stored_hash or _DUMMY_DIGEST)
    return matches and stored_hash is not None


def _verify_legacy(token: str, stored_hash: str) -> bool:
    with _legacy_slot:
        try:
            return _legacy_hasher.verify(stored_hash, token)
        except (VerificationError, InvalidHashError):
            return False

"""Idempotency-Key: claim the key in the report's own transaction, replay the first response.

The claim is `INSERT ... ON CONFLICT DO NOTHING`-style on the key's hash: a concurrent retry
with the same key blocks on the unique index until the first transaction commits, then sees
the stored response. A rejected request rolls back and leaves the key unclaimed. Only hashes
are stored: the key itself never reaches the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import Unprocessable

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    """The first response given for a key."""

    status: int
    body: dict[str, Any]


def key_hash(key: str) -> str:
    """SHA-256 (hex) of the client's key."""
    return hashlib.sha256(key.encode()).hexdigest()


def request_hash(payload: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a validated request body."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# A key whose entry has expired may be claimed afresh.
_CLAIM_SQL = sa.text("""
INSERT INTO idempotency_keys (key_hash, request_hash, status_code, response, expires_at)
VALUES (:key_hash, :request_hash, 0, '{}'::jsonb, now() + make_interval(hours => :ttl_hours))
ON CONFLICT (key_hash) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, status_code = 0, response = '{}'::jsonb,
        created_at = now(), expires_at = EXCLUDED.expires_at
    WHERE idempotency_keys.expires_at <= now()
RETURNING key_hash
""")
_STORED_SQL = sa.text("""
SELECT request_hash, status_code, response FROM idempotency_keys WHERE key_hash = :key_hash
""")
_RECORD_SQL = sa.text("""
UPDATE idempotency_keys SET status_code = :status, response = CAST(:body AS jsonb)
WHERE key_hash = :key_hash
""")
_PURGE_SQL = sa.text("DELETE FROM idempotency_keys WHERE expires_at <= now()")


def claim(
    session: Session, hashed_key: str, hashed_request: str, ttl_hours: int
) -> StoredResponse | None:
    """Claim the key (None), or return the response already stored for the same request.

    Raises Unprocessable naming the header when the key was used with a different body.
    """
    params = {"key_hash": hashed_key, "request_hash": hashed_request, "ttl_hours": ttl_hours}
    if session.scalar(_CLAIM_SQL, params) is not None:
        return None
    stored = session.execute(_STORED_SQL, {"key_hash": hashed_key}).one()
    if stored.request_hash != hashed_request:
        raise Unprocessable(
            f"this {HEADER} was already used with a different request body; "
            "use a new key for a new report",
            HEADER,
        )
    return StoredResponse(stored.status_code, stored.response)


def record(session: Session, hashed_key: str, status: int, body: dict[str, Any]) -> None:
    """Store the response for a claimed key (in the same transaction as the report)."""
    session.execute(
        _RECORD_SQL, {"key_hash": hashed_key, "status": status, "body": json.dumps(body)}
    )


def purge_expired(session: Session) -> int:
    """Delete expired keys; returns how many went."""
    return session.execute(_PURGE_SQL).rowcount

"""Idempotency-Key: claim the key in the report's own transaction, replay the first response.

The claim is `INSERT ... ON CONFLICT DO NOTHING`-style on the key's hash: a concurrent retry
with the same key blocks on the unique index until the first transaction commits, then sees
the stored response. A rejected request's claim is released in the same transaction, so the
key stays unclaimed. Keys are claimed in hash order, so two batches claiming the same keys
cannot deadlock. Only hashes are stored: the key itself never reaches the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..db import Executor, driver_rows
from ..errors import Unprocessable
from ..i18n import lazy_gettext as _l

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


# A key whose entry has expired may be claimed afresh. Its times are whole hours (no time that
# could link a report to a request): it expires at the end of the hour after claim + TTL.
_CLAIM_SQL = sa.text("""
INSERT INTO idempotency_keys (key_hash, request_hash, status_code, response, expires_at)
SELECT k.key_hash, k.request_hash, 0, '{}'::jsonb, date_trunc('hour', now())
       + make_interval(hours => :ttl_hours + 1)
FROM unnest(CAST(:key_hash AS text[]), CAST(:request_hash AS text[])) AS k(key_hash, request_hash)
ORDER BY k.key_hash
ON CONFLICT (key_hash) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, status_code = 0, response = '{}'::jsonb,
        created_at = date_trunc('hour', now()), expires_at = EXCLUDED.expires_at
    WHERE idempotency_keys.expires_at <= now()
RETURNING key_hash
""")
_STORED_SQL = sa.text("""
SELECT key_hash, request_hash, status_code, response FROM idempotency_keys
WHERE key_hash = ANY(CAST(:key_hash AS text[]))
""")
_RECORD_SQL = sa.text("""
UPDATE idempotency_keys k SET status_code = r.status, response = CAST(r.body AS jsonb)
FROM unnest(CAST(:key_hash AS text[]), CAST(:status AS integer[]), CAST(:body AS text[]))
     AS r(key_hash, status, body)
WHERE k.key_hash = r.key_hash
""")
_RELEASE_SQL = sa.text(
    "DELETE FROM idempotency_keys WHERE key_hash = ANY(CAST(:key_hash AS text[]))"
)


def claim(
    connection: Executor, requests: Mapping[str, str], ttl_hours: int
) -> dict[str, StoredResponse | Unprocessable | None]:
    """Claim each key (hash -> request hash): None where claimed, else the response already
    stored for the same request, or an Unprocessable naming the header for another body."""
    params = {"key_hash": list(requests), "request_hash": list(requests.values()),
              "ttl_hours": ttl_hours}  # fmt: skip
    claimed = {row.key_hash for row in driver_rows(connection, _CLAIM_SQL, params)}
    results: dict[str, StoredResponse | Unprocessable | None] = dict.fromkeys(claimed)
    taken = [key for key in requests if key not in claimed]
    if taken:
        for row in driver_rows(connection, _STORED_SQL, {"key_hash": taken}):
            if row.request_hash != requests[row.key_hash]:
                results[row.key_hash] = mismatch()
            else:
                results[row.key_hash] = StoredResponse(row.status_code, row.response)
    return results


def mismatch() -> Unprocessable:
    """The refusal of a key reused with a different body."""
    return Unprocessable(
        _l("this %(header)s was already used with a different request body; use a new key "
           "for a new report", header=HEADER),
        HEADER,
    )


def record(connection: Executor, responses: Mapping[str, tuple[int, dict[str, Any]]]) -> None:
    """Store the response of each claimed key (in the same transaction as the reports)."""
    if responses:
        params = {"key_hash": list(responses),
                  "status": [status for status, _ in responses.values()],
                  "body": [json.dumps(body) for _, body in responses.values()]}  # fmt: skip
        driver_rows(connection, _RECORD_SQL, params)


def release(connection: Executor, hashed_keys: list[str]) -> None:
    """Give up claims whose requests were refused: the keys may be used again."""
    if hashed_keys:
        driver_rows(connection, _RELEASE_SQL, {"key_hash": hashed_keys})

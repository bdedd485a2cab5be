"""A database of the tests' own, committed (servers in other processes must see the data)."""

from __future__ import annotations

import pytest
import redis

from ..conftest import migrated_database, redis_url


@pytest.fixture
def committed_database() -> str:
    url = migrated_database("resilience")
    return url


@pytest.fixture
def clean_redis() -> str:
    url = redis_url()
    redis.Redis.from_url(url).flushdb()
    return url

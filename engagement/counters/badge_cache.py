"""Badge counts served without a database query, and still correct across processes.

Every page view that shows a badge fetches it, and browsers and CDNs revalidate it (If-None-Match)
every five minutes; answered from the database, a busy article page would be the database's biggest
client. So each process remembers the counts its badges showed, and trusts an entry only while the
*version* of its counter is unchanged:

- Every write to a counter (follow, unfollow, external push) bumps the version of its
  (site, target, kind) after its commit.
- A badge read takes the version *before* reading the count from the database and stores the pair.
  If a write commits in between, the stored version is older than the one the write bumps to, so
  the entry is never trusted: at worst one extra database read, never a stale count kept.
- With ``ENGAGEMENT_REDIS_URL``, versions live in Redis (``counters:version:<site>:<target>:<kind>``),
  so a write in one gunicorn worker, another host or the CLI invalidates every worker's entry at
  once; entries still expire after a minute in case a bump was lost while Redis was unreachable.
- Without Redis, versions live in this process: a write here invalidates at once, a write in
  another worker is seen when the entry expires, after five seconds.

A hit costs no SQL query (one Redis GET when Redis is configured), a miss one query. Redis failures
turn into misses, never into errors.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import redis
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from engagement import clock
from engagement.extensions import db

log = logging.getLogger(__name__)

LOCAL_TTL = timedelta(seconds=5)
SHARED_TTL = timedelta(seconds=60)
MAX_ENTRIES = 10_000
REDIS_KEY_PREFIX = "counters:version:"
# A version key outlives any entry that could still hold it by far; then it may go.
REDIS_KEY_SECONDS = 7 * 24 * 3600
_EXTENSION_KEY = "engagement.badge_counts"

CounterKey = tuple[str, str, str]  # (site slug, target, kind)


class _Versions(Protocol):
    def current(self, key: CounterKey) -> int | None: ...

    def bump(self, key: CounterKey) -> None: ...


class _ProcessVersions:
    def __init__(self) -> None:
        self._versions: dict[CounterKey, int] = {}
        self._lock = threading.Lock()

    def current(self, key: CounterKey) -> int | None:
        return self._versions.get(key, 0)

    def bump(self, key: CounterKey) -> None:
        with self._lock:
            self._versions[key] = self._versions.get(key, 0) + 1


class _RedisVersions:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    @staticmethod
    def _name(key: CounterKey) -> str:
        return REDIS_KEY_PREFIX + ":".join(key)

    def current(self, key: CounterKey) -> int | None:
        try:
            raw = self._client.get(self._name(key))
        except redis.RedisError as error:
            log.warning("badge version unavailable: %s", error)
            return None  # unknown: nothing is trusted and nothing is stored
        return int(raw or 0)

    def bump(self, key: CounterKey) -> None:
        try:
            with self._client.pipeline() as pipe:
                pipe.incr(self._name(key)).expire(self._name(key), REDIS_KEY_SECONDS).execute()
        except redis.RedisError as error:
            log.warning("badge version not bumped, other workers may lag %s: %s", SHARED_TTL, error)


@dataclass(frozen=True)
class _Entry:
    count: int
    version: int
    expires_at: datetime


class BadgeCounts:
    """Per-process counts of the badges served, each valid while its counter's version holds."""

    def __init__(self, versions: _Versions, ttl: timedelta) -> None:
        self._versions = versions
        self._ttl = ttl
        self._entries: dict[CounterKey, _Entry] = {}

    def cached(self, key: CounterKey) -> int | None:
        """The remembered count, if still trustworthy; None means read the database."""
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= clock.now():
            return None
        if self._versions.current(key) != entry.version:
            return None
        return entry.count

    def version(self, key: CounterKey) -> int | None:
        """The counter's version; take it before reading the count it will be stored with."""
        return self._versions.current(key)

    def remember(self, key: CounterKey, count: int, version: int | None) -> None:
        if version is None:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # a crude bound: refilling costs one query per badge
        self._entries[key] = _Entry(count=count, version=version, expires_at=clock.now() + self._ttl)

    def invalidate(self, key: CounterKey) -> None:
        """Call after a committed write: this process forgets at once, others through the version."""
        self._entries.pop(key, None)
        self._versions.bump(key)


def badge_counts() -> BadgeCounts:
    """The current app's badge count cache, built on first use from ``REDIS_URL``."""
    extensions = current_app.extensions
    cache = extensions.get(_EXTENSION_KEY)
    if cache is None:
        url = current_app.config.get("REDIS_URL")
        if url:
            client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
            cache = BadgeCounts(_RedisVersions(client), SHARED_TTL)
        else:
            cache = BadgeCounts(_ProcessVersions(), LOCAL_TTL)
        cache = extensions.setdefault(_EXTENSION_KEY, cache)
    return cache


_PENDING = "engagement.badge_invalidations"


def invalidate_after_commit(key: CounterKey) -> None:
    """Forget ``key``'s cached count once the current transaction commits (nothing if it rolls back),
    so a write can be part of a larger use case without committing early."""
    db.session.info.setdefault(_PENDING, set()).add(key)


@event.listens_for(Session, "after_commit")
def _invalidate_committed(session: Session) -> None:
    keys = session.info.pop(_PENDING, None)
    if keys and has_app_context():
        cache = badge_counts()
        for key in keys:
            cache.invalidate(key)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)

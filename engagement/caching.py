"""What public reads look up on every request (a site, a thread's version and count, a badge's count),
cached in each process and kept correct across processes and hosts by *change stamps*.

Every article page's widget asks for its thread (mostly answered 304), article lists ask for counts and
badges are fetched by every page view. Answered from the database each time, these reads would be the
database's biggest client and cost most of their time in two small queries. So each process keeps what
it read, and trusts an entry only while the entry's change stamp is unchanged:

- Every cached thing has a key (``site:demo``, ``thread:1:2025/05/some-article``,
  ``counter:demo:site:followers``) and a shared stamp. Every committed write to the thing replaces
  its stamp with a new value (``touch_after_commit``; rows changed through the ORM are found by the
  ``after_flush`` hook below, thread UPDATEs go through ``execute_thread_update``).
- A read takes the stamp *before* reading the database and stores the value with it. A write that
  commits in between changes the stamp afterwards, so the entry is never trusted: at worst one extra
  read, never a stale value kept. The only window is the microseconds between a write's commit and
  its touch, and the writer's own answer is sent after the touch.
- A value whose stamps were read while the session's transaction was already open is served but not
  kept: on SQLite that transaction's snapshot was taken by an earlier query and may predate the stamp.
- A stamp never touched (a new file) or lost (Redis restarted or evicted it) is claimed anew, never
  read as 0, which an entry stored before the loss would also hold.
- Entries also expire after ``ENGAGEMENT_CACHE_SECONDS`` (60), so a change made behind the service's
  back (psql) or a touch lost while Redis was unreachable is seen within that time.
- ``StampedCache`` holds one value per key; ``DependentCache`` one value built from several keys (the
  counts of fifty threads), trusted while all their stamps hold.
- Every per-process cache is a ``BoundedMap``: at most so many entries and, where a key or a value
  comes from a request (a query string, a page of comments), at most so many bytes. A value too big
  for its share of the budget is served but not kept, so one answer cannot push out most of the others.

Where the stamps live:

- With ``ENGAGEMENT_REDIS_URL``: in Redis (one MGET per read), shared by every worker, host and CLI run.
  A Redis error makes the read a miss (the database answers), never an error, and reads leave Redis
  alone for ``BACKOFF_SECONDS`` after one, so a hung Redis costs one timeout per back-off.
- Otherwise: a memory-mapped file shared by every process of this host (gunicorn workers, the CLI):
  65,536 slots of 8 bytes, a key hashed to a slot. A read is a memory load; a touch writes a new random
  value, so concurrent writers need no lock (any new value is a change). Keys sharing a slot only cost
  extra misses. Hosts without a shared Redis cannot see each other's touches: several app hosts need
  Redis (docs/scaling.md).
"""

from __future__ import annotations

import dataclasses
import logging
import mmap
import os
import random
import struct
import sys
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import redis
from flask import Flask, current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from engagement.database import host_file_path, snapshot_is_current
from engagement.extensions import db
from engagement.models import Ban, Site, SsoKey, Thread, WebhookEndpoint

log = logging.getLogger(__name__)

V = TypeVar("V")

SLOTS = 1 << 16
_SLOT = struct.Struct("<Q")
# Keys come from requests (thread keys are up to 512 characters): few and short ones are remembered, so
# a flood of long distinct keys costs at most a few MB (4,096 x 200 characters), never more.
MAX_REMEMBERED_OFFSETS = 4_096
MAX_REMEMBERED_KEY_LENGTH = 200
REDIS_PREFIX = "engagement:stamp:"
# A stamp must outlive every entry that could hold it by far; then Redis may drop it (a miss).
REDIS_STAMP_SECONDS = 7 * 24 * 3600
MAX_ENTRIES = 10_000
# Answers kept per query string (counts, badges): their keys and values are as big as a request makes them.
DEPENDENT_CACHE_BYTES = 16 * 2**20
# A value bigger than this share of its cache's byte budget is not kept.
LARGEST_SHARE = 8
BACKOFF_SECONDS = 5.0
_EXTENSION = "engagement.caching"
_PENDING = "engagement.pending_touches"


def site_key(slug: str) -> str:
    return f"site:{slug}"


def thread_key(site_id: int, key: str) -> str:
    """Everything readers see of a thread: its row and its comments (count, version)."""
    return f"thread:{site_id}:{key}"


def thread_posting_key(site_id: int, key: str) -> str:
    """What posting to a thread reads: which row it is and whether it is open. Unlike ``thread_key``,
    a new comment does not touch it, so a stream of posts to one article keeps finding it cached."""
    return f"thread-posting:{site_id}:{key}"


def thread_keys(site_id: int, key: str) -> tuple[str, str]:
    """Both stamps of a thread: what readers see of it and what posting reads of it."""
    return thread_key(site_id, key), thread_posting_key(site_id, key)


def bans_key(site_id: int) -> str:
    """Every ban of a site (created, imported and lifted as ORM rows, found by the flush hook)."""
    return f"bans:{site_id}"


def webhooks_key(site_id: int) -> str:
    """A site's webhook endpoints (created, changed and removed as ORM rows, found by the flush hook)."""
    return f"webhooks:{site_id}"


def sso_keys_key(site_id: int) -> str:
    """A site's single sign-on keys (added, retired and removed as ORM rows, found by the flush hook)."""
    return f"sso-keys:{site_id}"


def counter_key(site_slug: str, target: str, kind: str) -> str:
    return f"counter:{site_slug}:{target}:{kind}"


class ChangeStamps(Protocol):
    def read(self, keys: Sequence[str]) -> list[int | None]:
        """The keys' current stamps; None where unknown (trust no entry, store none)."""

    def touch(self, keys: Collection[str]) -> None:
        """Give each key a new stamp: every entry cached under the old one stops being trusted."""


def _new_stamp() -> int:
    return random.getrandbits(62) | 1  # never 0, which means "never touched"


class HostStamps:
    """Stamps in a file mapped into every process of this host (in this process, and children forked
    after its first use, without a path)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._failed_until = 0.0
        self._lock = threading.Lock()
        # Each key's place in the file, remembered: a counts request reads fifty stamps, and hashing
        # each key again cost more than reading it. Bounded (see MAX_REMEMBERED_OFFSETS): emptied when full.
        self._offsets: dict[str, int] = {}

    def _mapped(self) -> mmap.mmap | None:
        if self._map is None and time.monotonic() >= self._failed_until:
            with self._lock:
                if self._map is None:
                    try:
                        self._map = self._open()
                    except OSError as error:
                        # An unwritable instance/ or a file another user made: serve from the database.
                        self._failed_until = time.monotonic() + BACKOFF_SECONDS
                        log.warning(
                            "change stamps file %s unusable, reading the database: %s", self.path, error
                        )
        return self._map

    def _open(self) -> mmap.mmap:
        size = SLOTS * _SLOT.size
        if self.path is None:
            return mmap.mmap(-1, size)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < size:
                os.ftruncate(descriptor, size)  # zero-filled; several processes may do this at once
            return mmap.mmap(descriptor, size, mmap.MAP_SHARED)
        finally:
            os.close(descriptor)

    def _offset(self, key: str) -> int:
        offset = self._offsets.get(key)
        if offset is None:
            offset = (zlib.crc32(key.encode()) & (SLOTS - 1)) * _SLOT.size
            if len(key) <= MAX_REMEMBERED_KEY_LENGTH:
                if len(self._offsets) >= MAX_REMEMBERED_OFFSETS:
                    self._offsets.clear()
                self._offsets[key] = offset
        return offset

    def read(self, keys: Sequence[str]) -> list[int | None]:
        mapped = self._mapped()
        if mapped is None:
            return [None] * len(keys)
        # One tight loop: a counts request reads fifty stamps.
        unpack, offsets, offset = _SLOT.unpack_from, self._offsets, self._offset
        stamps: list[int | None] = [unpack(mapped, offsets.get(key) or offset(key))[0] for key in keys]
        if 0 not in stamps:
            return stamps
        for index, stamp in enumerate(stamps):
            if stamp == 0:
                # Never touched (a new file): claim a random stamp rather than trust 0, which an entry
                # stored before the file was made again would also hold. A write after the claim
                # replaces it, as any touch does; a concurrent claim only costs a miss.
                stamps[index] = claimed = _new_stamp()
                _SLOT.pack_into(mapped, self._offset(keys[index]), claimed)
        return stamps

    def touch(self, keys: Collection[str]) -> None:
        mapped = self._mapped()
        if mapped is None:
            log.warning("change stamps not touched, other processes may lag up to their TTL: no stamps file")
            return
        for key in keys:
            _SLOT.pack_into(mapped, self._offset(key), _new_stamp())


class RedisStamps:
    """Stamps in Redis, shared by every process on every host.

    After a Redis error, reads give "unknown" for ``BACKOFF_SECONDS`` without asking, so a hung Redis
    costs one socket timeout per back-off instead of one per request. Touches always try: a lost
    touch is a stale entry elsewhere (until its TTL), a slow write is only slow."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._failed_until = 0.0

    def read(self, keys: Sequence[str]) -> list[int | None]:
        if time.monotonic() < self._failed_until:
            return [None] * len(keys)
        names = [REDIS_PREFIX + key for key in keys]
        try:
            raw = self._client.mget(names)
            missing = [index for index, value in enumerate(raw) if value is None]
            if missing:
                # A key Redis lost (restart, flush, eviction) must not read as the stamp an old entry was
                # stored under: claim a random one (the first claim wins, every claimer reads it back).
                with self._client.pipeline(transaction=False) as pipe:
                    for index in missing:
                        pipe.set(names[index], _new_stamp(), nx=True, ex=REDIS_STAMP_SECONDS)
                        pipe.get(names[index])
                    claimed = pipe.execute()[1::2]
                for index, value in zip(missing, claimed, strict=True):
                    raw[index] = value
        except redis.RedisError as error:
            self._failed_until = time.monotonic() + BACKOFF_SECONDS
            log.warning("change stamps unavailable for %ss, reading the database: %s", BACKOFF_SECONDS, error)
            return [None] * len(keys)
        return [int(value) if value is not None else None for value in raw]

    def touch(self, keys: Collection[str]) -> None:
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(REDIS_PREFIX + key, _new_stamp(), ex=REDIS_STAMP_SECONDS)
                pipe.execute()
        except redis.RedisError as error:
            self._failed_until = time.monotonic() + BACKOFF_SECONDS
            log.warning("change stamps not touched, other processes may lag up to their TTL: %s", error)


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    stamp: int
    expires_at: float
    value: V


def approximate_size(value: object) -> int:
    """Roughly the bytes ``value`` holds in memory: its own, plus its parts' for containers and dataclasses.

    Classes count nothing (every entry shares them); an object met twice counts twice (an overestimate,
    which a budget can afford)."""
    if isinstance(value, type):
        return 0
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        parts: Iterable[object] = (*value.keys(), *value.values())
    elif isinstance(value, tuple | list | set | frozenset):
        parts = value
    elif dataclasses.is_dataclass(value):
        parts = (getattr(value, field.name) for field in dataclasses.fields(value))
    else:
        return size
    return size + sum(approximate_size(part) for part in parts)


def entry_size(key: object, value: object) -> int:
    """What a cache entry holds: its key and its value (``approximate_size``)."""
    return approximate_size(key) + approximate_size(value)


K = TypeVar("K", bound=Hashable)


class BoundedMap(Generic[K, V]):
    """A process's cached values, at most ``max_entries`` of them and, given ``max_bytes``, at most that
    many bytes by ``size(key, value)``. Storing past either bound evicts the oldest stored first (with
    ``lru``, the least recently read). A value bigger than ``max_bytes // LARGEST_SHARE`` is not kept.

    Reads without ``lru`` take no lock (one dict read); with ``lru`` every read reorders under the lock."""

    def __init__(
        self,
        *,
        max_entries: int,
        max_bytes: int | None = None,
        size: Callable[[K, V], int] = entry_size,
        lru: bool = False,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.nbytes = 0  # the total of the sizes of what it holds (0 without max_bytes: nothing measured)
        self._size = size
        self._lru = lru
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._sizes: dict[K, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        if not self._lru:
            return self._entries.get(key)
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> bool:
        """Keep ``value`` under ``key`` (replacing what was there); False when it is too big to keep."""
        size = 0 if self.max_bytes is None else self._size(key, value)
        with self._lock:
            self._forget(key)
            if self.max_bytes is not None and size > self.max_bytes // LARGEST_SHARE:
                return False
            while self._entries and (
                len(self._entries) >= self.max_entries
                or (self.max_bytes is not None and self.nbytes + size > self.max_bytes)
            ):
                self._forget(next(iter(self._entries)))
            self._entries[key] = value
            self._sizes[key] = size
            self.nbytes += size
        return True

    def _forget(self, key: K) -> None:
        size = self._sizes.pop(key, None)
        if size is not None:
            del self._entries[key]
            self.nbytes -= size

    def items(self) -> list[tuple[K, V]]:
        with self._lock:
            return list(self._entries.items())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self.nbytes = 0


E = TypeVar("E")


class _BoundedEntries(Generic[E]):
    """Entries of one process, at most ``max_entries`` (and ``max_bytes``, if given, by ``entry_size``):
    when full, the oldest stored goes."""

    def __init__(
        self,
        stamps: ChangeStamps,
        *,
        ttl_seconds: float,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int | None = None,
        lru: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stamps = stamps
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._entries: BoundedMap[Hashable, E] = BoundedMap(
            max_entries=max_entries, max_bytes=max_bytes, lru=lru
        )

    def _store(self, key: Hashable, entry: E) -> None:
        self._entries.put(key, entry)

    def clear(self) -> None:
        self._entries.clear()


class StampedCache(_BoundedEntries[_Entry[V]]):
    """A process's copies of values, each trusted while its key's stamp holds and its TTL runs."""

    def get(self, key: str, load: Callable[[], V]) -> V:
        """The value of ``key``, from this process when trustworthy, else ``load()`` (and kept)."""
        return self.get_many([key], lambda _missing: {key: load()})[key]

    def get_many(self, keys: Sequence[str], load: Callable[[list[str]], dict[str, V]]) -> dict[str, V]:
        """Values of ``keys``; ``load(missing)`` must answer every key it is asked, in one go."""
        storable = not _snapshot_may_predate_stamps()
        stamps = self._stamps.read(keys)
        now = self._monotonic()
        found: dict[str, V] = {}
        missing: dict[str, int | None] = {}
        for key, stamp in zip(keys, stamps, strict=True):
            entry = self._entries.get(key)
            if entry is not None and stamp is not None and entry.stamp == stamp and entry.expires_at > now:
                found[key] = entry.value
            else:
                missing[key] = stamp
        if missing:
            loaded = load(list(missing))
            changed = _changed_in_this_transaction() if storable else set()
            for key, stamp in missing.items():
                found[key] = loaded[key]
                if stamp is not None and storable and key not in changed:
                    self._store(key, _Entry(stamp, now + self._ttl, loaded[key]))
        return found


@dataclass(frozen=True, slots=True)
class _DependentEntry(Generic[V]):
    keys: tuple[str, ...]
    stamps: tuple[int | None, ...]
    expires_at: float
    value: V


class DependentCache(_BoundedEntries[_DependentEntry[V]]):
    """Values built from several stamped things (the counts of fifty threads), each trusted while every
    one of its keys' stamps holds, without redoing the work of finding those keys."""

    def get(
        self,
        key: Hashable,
        depends_on: Callable[[], Sequence[str]],
        build: Callable[[], V],
        *,
        still_valid: Callable[[V], bool] | None = None,
    ) -> V:
        """The value for ``key``: from this process while the stamps of what it was built from hold, else
        ``build()``. ``depends_on()`` names those stamped keys; it runs first, so their stamps are read
        before ``build`` reads the database (a write in between can only cost a miss). ``still_valid``
        tells whether a value that also depends on the time (a count that goes stale) still holds."""
        entry = self._entries.get(key)
        # Stored stamps are never None, so an unknown stamp (Redis down) never matches.
        if (
            entry is not None
            and entry.expires_at > self._monotonic()
            and (still_valid is None or still_valid(entry.value))
            and tuple(self._stamps.read(entry.keys)) == entry.stamps
        ):
            return entry.value
        keys = tuple(depends_on())
        storable = not _snapshot_may_predate_stamps()
        stamps = tuple(self._stamps.read(keys))
        value = build()
        if storable and None not in stamps and not _changed_in_this_transaction().intersection(keys):
            self._store(key, _DependentEntry(keys, stamps, self._monotonic() + self._ttl, value))
        return value


def _snapshot_may_predate_stamps() -> bool:
    """True when the app's session has a transaction open whose snapshot may be older than the stamps
    read now: a SQLite read transaction, whose snapshot was taken by its first query, may not hold a write
    whose touch came before the stamps read now, so what it loads would be stored under a newer stamp
    than its data. Such a value is served but not kept (at most one more miss).

    Not so for a SQLite transaction that holds the write lock (it saw every commit before it began, and
    none can commit until it ends) nor on PostgreSQL (READ COMMITTED: each statement sees what was
    committed before it began, so after the stamps were read): what they load is kept, unless the
    transaction changed it itself (``_changed_in_this_transaction``). Writes ask for cached values in the
    middle of their transaction (a post asks which webhook endpoints want it)."""
    if not has_app_context():
        return False
    registry = db.session.registry
    return registry.has() and registry().in_transaction() and not snapshot_is_current()


def _changed_in_this_transaction() -> set[str]:
    """The keys the open transaction will touch when it commits (its writes so far, flushed ones included:
    read after the load, whose autoflush may add some). What a write transaction loads holds its own
    uncommitted changes; a value of one of these keys is served but not kept, so a rollback leaves no
    trace of them in the cache."""
    if not has_app_context() or not db.session.registry.has():
        return set()
    return db.session.info.get(_PENDING, set())


class _Caches:
    def __init__(self, stamps: ChangeStamps, ttl_seconds: float) -> None:
        self.stamps = stamps
        self.ttl_seconds = ttl_seconds
        self.named: dict[str, StampedCache[Any]] = {}
        self.dependent: dict[str, DependentCache[Any]] = {}
        self.lock = threading.Lock()


def default_stamps_path(app: Flask) -> Path | None:
    """Beside a SQLite database file, else in ``instance/`` per database; None for in-memory SQLite."""
    return host_file_path(app, suffix=".stamps", instance_name="change-stamps")


def init_app(app: Flask) -> None:
    """Choose where this app's stamps live: Redis when configured, else this host's stamp file."""
    if app.config.get("REDIS_URL"):
        client = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=0.25, socket_connect_timeout=0.25
        )
        stamps: ChangeStamps = RedisStamps(client)
    else:
        configured = app.config.get("CHANGE_STAMPS_PATH")
        stamps = HostStamps(Path(configured) if configured else default_stamps_path(app))
    app.extensions[_EXTENSION] = _Caches(stamps, app.config["CACHE_SECONDS"])


def _caches() -> _Caches:
    return current_app.extensions[_EXTENSION]


def cache(name: str) -> StampedCache[Any]:
    """The current app's cache called ``name`` (one per kind of value)."""
    caches = _caches()
    found = caches.named.get(name)
    if found is None:
        with caches.lock:
            found = caches.named.setdefault(name, StampedCache(caches.stamps, ttl_seconds=caches.ttl_seconds))
    return found


def dependent_cache(
    name: str, *, max_bytes: int = DEPENDENT_CACHE_BYTES, max_entries: int = MAX_ENTRIES, lru: bool = False
) -> DependentCache[Any]:
    """The current app's cache called ``name`` of values that depend on several stamped keys (its bounds
    are those of the first call)."""
    caches = _caches()
    found = caches.dependent.get(name)
    if found is None:
        with caches.lock:
            found = caches.dependent.setdefault(
                name,
                DependentCache(
                    caches.stamps,
                    ttl_seconds=caches.ttl_seconds,
                    max_bytes=max_bytes,
                    max_entries=max_entries,
                    lru=lru,
                ),
            )
    return found


def forget_all() -> None:
    """Empty every cache of this process (the next reads go to the database); the stamps stay."""
    caches = _caches()
    with caches.lock:
        for value_cache in (*caches.named.values(), *caches.dependent.values()):
            value_cache.clear()


def change_stamps() -> ChangeStamps:
    return _caches().stamps


def touch_after_commit(keys: Iterable[str], session: Session | None = None) -> None:
    """Touch ``keys`` once the current transaction (of ``session``, default the app's) commits, so a
    write can be part of a larger use case.

    A rollback leaves them pending; the next commit of the session touches them too, which costs an
    extra miss at most (a session ends with its request)."""
    (session or db.session).info.setdefault(_PENDING, set()).update(keys)


@event.listens_for(Session, "after_flush")
def _touch_flushed_rows(session: Session, _context: Any) -> None:
    # Sites, threads, bans, webhook endpoints and single sign-on keys changed through the ORM (settings,
    # a thread made by an import, a ban lifted); the lists still hold what this flush wrote.
    keys = set()
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, Site):
            values = _key_values(session, row, ("slug",))
            if len(values) == 1:
                keys.add(site_key(values["slug"]))
        elif isinstance(row, Ban):
            values = _key_values(session, row, ("site_id",))
            if len(values) == 1:
                keys.add(bans_key(values["site_id"]))
        elif isinstance(row, Thread):
            values = _key_values(session, row, ("site_id", "key"))
            if len(values) == 2:
                keys.update(thread_keys(values["site_id"], values["key"]))
        elif isinstance(row, WebhookEndpoint):
            values = _key_values(session, row, ("site_id",))
            if len(values) == 1:
                keys.add(webhooks_key(values["site_id"]))
        elif isinstance(row, SsoKey):
            values = _key_values(session, row, ("site_id",))
            if len(values) == 1:
                keys.add(sso_keys_key(values["site_id"]))
    if keys:
        touch_after_commit(keys, session)


def _key_values(session: Session, row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """A flushed row's key columns. A row still in the database may have them expired (changed after a
    commit): reading loads them. A deleted row cannot be loaded: what it held, if anything."""
    if row in session.deleted:
        loaded = inspect(row).dict
        return {name: loaded[name] for name in names if name in loaded}
    return {name: getattr(row, name) for name in names}


@event.listens_for(Session, "after_commit")
def _touch_committed(session: Session) -> None:
    keys = session.info.pop(_PENDING, None)
    if keys and has_app_context() and _EXTENSION in current_app.extensions:
        change_stamps().touch(keys)

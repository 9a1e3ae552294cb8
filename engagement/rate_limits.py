"""Where rate limits are counted, so that a client has one budget however many processes serve it.

Flask-Limiter (the ``rate_limit`` decorator) and the per-address mail limit count fixed windows in a
``limits`` storage. Counted in each process's memory, every gunicorn worker would give a client a budget
of its own: N workers, N times every limit. So the counters live where every process serving the app
can reach them:

- With ``ENGAGEMENT_REDIS_URL``: in Redis, shared by every process on every host. While Redis is down,
  Flask-Limiter counts in each process's memory (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``) and goes back
  to Redis when it answers.
- Otherwise: in a SQLite file shared by every process of this host (``HostFileStorage``), beside the
  SQLite database, else in ``instance/`` per database (``ENGAGEMENT_RATELIMIT_STORAGE_PATH`` overrides).
  Other hosts count in files of their own: several app hosts need Redis for one budget.
- An in-memory SQLite database (tests) has no file beside it: each process's memory.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlparse

from flask import Flask, Response, current_app
from limits import parse_many
from limits.storage import MemoryStorage, Storage
from redis.exceptions import RedisError

from engagement.database import host_file_path
from engagement.extensions import limiter

log = logging.getLogger(__name__)

T = TypeVar("T")

SCHEME = "engagement+sqlite"
# A hit holds SQLite's write lock for some twenty microseconds (the longest waits measured, a few
# hundred ms, were a lock holder descheduled on a busy machine); waiting longer than this means something
# is wrong with the file, and this process counts in memory for a while rather than hold up requests.
BUSY_TIMEOUT_SECONDS = 2.0
BACKOFF_SECONDS = 5.0
CLEANUP_SECONDS = 60.0

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS windows"
    " (key TEXT PRIMARY KEY, hits INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS windows_by_expiry ON windows (expires_at)",
)
# Each hit is one statement, so one write transaction: concurrent hits on a key queue for SQLite's lock
# and each adds to the count the previous one left. The usual hit adds to a running window and leaves
# expires_at (and so its index) alone; on a window that has ended it changes nothing and returns no row,
# and ``_RESTART`` starts the window again at this hit, or adds to it if another process just did.
_ADD = (
    "INSERT INTO windows (key, hits, expires_at) VALUES (:key, :amount, :expires_at)"
    " ON CONFLICT (key) DO UPDATE SET hits = hits + excluded.hits WHERE expires_at > :now"
    " RETURNING hits"
)
_RESTART = (
    "INSERT INTO windows (key, hits, expires_at) VALUES (:key, :amount, :expires_at)"
    " ON CONFLICT (key) DO UPDATE SET"
    " hits = CASE WHEN expires_at > :now THEN hits + excluded.hits ELSE excluded.hits END,"
    " expires_at = CASE WHEN expires_at > :now THEN expires_at ELSE excluded.expires_at END"
    " RETURNING hits"
)
_WINDOW = "SELECT hits, expires_at FROM windows WHERE key = ? AND expires_at > ?"

# Connections a process inherited through fork(): SQLite forbids using them in the child, and closing one
# there could release the locks of the child's own connection to the file, so they are kept, unused.
_inherited: list[sqlite3.Connection] = []


def storage_uri(path: Path) -> str:
    """The ``limits`` storage URI of ``HostFileStorage`` for the file at ``path``."""
    return f"{SCHEME}://{quote(str(path.absolute()))}"


class HostFileStorage(Storage):
    """Fixed windows in a SQLite file that every process of this host opens (WAL, so reads never wait
    for the writer). A hit is one UPSERT; windows that have ended are deleted once a minute by each
    process, so the file holds only the windows still running.

    When the file cannot be used (an unwritable directory, a damaged file, a lock held for seconds), this
    process counts in its own memory, says so once in the log, and tries the file again after
    ``BACKOFF_SECONDS``: a rate limit never turns a request into an error."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self,
        uri: str,
        wrap_exceptions: bool = False,
        clock: Callable[[], float] = time.time,
        **options: Any,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(unquote(urlparse(uri).path))
        self._clock = clock  # seconds since the epoch, as Flask-Limiter's reset times are
        self._local = threading.local()
        self._lock = threading.Lock()
        self._memory: MemoryStorage | None = None
        self._failed_until = 0.0
        self._degraded = False
        self._next_cleanup = 0.0

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        return (sqlite3.Error, OSError)

    # --- the limits.storage.Storage interface (what the fixed-window strategy calls) --------------------

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        def on_file(connection: sqlite3.Connection, now: float) -> int:
            if now >= self._next_cleanup:
                self._next_cleanup = now + CLEANUP_SECONDS
                connection.execute("DELETE FROM windows WHERE expires_at <= ?", (now,))
            values = {"key": key, "amount": amount, "expires_at": now + expiry, "now": now}
            added = connection.execute(_ADD, values).fetchone()
            return (added or connection.execute(_RESTART, values).fetchone())[0]

        return self._counted(on_file, lambda memory: memory.incr(key, expiry, amount))

    def get(self, key: str) -> int:
        def on_file(connection: sqlite3.Connection, now: float) -> int:
            row = connection.execute(_WINDOW, (key, now)).fetchone()
            return row[0] if row else 0

        return self._counted(on_file, lambda memory: memory.get(key))

    def get_expiry(self, key: str) -> float:
        def on_file(connection: sqlite3.Connection, now: float) -> float:
            row = connection.execute(_WINDOW, (key, now)).fetchone()
            return row[1] if row else now

        return self._counted(on_file, lambda memory: memory.get_expiry(key))

    def clear(self, key: str) -> None:
        def on_file(connection: sqlite3.Connection, _now: float) -> None:
            connection.execute("DELETE FROM windows WHERE key = ?", (key,))

        self._counted(on_file, lambda memory: memory.clear(key))

    def reset(self) -> int | None:
        def on_file(connection: sqlite3.Connection, _now: float) -> int:
            return connection.execute("DELETE FROM windows").rowcount

        return self._counted(on_file, lambda memory: memory.reset())

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1 FROM windows LIMIT 1").fetchall()
        except (sqlite3.Error, OSError):
            return False
        return True

    # --- the file, or this process's memory --------------------------------------------------------------

    def _counted(
        self,
        on_file: Callable[[sqlite3.Connection, float], T],
        in_memory: Callable[[MemoryStorage], T],
    ) -> T:
        if time.monotonic() >= self._failed_until:
            try:
                result = on_file(self._connection(), self._clock())
            except (sqlite3.Error, OSError) as error:
                self._give_up_for_a_while(error)
            else:
                if self._degraded:
                    self._degraded = False
                    log.info("rate limits are counted in %s again", self.path)
                return result
        return in_memory(self._memory_storage())

    def _give_up_for_a_while(self, error: Exception) -> None:
        self._failed_until = time.monotonic() + BACKOFF_SECONDS
        self._forget_connection(close=True)  # a fresh one next time: this one may be in any state
        if not self._degraded:
            self._degraded = True
            log.warning(
                "rate limit file %s unusable, counting in this process's memory (each worker its own "
                "budget) until it works again: %s",
                self.path,
                error,
            )

    def _connection(self) -> sqlite3.Connection:
        opened = getattr(self._local, "opened", None)
        if opened is not None and opened[0] == os.getpid():
            return opened[1]
        self._forget_connection(close=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            # Counters need not survive a power cut; WAL with NORMAL stays consistent and skips an fsync
            # per hit.
            connection.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                connection.execute(statement)
        except sqlite3.Error:
            connection.close()
            raise
        self._local.opened = (os.getpid(), connection)
        return connection

    def _forget_connection(self, *, close: bool) -> None:
        opened = getattr(self._local, "opened", None)
        self._local.opened = None
        if opened is None:
            return
        pid, connection = opened
        if pid != os.getpid():
            _inherited.append(connection)
        elif close:
            connection.close()

    def _memory_storage(self) -> MemoryStorage:
        if self._memory is None:
            with self._lock:
                if self._memory is None:
                    self._memory = MemoryStorage()
        return self._memory


def default_storage_path(app: Flask) -> Path | None:
    """Beside a SQLite database file, else in ``instance/`` per database; None for in-memory SQLite."""
    return host_file_path(app, suffix=".ratelimits", instance_name="rate-limits")


def init_app(app: Flask) -> None:
    """Bind the limiter to where this app counts: Redis when configured, else this host's file."""
    config = app.config
    if not config.get("RATELIMIT_STORAGE_URI"):
        configured = config.get("RATELIMIT_STORAGE_PATH")
        path = Path(configured) if configured else default_storage_path(app)
        config["RATELIMIT_STORAGE_URI"] = config.get("REDIS_URL") or (
            storage_uri(path) if path else "memory://"
        )
    # Registered before the limiter's own hook, so it runs after it (Flask runs them last in, first out).
    app.after_request(_retry_after_only_when_refused)
    limiter.init_app(app)


# Answers that ask the client to come back later; on any other, Retry-After would tell it to wait for nothing.
_RETRY_STATUSES = frozenset({429, 503})


def _retry_after_only_when_refused(response: Response) -> Response:
    """Flask-Limiter puts ``Retry-After`` (the end of the window) on every answer of a limited view beside
    its X-RateLimit-* headers; it belongs on a 429 or a 503 only (RFC 9110), never on a 200."""
    if response.status_code not in _RETRY_STATUSES:
        response.headers.pop("Retry-After", None)
    return response


def within_limit(setting: str, *, scope: str, key: str) -> bool:
    """Count one hit of ``key`` against the app's ``setting`` (``"3 per hour;10 per day"``) in ``scope``,
    outside any view: a limit per email address rather than per IP. Pass a keyed hash as ``key``, never an
    address in clear. True while the store is down (the caller's other limits still hold)."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    try:
        return all(limiter.limiter.hit(item, scope, key) for item in parse_many(current_app.config[setting]))
    except (RedisError, OSError):
        log.warning("%s rate limit unavailable", scope, exc_info=True)
        return True

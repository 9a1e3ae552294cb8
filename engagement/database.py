"""Database behaviour that differs between SQLite and PostgreSQL, kept in one place."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import sqlite3
import struct
import time
from collections.abc import Collection, Iterator
from hashlib import sha256
from pathlib import Path
from typing import Any

from flask import Flask, Response, has_request_context, request
from sqlalchemy import (
    ARRAY,
    Engine,
    Integer,
    TextClause,
    any_,
    bindparam,
    event,
    false,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.sql.dml import Insert
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, UnicodeConverter

from engagement.extensions import db

log = logging.getLogger(__name__)

# Ids, and the counts kept on rows (likes, comment_count), are INTEGER columns: 32 bits on PostgreSQL (64 on
# SQLite). A larger value cannot name or match a row, and the drivers refuse to send one (SQLite:
# OverflowError, a 500; PostgreSQL: out of range, a 503): every integer from a request is checked
# against this range at the edge.
MIN_INTEGER = -(2**31)
MAX_INTEGER = 2**31 - 1
MAX_ROW_ID = MAX_INTEGER


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in a route is a row id: one beyond ``MAX_ROW_ID`` names nothing, so 404."""

    def to_python(self, value: str) -> int:
        row_id = super().to_python(value)
        if row_id > MAX_ROW_ID:
            # Not werkzeug's ValidationError, which would try the path's other rules and could answer
            # 405 with their methods; a plain 404, through the app's JSON error handler.
            raise NotFound()
        return row_id


class TextSegmentConverter(UnicodeConverter):
    """A ``<name>`` in a route (a site slug, a kind, a signed token): one holding NUL names nothing, so
    404. PostgreSQL text cannot hold NUL, so a lookup with one fails in the driver (a 503) instead.
    (Lone surrogates cannot arrive here: werkzeug decodes the path with errors="replace".)"""

    def to_python(self, value: str) -> str:
        if "\x00" in value:
            raise NotFound()
        return value


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BUSY_TIMEOUT_MS = 15_000
_POLL_SECONDS = 2.0
_POLL_INTERVAL = 0.00025


def host_file_path(app: Flask, *, suffix: str, instance_name: str) -> Path | None:
    """Where the processes of this host share a file about the app's database: beside a SQLite file
    (``news.db`` + ``suffix``, where SQLite keeps its ``-wal`` and ``-shm``), else
    ``instance/<instance_name>-<digest>``, one per database (the digest of its URL without the password);
    None for an in-memory SQLite database, which no process shares."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database.startswith("file:"):  # a URI filename (?uri=true): its path, unless it is in memory
            in_memory = url.query.get("mode") == "memory" or "mode=memory" in database
            database = "" if in_memory else database[len("file:") :].partition("?")[0]
        if not database or database == ":memory:" or database.startswith(":memory:"):
            return None
        # A relative path is in the instance folder, where Flask-SQLAlchemy opens it (not the working one).
        path = Path(app.instance_path) / database
        return path.with_name(path.name + suffix)
    digest = sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:12]
    return Path(app.instance_path) / f"{instance_name}-{digest}"


def configure_engine(app: Flask) -> None:
    """Apply SQLite pragmas and transaction mode; survive a connection lost after the answer is ready."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
        _checkpoint_after_responses(app, engine)
    _release_session_even_if_its_connection_died(app)


def _release_session_even_if_its_connection_died(app: Flask) -> None:
    # Flask-SQLAlchemy ends each request with session.remove(), whose ROLLBACK raises when the server
    # closed the connection (a restart, pg_terminate_backend) after the view finished; that exception
    # would escape the app and gunicorn would answer 500 HTML instead of the answer already made.
    # Registered after Flask-SQLAlchemy's teardown, so it runs first (teardowns run in reverse).
    @app.teardown_appcontext
    def remove_session(_error: BaseException | None) -> None:
        try:
            db.session.remove()
        except DBAPIError as error:
            # SQLAlchemy has already invalidated the connection; the pool replaces it on next checkout.
            log.warning("database connection lost at the end of a request: %s", error.__class__.__name__)
            db.session.registry.clear()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # Checkpoints: a request's commit leaves them to after its answer (_checkpoint_after_responses);
        # anything else (an import, the worker) checkpoints as SQLite does by default.
        pages = _REQUEST_AUTOCHECKPOINT_PAGES if has_request_context() else WAL_CHECKPOINT_PAGES
        if connection.info.get(_AUTOCHECKPOINT) != pages:  # once a connection, as it changes hands
            connection.connection.dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={pages}")
            connection.info[_AUTOCHECKPOINT] = pages
        # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when another
        # writer got in between; taking the write lock up front makes writers queue instead. Reads stay
        # deferred so they never wait for writers (WAL).
        if _READING.get() or (has_request_context() and request.method in _READ_METHODS):
            connection.exec_driver_sql("BEGIN")
            connection.info[WRITE_LOCKED] = False
        else:
            _begin_immediate(connection)
            connection.info[WRITE_LOCKED] = True


# SQLite copies its write-ahead log back into the database file (a checkpoint) once the log holds this many
# pages (its own default). By default the commit that crosses the mark does it, inside its request: at a
# million comments, 110 ms of a 230 ms bulk approve, and now and then a post's. Requests leave it to after
# their answer; ten times the mark still checkpoints in a commit, should no answer ever get to it.
WAL_CHECKPOINT_PAGES = 1000
_REQUEST_AUTOCHECKPOINT_PAGES = 10 * WAL_CHECKPOINT_PAGES
_AUTOCHECKPOINT = "engagement_wal_autocheckpoint"
# The WAL index (the "-shm" file beside the database), as SQLite's file format documents it
# (https://sqlite.org/walformat.html): mxFrame, the frames in the log, at byte 16 of its header, and
# nBackfill, the frames a checkpoint has copied back, at byte 96; native-endian 32-bit integers.
_WAL_INDEX = struct.Struct("=16xI76xI")


def wal_frames_to_copy(shm: Path) -> int:
    """Frames of the write-ahead log not yet copied back into the database file (0: no log). A read that
    races a writer may be off: it only decides whether to checkpoint now or at the next answer."""
    try:
        with shm.open("rb") as index:
            header = index.read(_WAL_INDEX.size)
    except FileNotFoundError:
        return 0
    if len(header) < _WAL_INDEX.size:
        return 0
    frames, copied = _WAL_INDEX.unpack(header)
    return max(frames - copied, 0)


def _checkpoint_after_responses(app: Flask, engine: Engine) -> None:
    """After the answer of a request that may have written has gone out (its response closed), copy the
    log back when it has grown past the mark: the work SQLite's automatic checkpoint would have done in the
    commit, done once the client has its answer. PASSIVE: it waits for no reader or writer, and leaves
    what it cannot copy now to a later answer."""
    shm = host_file_path(app, suffix="-shm", instance_name="")
    if shm is None:  # in memory: no log
        return

    def checkpoint() -> None:
        if wal_frames_to_copy(shm) < WAL_CHECKPOINT_PAGES:
            return
        try:
            connection = engine.raw_connection()
            try:
                connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
            finally:
                connection.close()
        except (OSError, sqlite3.Error, SQLAlchemyError) as error:  # the next answer tries again
            log.warning("WAL checkpoint after a response failed: %s", error)

    @app.after_request
    def checkpoint_when_sent(response: Response) -> Response:
        if request.method not in _READ_METHODS:
            response.call_on_close(checkpoint)
        return response


_READING: contextvars.ContextVar[bool] = contextvars.ContextVar("engagement_reading", default=False)
# On a SQLite connection's info: whether its transaction holds the write lock (began IMMEDIATE). Such a
# transaction saw every commit made before it and no other can commit until it ends (engagement.caching).
WRITE_LOCKED = "engagement_write_locked"


def snapshot_is_current() -> bool:
    """Whether everything committed before now is visible to the session's open transaction, and will be to
    its next statement: PostgreSQL (READ COMMITTED, each statement sees what was committed before it
    began), or a SQLite transaction that holds the write lock. A SQLite read transaction's snapshot is
    as old as its first read."""
    session = db.session()
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return True
    return bool(connection.info.get(WRITE_LOCKED))


@contextlib.contextmanager
def reading(only: bool = True) -> Iterator[None]:
    """Transactions begun inside only read (SQLite: deferred, so a long export outside any request never
    holds the write lock that every post waits for); ``only=False`` inside it: this one writes."""
    token = _READING.set(only)
    try:
        yield
    finally:
        _READING.reset(token)


def _begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock, polling for it every quarter millisecond.

    SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms between tries: a writer that finds the lock
    taken sleeps on while the lock comes free and is taken again, so under a steady stream of posts the
    lock sat idle and writers starved (p99 in the hundreds of ms, one core of two used). Polling hands
    the lock over within a fraction of a millisecond. After ``_POLL_SECONDS`` the usual busy_timeout
    wait takes over, so a lock held for long still ends in SQLAlchemy's "database is locked" error.
    """
    raw = connection.connection.dbapi_connection
    deadline = time.monotonic() + _POLL_SECONDS
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                    raise
            time.sleep(_POLL_INTERVAL)
    finally:
        raw.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def among(column: Any, ids: Collection[Any], element: Any = Integer) -> Any:
    """``column IN ids``, on PostgreSQL as one array parameter (of ``element``s: ids by default): a
    thousand parameters cost more to send and plan than a bulk decision's own work, and an import asks
    hundreds of such lists. Nothing matches an empty collection."""
    if not ids:
        return false()
    if db.engine.dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(element)))
    return column.in_(ids)


def _insert(dialect: str, table: Any) -> Any:
    """The dialect's own INSERT, which knows ON CONFLICT (both databases support it natively)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")


def _on_conflict_update(
    statement: Any, conflict_columns: Collection[str], update_columns: Collection[str]
) -> Any:
    """``statement`` ... ON CONFLICT (...) DO UPDATE setting ``update_columns`` to the inserted values."""
    return statement.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={column: statement.excluded[column] for column in update_columns},
    )


def insert_ignoring_conflicts(table: Any, values: dict[str, Any], *, conflict_columns: list[str]) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the running dialect."""
    statement = _insert(db.engine.dialect.name, table).values(**values)
    return statement.on_conflict_do_nothing(index_elements=conflict_columns)


def insert_or_update(
    table: Any, values: dict[str, Any], *, conflict_columns: list[str], update_columns: list[str]
) -> Insert:
    """``INSERT ... ON CONFLICT (...) DO UPDATE`` setting ``update_columns`` to the inserted values."""
    statement = _insert(db.engine.dialect.name, table).values(**values)
    return _on_conflict_update(statement, conflict_columns, update_columns)


def insert_rows(table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, which all name the same columns: on PostgreSQL by ``COPY ... FROM STDIN``, which
    spares each row the parse, plan and executor start of an executemany's statement, and the client its
    per-statement work (a JSON restore of 50,000 comments: the writer 11.4 -> 10.2 s); elsewhere one
    executemany.

    Triggers and constraints hold as for INSERT (COPY fires row triggers and checks foreign keys). A
    column the rows leave out gets its Python-side default when that is a constant, else the database's;
    one whose default is computed in Python must be given (checked before anything is sent).
    """
    if not rows:
        return
    given = list(rows[0])
    defaults = _constant_defaults(table, given)
    if db.engine.dialect.name != "postgresql":
        db.session.execute(insert(table), rows)
        return
    names = [*given, *defaults]
    connection = db.session.connection()
    processors = [table.c[name].type._cached_bind_processor(connection.dialect) for name in names]
    converted = [(index, process) for index, process in enumerate(processors) if process is not None]
    quote = connection.dialect.identifier_preparer
    statement = (
        f"COPY {quote.format_table(table)} ({', '.join(quote.quote(name) for name in names)}) FROM STDIN"
    )
    constants = list(defaults.values())
    with connection.connection.dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = [row[name] for name in given] + constants
            for index, process in converted:
                values[index] = process(values[index])
            copy.write_row(values)


def _constant_defaults(table: Any, given: Collection[str]) -> dict[str, Any]:
    """The Python-side defaults of the columns ``given`` leaves out, which an INSERT written without
    SQLAlchemy's help must send itself: constants only (a computed one must be given: ValueError)."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"{table.name}.{column.name} has a computed default: give it")
        defaults[column.name] = column.default.arg
    return defaults


def insert_if_absent(table: Any, values: dict[str, Any], *, conflict_columns: list[str]) -> bool:
    """Insert a row unless one with the same key exists; True when this call inserted it.

    Uses RETURNING rather than rowcount, which psycopg reports as -1 for some statement forms. The
    statement is built once per table and columns (``_on_conflict_text``), its values sent as parameters:
    a like, a follow, a report run it on every request.
    """
    statement = _absent_insert(db.engine.dialect.name, table, tuple(values), tuple(conflict_columns))
    return db.session.execute(statement, values).first() is not None


def upsert(
    table: Any, values: dict[str, Any], *, conflict_columns: list[str], update_columns: list[str]
) -> None:
    """Execute ``insert_or_update`` of one row, the statement built once per table and columns."""
    statement = _upsert(
        db.engine.dialect.name, table, tuple(values), tuple(conflict_columns), tuple(update_columns)
    )
    db.session.execute(statement, values)


@functools.cache  # a handful of (table, columns) pairs; never evicted
def _absent_insert(dialect: str, table: Any, columns: tuple[str, ...], conflict: tuple[str, ...]) -> Any:
    first = table.c[conflict[0]]
    return _on_conflict_text(dialect, table, columns, conflict, "DO NOTHING", returning=first).columns(first)


@functools.cache
def _upsert(
    dialect: str, table: Any, columns: tuple[str, ...], conflict: tuple[str, ...], update: tuple[str, ...]
) -> Any:
    quote = _PREPARERS[dialect].quote
    assignments = ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in update)
    return _on_conflict_text(dialect, table, columns, conflict, f"DO UPDATE SET {assignments}")


def _on_conflict_text(
    dialect: str,
    table: Any,
    columns: tuple[str, ...],
    conflict: tuple[str, ...],
    action: str,
    *,
    returning: Any = None,
) -> TextClause:
    """``INSERT ... ON CONFLICT (...) <action>`` of one row as SQL text with typed parameters.

    Written out because SQLAlchemy never caches the compiled form of its dialects' ON CONFLICT inserts
    (their ``Insert`` sets ``inherit_cache = False``: the clause has no cache key), so each execution
    compiled it again: a fifth of a follow's time in this process. A ``text()`` construct is cached like
    any other, and both databases spell this statement the same way. The parameters keep the columns'
    types, so values are converted exactly as an INSERT converts them; a column left out gets its
    constant default, as from ``insert()``.
    """
    defaults = _constant_defaults(table, columns)
    columns = (*columns, *defaults)
    quote = _PREPARERS[dialect].quote
    names = ", ".join(quote(name) for name in columns)
    targets = ", ".join(quote(name) for name in conflict)
    # Only the table's own names, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {_PREPARERS[dialect].format_table(table)} ({names}) "  # noqa: S608
        f"VALUES ({', '.join(f':{name}' for name in columns)}) ON CONFLICT ({targets}) {action}"
    )
    if returning is not None:
        sql += f" RETURNING {quote(returning.name)}"
    return text(sql).bindparams(
        *(bindparam(name, type_=table.c[name].type) for name in columns if name not in defaults),
        *(bindparam(name, value, type_=table.c[name].type) for name, value in defaults.items()),
    )


# Quoting of names as each dialect does it (both quote only reserved words and unusual names).
_PREPARERS = {
    "postgresql": postgresql.dialect().identifier_preparer,
    "sqlite": sqlite.dialect().identifier_preparer,
}


def realign_id_sequence(table: Any, *, at_least: int = 1) -> None:
    """After rows were inserted with explicit ids, move PostgreSQL's id sequence past them (and past
    ``at_least``, ids about to be inserted), never back: an id handed out once (and perhaps deleted
    since) must not be handed out again.

    SQLite needs nothing: with AUTOINCREMENT (every table with an id, see models) it keeps the highest
    id ever used, explicit ones included.
    """
    if db.engine.dialect.name != "postgresql":
        return
    sequence = func.pg_get_serial_sequence(table.name, "id")
    used = func.coalesce(func.pg_sequence_last_value(sequence.cast(postgresql.REGCLASS)), 1)
    highest = select(func.greatest(func.coalesce(func.max(table.c.id), 1), used, at_least)).scalar_subquery()
    db.session.execute(select(func.setval(sequence, highest)))


def reserve_ids(table: Any, count: int, *, above: int | None = None) -> list[int]:
    """``count`` ids for new rows of ``table``, as its next inserts would get them, so that many rows go
    in one executemany with their ids known: SQLite cannot say which RETURNING row is which input row,
    so SQLAlchemy would insert them a statement each. ``above``: rows were inserted with explicit ids
    (or are about to be, up to that id, in the same statement).

    PostgreSQL: taken from the id sequence (moved past ``above`` and every explicit id first). SQLite:
    after the highest id ever used (AUTOINCREMENT's own rule); only a transaction that writes may ask,
    and every one holds the write lock from its BEGIN IMMEDIATE (``_configure_sqlite``), so no other
    writer can take these ids before the insert.
    """
    if count <= 0:
        return []
    if db.engine.dialect.name == "postgresql":
        if above is not None:
            realign_id_sequence(table, at_least=max(above, 1))
        reserved = db.session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')::regclass) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": count},
        )
        return list(reserved)
    used = db.session.scalar(
        text("SELECT seq FROM sqlite_sequence WHERE name = :table"), {"table": table.name}
    )
    highest = db.session.scalar(select(func.max(table.c.id)))
    start = max(used or 0, highest or 0, above or 0) + 1
    return list(range(start, start + count))


def database_is_reachable() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return True

"""Counting the SQL statements a piece of code sends, to prove reads cost O(page) and not O(thread)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from engagement.extensions import db


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect every statement sent on the app's engine inside the block (excluding transaction control)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)

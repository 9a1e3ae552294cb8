"""Isso: its SQLite database (``threads`` and ``comments`` tables), opened read-only.

Isso keeps each comment's Markdown source and renders it on every read, so bodies are rendered here the
way new comments are. ``mode`` 1 is approved, 2 pending and 4 a deleted comment kept for its replies.

A comment id is Isso's SQLite primary key, unique in one database only: two Isso databases (two blogs
moving into one site) both start at 1. The one thing of a database that is public and lasting is its
thread uri (unique in it, and our thread key), so a source id is ``{uri}:{id}``: one database's comments
never take another's place unless both hold the same page. Comments imported before under the bare id
are found again in their own thread and re-keyed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime

from engagement.hashing import ip_hash
from engagement.importers.pipeline import (
    ImportedComment,
    ImportedThread,
    Record,
    Skipped,
    SourceFile,
    scoped_source_id,
)
from engagement.importers.xml_stream import MalformedFile
from engagement.models import CommentStatus
from engagement.rendering import render_comment

SOURCE = "isso"
MODES = {1: CommentStatus.APPROVED, 2: CommentStatus.PENDING, 4: CommentStatus.DELETED}
_COMMENTS = (
    "SELECT id, parent, created, modified, mode, remote_addr, text, author, email, website, likes"
    " FROM comments WHERE tid = ? ORDER BY id"
)


class IssoDatabase(SourceFile):
    """Reads an Isso SQLite file without changing it (its thread uri is already the page's path)."""

    name = SOURCE
    settle_per_thread = True  # comments are read thread by thread

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError:
            connection.close()
            raise MalformedFile("not_isso_database", f"{self.path.name} is not an SQLite database.") from None
        if not {"threads", "comments"} <= tables:
            connection.close()
            raise MalformedFile("not_isso_database", f"{self.path.name} has no Isso threads and comments.")
        return connection

    def total(self) -> int:
        with closing(self._connect()) as connection:
            return connection.execute("SELECT count(*) FROM comments").fetchone()[0]

    def records(self, progress: Callable[[int], None]) -> Iterator[Record]:
        with closing(self._connect()) as connection:
            threads = connection.execute("SELECT id, uri, title FROM threads ORDER BY id").fetchall()
            for thread_id, uri, title in threads:
                rows = connection.execute(_COMMENTS, (thread_id,)).fetchall()
                if not rows:
                    continue
                ref, key = str(thread_id), uri or f"/isso-thread-{thread_id}"
                yield ImportedThread(ref=ref, key=key, title=title or "")
                for row in rows:
                    yield _comment(row, thread_ref=ref, scope=key)
                    progress(1)


def _comment(row: tuple, *, thread_ref: str, scope: str) -> Record:
    comment_id, parent, created, modified, mode, remote_addr, text, author, email, website, likes = row
    status = MODES.get(mode)
    if status is None:
        return Skipped(f"unknown_mode_{mode}")
    text = text or ""
    return ImportedComment(
        source=SOURCE,
        source_id=scoped_source_id(scope, str(comment_id)),
        legacy_source_id=str(comment_id),
        ref=str(comment_id),
        thread_ref=thread_ref,
        parent_ref=str(parent) if parent is not None else None,
        created_at=datetime.fromtimestamp(created, UTC),
        edited_at=datetime.fromtimestamp(modified, UTC) if modified else None,
        status=status,
        body=text,
        html=render_comment(text),
        author_name=author or "",
        author_email=email or "",
        author_url=website or None,
        ip_hash=ip_hash(remote_addr or None),
        likes=max(0, likes or 0),
    )

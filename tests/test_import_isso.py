"""Isso import: its SQLite database read as is, Markdown rendered like new comments, likes kept."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engagement.errors import ApiError
from engagement.extensions import db
from engagement.hashing import ip_hash
from engagement.models import Comment, Thread
from tests.factories import make_site
from tests.import_files import UNICODE_BODY, UNICODE_NAME, epoch, isso_database, newsroom_isso, run_import


def by_isso_id() -> dict[str, Comment]:
    """Imported comments by their id in the Isso database."""
    rows = db.session.scalars(select(Comment).where(Comment.source == "isso"))
    return {c.source_id.rpartition(":")[2]: c for c in rows}


@pytest.fixture
def isso_db(tmp_path):
    return newsroom_isso(tmp_path / "comments.db")


def test_modes_become_statuses_and_a_deleted_comment_stays_only_for_its_replies(app, isso_db):
    make_site("news")
    summary = run_import("isso", isso_db)
    rows = by_isso_id()

    assert {k: rows[k].status for k in ("1", "2", "3", "4", "5")} == {
        "1": "approved",
        "2": "approved",
        "3": "deleted",
        "4": "approved",
        "5": "pending",
    }
    assert "7" not in rows  # deleted in Isso with no reply: nothing to hold in place
    assert rows["4"].parent_id == rows["3"].id and rows["2"].parent_id == rows["1"].id
    assert summary.comments == {"approved": 4, "deleted": 1, "pending": 1}
    assert summary.skipped == {"deleted_without_replies": 1}


def test_threads_keep_isso_uris_and_titles(app, isso_db):
    make_site("news")
    run_import("isso", isso_db)
    threads = {t.key: t.title for t in db.session.scalars(select(Thread))}
    assert threads == {"/2024/05/xi-putin/": "Xi to join Putin", "/2024/05/unicode/": "Ünïcödé 日本"}


def test_markdown_is_rendered_like_a_new_comment_and_raw_html_shown_as_text(app, isso_db):
    make_site("news")
    run_import("isso", isso_db)
    first = by_isso_id()["1"]
    assert first.body == "First! **bold** and <script>alert(1)</script>"
    assert "<strong>bold</strong>" in first.html
    assert "<script" not in first.html and "&lt;script&gt;" in first.html


def test_likes_times_unicode_website_and_hashed_ips_are_kept(app, client, isso_db):
    make_site("news")
    run_import("isso", isso_db)
    rows = by_isso_id()
    assert (rows["1"].likes, rows["2"].likes) == (3, 1)
    assert rows["6"].created_at == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    assert rows["6"].edited_at == datetime(2024, 5, 2, 11, 0, tzinfo=UTC)
    assert (rows["6"].author_name, rows["6"].author_url) == (UNICODE_NAME, "https://zoe.example")
    assert UNICODE_BODY in rows["6"].html
    assert rows["1"].ip_hash == ip_hash("192.0.2.0")

    page = client.get("/api/v1/sites/news/comments?thread=/2024/05/xi-putin/&sort=top").json
    assert page["comments"][0]["likes"] == 3
    assert page["thread"]["comment_count"] == 3


def test_the_isso_database_is_not_changed_and_reimport_is_idempotent(app, isso_db):
    make_site("news")
    before = isso_db.read_bytes()
    run_import("isso", isso_db)
    summary = run_import("isso", isso_db)
    assert isso_db.read_bytes() == before
    assert (summary.comments_created, summary.comments_updated) == (0, 6)
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 6


def test_dry_run_writes_nothing(app, isso_db):
    make_site("news")
    summary = run_import("isso", isso_db, dry_run=True)
    assert summary.comments_created == 6
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0


def test_a_file_that_is_not_an_isso_database_is_refused(app, tmp_path):
    make_site("news")
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("just text, long enough to not be mistaken for an empty database" * 10)
    with pytest.raises(ApiError) as refused:
        run_import("isso", not_sqlite)
    assert refused.value.code == "not_isso_database"

    other = tmp_path / "other.db"
    sqlite3.connect(other).executescript("CREATE TABLE posts (id INTEGER PRIMARY KEY);").close()
    with pytest.raises(ApiError, match="no Isso threads and comments"):
        run_import("isso", other)


def isso_comments() -> list[Comment]:
    return list(db.session.scalars(select(Comment).where(Comment.source == "isso").order_by(Comment.id)))


def test_two_isso_databases_numbering_from_one_are_kept_apart(app, isso_db, tmp_path):
    make_site("news")
    other_blog = isso_database(
        tmp_path / "other.db",
        [(1, "/other-blog/hello/", "Hello from the other blog")],
        [
            {"tid": 1, "id": 1, "created": epoch("2023-01-01T10:00:00"), "text": "The other blog's first"},
            {"tid": 1, "id": 2, "parent": 1, "created": epoch("2023-01-01T10:05:00"), "text": "Its reply"},
        ],
    )
    run_import("isso", isso_db)
    before = {c.id: (c.thread_id, c.body) for c in isso_comments()}

    summary = run_import("isso", other_blog)

    db.session.expire_all()
    after = {c.id: (c.thread_id, c.body) for c in isso_comments()}
    assert (summary.comments_created, summary.comments_updated) == (2, 0)
    assert {k: after[k] for k in before} == before
    assert len(after) == len(before) + 2
    assert {c.source_id for c in isso_comments() if c.id not in before} == {
        "/other-blog/hello/:1",
        "/other-blog/hello/:2",
    }


def test_rows_imported_with_bare_isso_ids_are_updated_and_given_scoped_ids(app, isso_db):
    make_site("news")
    run_import("isso", isso_db)
    for comment in isso_comments():  # what the importer wrote before source ids were scoped
        comment.source_id = comment.source_id.rpartition(":")[2]
    db.session.commit()
    before = {c.source_id: (c.id, c.thread.key) for c in isso_comments()}

    summary = run_import("isso", isso_db)

    db.session.expire_all()
    assert (summary.comments_created, summary.comments_updated) == (0, 6)
    assert {c.source_id: c.id for c in isso_comments()} == {
        f"{key}:{bare}": id_ for bare, (id_, key) in before.items()
    }

"""Disqus import: posts in any order, deleted parents kept as placeholders, spam kept as spam."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engagement.extensions import db
from engagement.hashing import ip_hash
from engagement.models import Comment, Thread
from tests.factories import make_site
from tests.import_files import (
    HOSTILE_HTML,
    UNICODE_BODY,
    UNICODE_NAME,
    DsqPost,
    DsqThread,
    disqus,
    newsroom_disqus,
    run_import,
)


def by_source_id() -> dict[str, Comment]:
    return {c.source_id: c for c in db.session.scalars(select(Comment).where(Comment.source == "disqus"))}


@pytest.fixture
def export_file(tmp_path):
    path = tmp_path / "disqus.xml"
    path.write_text(disqus(*newsroom_disqus()), encoding="utf-8")
    return path


def test_threads_with_posts_are_created_and_pages_nobody_commented_on_are_not(app, export_file):
    make_site("news")
    summary = run_import("disqus", export_file)

    threads = {t.key: t for t in db.session.scalars(select(Thread))}
    assert set(threads) == {"/2024/05/xi-putin/", "/2024/05/unicode/"}
    assert threads["/2024/05/unicode/"].closed is True
    assert threads["/2024/05/unicode/"].title == "Ünïcödé 日本"
    assert threads["/2024/05/xi-putin/"].url == "https://news.example/2024/05/xi-putin/"
    assert summary.skipped["post_of_deleted_thread"] == 1


def test_a_deleted_parent_with_live_replies_stays_as_an_empty_placeholder(app, client, export_file):
    make_site("news")
    summary = run_import("disqus", export_file)
    posts = by_source_id()

    placeholder, reply = posts["1002"], posts["1003"]
    assert placeholder.status == "deleted"
    assert [placeholder.author_name, placeholder.author_email, placeholder.body, placeholder.html] == [""] * 4
    assert placeholder.ip_hash is None
    assert reply.parent_id == placeholder.id and reply.depth == 2 and reply.root_id == posts["1001"].id
    assert "1005" not in posts  # deleted, and nobody answered it
    assert summary.skipped["deleted_without_replies"] == 1

    page = client.get("/api/v1/sites/news/comments?thread=/2024/05/xi-putin/").json
    shown = page["comments"][0]["replies"][0]
    assert shown["status"] == "deleted" and shown["author"]["name"] == "" and shown["html"] == ""
    assert shown["replies"][0]["id"] == reply.id


def test_statuses_text_time_and_authors_come_across(app, export_file):
    make_site("news")
    summary = run_import("disqus", export_file)
    posts = by_source_id()

    assert posts["2002"].status == "spam"
    assert posts["2001"].author_name == UNICODE_NAME and UNICODE_BODY in posts["2001"].html
    assert posts["1004"].body == f"<p>{HOSTILE_HTML}</p>"
    assert "<script" not in posts["1004"].html and "onclick" not in posts["1004"].html
    assert posts["1001"].created_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert posts["1002"].created_at == datetime(2024, 5, 1, 8, 5, tzinfo=UTC)  # no offset: UTC
    assert posts["1001"].ip_hash == ip_hash("198.51.100.4")
    assert summary.comments == {"approved": 4, "deleted": 1, "spam": 1}


def test_counts_are_exact_and_the_placeholder_is_not_counted(app, client, export_file):
    make_site("news")
    run_import("disqus", export_file)
    counts = client.get("/api/v1/sites/news/counts?thread=/2024/05/xi-putin/&thread=/2024/05/unicode/").json
    assert counts["counts"] == {"/2024/05/xi-putin/": 3, "/2024/05/unicode/": 1}


def test_reimport_is_idempotent_and_dry_run_writes_nothing(app, export_file):
    make_site("news")
    dry = run_import("disqus", export_file, dry_run=True)
    assert dry.comments_created == 6 and db.session.scalar(select(func.count()).select_from(Comment)) == 0

    run_import("disqus", export_file)
    first = {k: (c.id, c.parent_id, c.status) for k, c in by_source_id().items()}
    summary = run_import("disqus", export_file)
    db.session.expire_all()
    assert {k: (c.id, c.parent_id, c.status) for k, c in by_source_id().items()} == first
    assert summary.comments_created == 0


def test_threads_can_be_keyed_by_the_disqus_identifier(app, export_file):
    make_site("news")
    run_import("disqus", export_file, thread_key="post-id")
    # The unicode thread has no identifier: its path stands in.
    keys = set(db.session.scalars(select(Thread.key)))
    assert keys == {"12 https://news.example/?p=12", "/2024/05/unicode/"}


def test_a_post_id_twice_in_one_export_keeps_the_first_and_reports_the_second(app, runner, tmp_path):
    make_site("news")
    threads = [DsqThread(1, "https://news.example/a/", "A"), DsqThread(2, "https://news.example/b/", "B")]
    posts = [
        DsqPost(7, 1, "<p>The first seven</p>", created_at="2024-05-01T08:00:00Z"),
        DsqPost(8, 1, "<p>A reply to seven</p>", parent=7, created_at="2024-05-01T08:01:00Z"),
        DsqPost(7, 2, "<p>Another seven, elsewhere</p>", created_at="2024-05-01T08:02:00Z"),
    ]
    path = tmp_path / "twice.xml"
    path.write_text(disqus(threads, posts), encoding="utf-8")

    result = runner.invoke(args=["engagement", "import", "disqus", str(path), "--site", "news"])

    assert result.exit_code == 0, result.output
    assert "skipped 1: duplicate_source_id 1" in result.output
    first, reply = by_source_id()["7"], by_source_id()["8"]
    assert first.body == "<p>The first seven</p>" and first.thread.key == "/a/"
    assert reply.parent_id == first.id
    counts = runner.invoke(args=["engagement", "import", "disqus", str(path), "--site", "news", "--dry-run"])
    assert "2 comments (0 new, 2 updated)" in counts.output

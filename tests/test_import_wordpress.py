"""WordPress WXR import: threads, reply trees, statuses, text and counts come across; re-import updates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engagement.extensions import db
from engagement.hashing import ip_hash
from engagement.models import AuditEntry, Comment, Thread
from tests.factories import make_site, post
from tests.import_files import (
    HOSTILE_HTML,
    UNICODE_BODY,
    UNICODE_NAME,
    WpComment,
    WpPost,
    newsroom_posts,
    row_counts,
    run_import,
    wxr,
)


def comments_by_source_id() -> dict[str, Comment]:
    return {c.source_id: c for c in db.session.scalars(select(Comment).where(Comment.source == "wordpress"))}


@pytest.fixture
def newsroom_file(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text(wxr(newsroom_posts()), encoding="utf-8")
    return path


def test_posts_with_comments_become_threads_keyed_by_path_with_title_url_and_closed_state(app, newsroom_file):
    make_site("news")
    summary = run_import("wordpress", newsroom_file)

    threads = {t.key: t for t in db.session.scalars(select(Thread))}
    assert set(threads) == {"/2024/05/xi-putin/", "/2024/05/unicode/"}  # the pinged-only post has no thread
    assert threads["/2024/05/xi-putin/"].title == "Xi to join Putin in Moscow"
    assert threads["/2024/05/xi-putin/"].url == "https://news.example/2024/05/xi-putin/"
    assert threads["/2024/05/xi-putin/"].created_at == datetime(2024, 5, 1, 7, 0, tzinfo=UTC)
    assert threads["/2024/05/unicode/"].title == "Ünïcödé headline: 日本"
    assert threads["/2024/05/unicode/"].closed is True
    assert (summary.threads, summary.threads_created) == (2, 2)


def test_statuses_timestamps_authors_and_hashed_ips_are_kept(app, newsroom_file):
    make_site("news")
    summary = run_import("wordpress", newsroom_file)
    by_id = comments_by_source_id()

    assert {k: by_id[k].status for k in ("201", "202", "203", "204")} == {
        "201": "approved",
        "202": "pending",
        "203": "spam",
        "204": "trash",
    }
    assert by_id["204"].previous_status == "approved"  # WordPress's _wp_trash_meta_status: restore knows
    assert by_id["203"].previous_status == "pending"
    assert by_id["102"].created_at == datetime(2024, 5, 1, 8, 5, tzinfo=UTC)
    assert (by_id["105"].author_name, by_id["105"].author_email) == ("Mallory", "mallory@example.org")
    assert by_id["105"].author_url == "https://mallory.example"
    assert by_id["101"].ip_hash == ip_hash("203.0.113.9")
    assert "203.0.113.9" not in {c.ip_hash for c in by_id.values()}
    assert by_id["201"].author_name == UNICODE_NAME and by_id["201"].body == UNICODE_BODY
    assert summary.comments == {"approved": 7, "pending": 1, "spam": 1, "trash": 1}
    assert summary.skipped == {"pingback": 2, "trackback": 1}


def test_html_is_sanitized_by_the_comment_policy_and_the_source_text_kept(app, newsroom_file):
    make_site("news")
    run_import("wordpress", newsroom_file)
    by_id = comments_by_source_id()

    hostile = by_id["105"]
    assert hostile.body == HOSTILE_HTML
    assert "<script" not in hostile.html and "alert" not in hostile.html
    assert "onclick" not in hostile.html and "javascript:" not in hostile.html
    assert "bold" in hostile.html
    # WordPress stores bare line breaks and adds paragraphs when it displays a comment.
    assert by_id["101"].html == "<p>First!</p><p>Second paragraph<br>with a line break.</p>"


def test_reply_tree_is_rebuilt_and_a_reply_to_a_vanished_parent_becomes_top_level(app, newsroom_file):
    make_site("news")
    summary = run_import("wordpress", newsroom_file)
    by_id = comments_by_source_id()

    first, reply, reply2, reply3 = (by_id[k] for k in ("101", "102", "103", "104"))
    assert (reply.parent_id, reply2.parent_id, reply3.parent_id) == (first.id, reply.id, reply2.id)
    assert (first.depth, reply.depth, reply2.depth, reply3.depth) == (0, 1, 2, 3)
    assert {reply.root_id, reply2.root_id, reply3.root_id} == {first.id}
    orphan = by_id["205"]
    assert (orphan.parent_id, orphan.depth, orphan.root_id) == (None, 0, None)
    assert summary.notes["reply_to_missing_parent_shown_top_level"] == 1


def test_replies_deeper_than_max_depth_attach_to_the_deepest_allowed_ancestor(app, newsroom_file):
    make_site("news", max_depth=2)
    summary = run_import("wordpress", newsroom_file)
    by_id = comments_by_source_id()

    first = by_id["101"]
    # max_depth 2: a top-level comment and one level of replies, as the widget would have posted them.
    assert {k: (by_id[k].parent_id, by_id[k].depth) for k in ("102", "103", "104")} == {
        "102": (first.id, 1),
        "103": (first.id, 1),
        "104": (first.id, 1),
    }
    assert summary.notes["reply_attached_to_ancestor_within_max_depth"] == 2


def test_public_api_shows_the_imported_thread_with_exact_counts(app, client, newsroom_file):
    make_site("news")
    run_import("wordpress", newsroom_file)

    page = client.get("/api/v1/sites/news/comments?thread=/2024/05/xi-putin/").json
    assert page["thread"]["comment_count"] == 5
    by_id = comments_by_source_id()
    top = page["comments"]
    assert [c["id"] for c in top] == [by_id["101"].id, by_id["105"].id]
    chain = top[0]
    depth = 0
    while chain["replies"]:
        chain = chain["replies"][0]
        depth += 1
    assert depth == 3
    counts = client.get("/api/v1/sites/news/counts?thread=/2024/05/xi-putin/&thread=/2024/05/unicode/").json
    assert counts["counts"] == {"/2024/05/xi-putin/": 5, "/2024/05/unicode/": 2}


def test_importing_the_same_file_again_updates_rows_instead_of_duplicating(app, newsroom_file, tmp_path):
    make_site("news")
    run_import("wordpress", newsroom_file)
    before = row_counts()
    version = db.session.scalar(select(Thread.version).where(Thread.key == "/2024/05/unicode/"))

    summary = run_import("wordpress", newsroom_file)
    assert row_counts() == {**before, "audit_entries": before["audit_entries"] + 1}
    assert (summary.comments_created, summary.comments_updated, summary.threads_created) == (0, 10, 0)

    posts = newsroom_posts()
    posts[1].comments[1].approved = "1"  # approved in WordPress since the first import
    posts[1].comments[0].body = "Edited in WordPress"
    changed = tmp_path / "changed.xml"
    changed.write_text(wxr(posts), encoding="utf-8")
    run_import("wordpress", changed)
    db.session.expire_all()
    by_id = comments_by_source_id()
    assert (by_id["202"].status, by_id["201"].body) == ("approved", "Edited in WordPress")
    thread = db.session.scalar(select(Thread).where(Thread.key == "/2024/05/unicode/"))
    assert thread.comment_count == 3
    assert thread.version > version  # readers' cached pages are revalidated


def test_reimport_keeps_comments_posted_here_and_counts_them(app, client, newsroom_file):
    make_site("news")
    run_import("wordpress", newsroom_file)
    assert post(client, thread="/2024/05/xi-putin/", body="Posted after the move").status_code == 201

    run_import("wordpress", newsroom_file)
    thread = db.session.scalar(select(Thread).where(Thread.key == "/2024/05/xi-putin/"))
    assert thread.comment_count == 6
    assert db.session.scalar(select(func.count()).where(Comment.source.is_(None))) == 1


def test_dry_run_reports_what_it_would_do_and_writes_nothing(app, newsroom_file):
    make_site("news")
    before = row_counts()

    summary = run_import("wordpress", newsroom_file, dry_run=True)

    assert summary.dry_run and summary.comments_created == 10
    assert row_counts() == before


@pytest.mark.parametrize(
    ("thread_key", "expected"),
    [
        ("permalink", {"https://news.example/2024/05/xi-putin/", "https://news.example/2024/05/unicode/"}),
        ("post-id", {"12", "13"}),
    ],
)
def test_threads_can_be_keyed_by_permalink_or_post_id(app, newsroom_file, thread_key, expected):
    make_site("news")
    run_import("wordpress", newsroom_file, thread_key=thread_key)
    assert set(db.session.scalars(select(Thread.key))) == expected


def test_import_into_an_unknown_site_is_refused(app, newsroom_file):
    with pytest.raises(Exception, match="no site 'nope'"):
        run_import("wordpress", newsroom_file, site="nope")


def test_cli_import_prints_a_summary_and_records_an_audit_entry(app, runner, newsroom_file):
    make_site("news")
    result = runner.invoke(args=["engagement", "import", "wordpress", str(newsroom_file), "--site", "news"])

    assert result.exit_code == 0, result.output
    assert "wordpress -> news: 2 threads (2 new), 10 comments (10 new, 0 updated)" in result.output
    assert "approved 7, pending 1, spam 1, trash 1" in result.output
    assert "skipped 3: pingback 2, trackback 1" in result.output
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "imported"))
    assert entry.details["comments"] == {"approved": 7, "pending": 1, "spam": 1, "trash": 1}


def test_cli_dry_run_says_nothing_was_written(app, runner, newsroom_file):
    make_site("news")
    result = runner.invoke(
        args=["engagement", "import", "wordpress", str(newsroom_file), "--site", "news", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("dry run: nothing was written")
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


def test_overlong_fields_are_cut_to_fit_instead_of_failing_the_import(app, tmp_path):
    make_site("news")
    long_post = WpPost(
        1,
        "T" * 500,
        "https://news.example/" + "p" * 600,
        [WpComment(1, "x", author="N" * 400, email="e" * 120 + "@example.org", url="https://" + "u" * 300)],
    )
    path = tmp_path / "long.xml"
    path.write_text(wxr([long_post]), encoding="utf-8")
    run_import("wordpress", path)
    comment = db.session.scalar(select(Comment))
    assert len(comment.author_name) == 245
    assert (comment.author_email, comment.author_url) == ("", None)  # a cut address would be a wrong one
    assert len(db.session.scalar(select(Thread.title))) == 300

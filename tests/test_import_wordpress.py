"""WordPress WXR import: threads, reply trees, statuses, text and counts come across; re-import updates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engagement.extensions import db
from engagement.hashing import ip_hash
from engagement.importers import pipeline
from engagement.models import AuditEntry, Comment, Thread
from tests.factories import make_site, post
from tests.import_files import (
    HOSTILE_HTML,
    UNICODE_BODY,
    UNICODE_NAME,
    WpComment,
    WpPost,
    newsroom_posts,
    posts_sharing_a_comment_id,
    row_counts,
    run_import,
    wxr,
)


def comments_by_comment_id() -> dict[str, Comment]:
    """Imported comments by their WordPress comment_id (each one is used once in the newsroom file)."""
    rows = db.session.scalars(select(Comment).where(Comment.source == "wordpress"))
    return {c.source_id.rpartition(":")[2]: c for c in rows}


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
    by_id = comments_by_comment_id()

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
    by_id = comments_by_comment_id()

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
    by_id = comments_by_comment_id()

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
    by_id = comments_by_comment_id()

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
    by_id = comments_by_comment_id()
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
    by_id = comments_by_comment_id()
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


# --- source ids are scoped by post: a comment_id is unique only within its <item> ---------------------


def wordpress_comments() -> list[Comment]:
    return list(db.session.scalars(select(Comment).where(Comment.source == "wordpress").order_by(Comment.id)))


def thread_of(key: str) -> Thread:
    return db.session.scalar(select(Thread).where(Thread.key == key))


@pytest.fixture
def shared_id_file(tmp_path):
    path = tmp_path / "shared-ids.xml"
    path.write_text(wxr(posts_sharing_a_comment_id()), encoding="utf-8")
    return path


@pytest.mark.parametrize("second_has_post_id", [True, False], ids=["post-id", "link-only"])
def test_comments_with_the_same_id_on_two_posts_are_both_kept_in_their_own_threads(
    app, tmp_path, second_has_post_id
):
    make_site("news")
    path = tmp_path / "shared-ids.xml"
    path.write_text(wxr(posts_sharing_a_comment_id(second_has_post_id=second_has_post_id)), encoding="utf-8")

    summary = run_import("wordpress", path)

    rows = wordpress_comments()
    assert len(rows) == 8 and summary.comments_created == 8 and not summary.skipped
    hello, another = thread_of("/2014/hello/"), thread_of("/2014/another/")
    elevens = {c.thread_id: c.author_name for c in rows if c.source_id.endswith(":11")}
    assert elevens == {hello.id: "Letzter :/", another.id: "Anonymous"}
    assert (hello.comment_count, another.comment_count) == (7, 1)
    by_body = {c.body: c for c in rows}
    assert by_body["Drölfter!"].parent_id == by_body["Zweiter."].id
    assert by_body["Yet another reply."].parent_id == by_body["Drölfter!"].id
    assert by_body["..."].parent_id == by_body["Drölfter!"].id


def test_reimporting_posts_that_share_a_comment_id_changes_nothing(app, shared_id_file):
    make_site("news")
    run_import("wordpress", shared_id_file)
    before = row_counts()
    first = {c.id: (c.thread_id, c.source_id, c.author_name, c.parent_id) for c in wordpress_comments()}
    assert len(first) == 8

    summary = run_import("wordpress", shared_id_file)

    db.session.expire_all()
    assert row_counts() == {**before, "audit_entries": before["audit_entries"] + 1}
    assert (summary.comments_created, summary.comments_updated) == (0, 8)
    assert {
        c.id: (c.thread_id, c.source_id, c.author_name, c.parent_id) for c in wordpress_comments()
    } == first


def test_dry_run_of_posts_that_share_a_comment_id_reports_all_eight(app, runner, shared_id_file):
    make_site("news")

    dry = run_import("wordpress", shared_id_file, dry_run=True)
    result = runner.invoke(
        args=["engagement", "import", "wordpress", str(shared_id_file), "--site", "news", "--dry-run"]
    )

    assert (dry.comments_created, dry.comments, dry.skipped) == (8, {"approved": 8}, {})
    assert result.exit_code == 0, result.output
    assert "2 threads (2 new), 8 comments (8 new, 0 updated)" in result.output
    assert run_import("wordpress", shared_id_file).as_dict() == {**dry.as_dict(), "dry_run": False}


@pytest.mark.parametrize("batch_size", [500, 1], ids=["one-batch", "later-batch"])
def test_a_comment_id_twice_in_one_post_keeps_the_first_and_reports_the_second(
    app, runner, tmp_path, monkeypatch, batch_size
):
    make_site("news")
    monkeypatch.setattr(pipeline, "BATCH_SIZE", batch_size)
    posts = [
        WpPost(
            1,
            "Twice",
            "https://news.example/twice/",
            [
                WpComment(5, "The first five", date_gmt="2024-05-01 08:00:00"),
                WpComment(6, "A reply to five", parent=5, date_gmt="2024-05-01 08:01:00"),
                WpComment(5, "The second five", author="Impostor", date_gmt="2024-05-01 08:02:00"),
                WpComment(7, "Another reply to five", parent=5, date_gmt="2024-05-01 08:03:00"),
            ],
        )
    ]
    path = tmp_path / "twice.xml"
    path.write_text(wxr(posts), encoding="utf-8")

    result = runner.invoke(args=["engagement", "import", "wordpress", str(path), "--site", "news"])

    assert result.exit_code == 0, result.output
    assert "3 comments (3 new, 0 updated)" in result.output
    assert "skipped 1: duplicate_source_id 1" in result.output
    by_body = {c.body: c for c in wordpress_comments()}
    assert set(by_body) == {"The first five", "A reply to five", "Another reply to five"}
    five = by_body["The first five"]
    assert by_body["A reply to five"].parent_id == five.id
    assert by_body["Another reply to five"].parent_id == five.id
    assert thread_of("/twice/").comment_count == 3


def test_a_post_listed_twice_in_one_file_is_imported_once_and_the_repeat_reported(app, tmp_path):
    make_site("news")
    post_once = WpPost(1, "Once", "https://news.example/once/", [WpComment(5, "The real five")])
    repeat = WpPost(
        1,
        "Once",
        "https://news.example/once/",
        [WpComment(5, "A different five"), WpComment(6, "Listed with the repeat")],
    )
    path = tmp_path / "repeat.xml"
    path.write_text(wxr([post_once, repeat]), encoding="utf-8")

    summary = run_import("wordpress", path)

    assert [c.body for c in wordpress_comments()] == ["The real five"]
    assert summary.skipped == {"thread_listed_twice": 2}


def downgrade_to_bare_comment_ids() -> None:
    """Make the rows what the importer wrote before source ids were scoped: the bare comment_id."""
    for comment in wordpress_comments():
        comment.source_id = comment.source_id.rpartition(":")[2]
    db.session.commit()


def test_rows_imported_with_bare_comment_ids_are_updated_and_given_scoped_ids(app, newsroom_file):
    make_site("news")
    run_import("wordpress", newsroom_file)
    downgrade_to_bare_comment_ids()
    post_ids = {"/2024/05/xi-putin/": 12, "/2024/05/unicode/": 13}
    before = {c.source_id: (c.id, post_ids[c.thread.key]) for c in wordpress_comments()}

    summary = run_import("wordpress", newsroom_file)

    db.session.expire_all()
    assert (summary.comments_created, summary.comments_updated) == (0, 10)
    after = {c.source_id: c.id for c in wordpress_comments()}
    assert after == {f"{post_id}:{bare}": id_ for bare, (id_, post_id) in before.items()}


def test_a_bare_comment_id_is_taken_over_only_in_its_own_thread(app, shared_id_file):
    make_site("news")
    # What the importer used to leave of this file: the second comment 11 had overwritten "Letzter :/".
    run_import("wordpress", shared_id_file)
    db.session.delete(db.session.scalar(select(Comment).where(Comment.author_name == "Letzter :/")))
    downgrade_to_bare_comment_ids()
    anonymous = db.session.scalar(select(Comment).where(Comment.author_name == "Anonymous"))
    assert anonymous.source_id == "11"

    summary = run_import("wordpress", shared_id_file)

    db.session.expire_all()
    assert (summary.comments_created, summary.comments_updated) == (1, 7)
    elevens = {c.author_name: (c.id, c.thread_id, c.source_id) for c in wordpress_comments()}
    assert elevens["Anonymous"] == (anonymous.id, thread_of("/2014/another/").id, "4:11")
    assert elevens["Letzter :/"][1:] == (thread_of("/2014/hello/").id, "18:11")
    assert len(wordpress_comments()) == 8


def test_source_ids_too_long_for_their_column_stay_apart_and_are_found_again(app, tmp_path):
    make_site("news")
    long_link = "https://news.example/2024/05/" + "a-very-long-slug-" * 6
    long_id = "7" * 70  # cut to the column, these two would be one comment
    post_without_id = WpPost(
        9,
        "Long",
        long_link,
        [WpComment(f"{long_id}1", "First"), WpComment(f"{long_id}2", "Second", parent=f"{long_id}1")],
        has_post_id=False,
    )
    path = tmp_path / "long-ids.xml"
    path.write_text(wxr([post_without_id]), encoding="utf-8")

    first = run_import("wordpress", path)
    again = run_import("wordpress", path)

    rows = {c.body: c for c in wordpress_comments()}
    assert (first.comments_created, again.comments_created, again.comments_updated) == (2, 0, 2)
    assert rows["Second"].parent_id == rows["First"].id
    assert all(len(c.source_id) <= 64 for c in rows.values())

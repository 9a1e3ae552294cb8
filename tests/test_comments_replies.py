"""A page carries a bounded number of replies; the rest load from the replies endpoint, a page at a time.

Each top-level comment in a page carries at most its first ``REPLIES_PER_COMMENT`` (10) replies in
creation order, a page at most ``REPLIES_PER_PAGE`` (250) in all, and says how many it has and where
``GET /comments/{id}/replies`` continues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from engagement.comments.reading import REPLIES_PER_COMMENT, REPLIES_PER_PAGE
from engagement.extensions import db
from engagement.models import Comment, CommentStatus, StaffRole
from engagement.moderation.comments import update_comment
from engagement.staff.service import create_token
from engagement.threads import change_thread_counts
from tests.factories import make_site, post

API = "/api/v1/sites/news"
THREAD = "2025/05/xi-putin-moscow"


@pytest.fixture
def site(app):
    return make_site("news", max_depth=5)


def listing(client, **params) -> dict[str, Any]:
    response = client.get(f"{API}/comments", query_string={"thread": THREAD, **params})
    assert response.status_code == 200, response.json
    return response.json


def replies_page(client, comment_id: int, **params) -> Any:
    return client.get(f"{API}/comments/{comment_id}/replies", query_string=params)


def flattened(comments: list[dict[str, Any]]) -> list[int]:
    """Ids of the nested replies, depth first (which is creation order for replies posted in order)."""
    return [i for c in comments for i in (c["id"], *flattened(c["replies"]))]


def add_replies(
    root_id: int, count: int, *, body: str = "A reply.", parent: Callable[[int, list[int]], int] | None = None
) -> list[int]:
    """Approved replies under a top-level comment, one second apart, inserted in one go (posting
    1,500 through the API would cost more than the rule under test). ``parent(index, ids)`` picks
    each one's parent among the root and the replies before it (default: the root)."""
    root = db.session.get(Comment, root_id)
    depths = {root_id: 0}
    replies: list[Comment] = []
    for index in range(count):
        if parent:
            db.session.flush()  # the ids so far, to choose from
        parent_id = parent(index, [reply.id for reply in replies]) if parent else root_id
        reply = Comment(
            site_id=root.site_id,
            thread_id=root.thread_id,
            parent_id=parent_id,
            root_id=root_id,
            depth=depths[parent_id] + 1,
            author_name=f"Replier {index}",
            author_email=f"replier{index}@example.org",
            body=body,
            html=f"<p>{body}</p>",
            status=CommentStatus.APPROVED,
            spam_reasons=[],
            created_at=root.created_at + timedelta(seconds=index + 1),
        )
        db.session.add(reply)
        replies.append(reply)
        if parent:
            db.session.flush()
            depths[reply.id] = reply.depth
    db.session.flush()
    change_thread_counts(root.thread_id, approved_delta=count)
    db.session.commit()
    return [reply.id for reply in replies]


def walk_replies(client, comment: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Every reply the endpoint gives after those the page carried, following next_cursor to the end."""
    found: list[dict[str, Any]] = []
    cursor = comment["replies_cursor"]
    while True:
        response = replies_page(client, comment["id"], limit=limit, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.json
        assert len(response.json["replies"]) <= limit
        found += response.json["replies"]
        cursor = response.json["next_cursor"]
        if cursor is None:
            return found


# --- what a page carries --------------------------------------------------------------------------------


def test_a_top_level_comment_carries_its_first_ten_replies_and_counts_them_all(client, site):
    root = post(client).json["comment"]["id"]
    replies = add_replies(root, 13)

    [comment] = listing(client)["comments"]

    assert flattened(comment["replies"]) == replies[:REPLIES_PER_COMMENT] == replies[:10]
    assert comment["reply_count"] == 13
    assert comment["more_replies"] is True
    assert comment["replies_cursor"]


def test_a_comment_whose_replies_all_fit_says_none_are_left(client, site):
    root = post(client).json["comment"]["id"]
    replies = add_replies(root, 10)
    lonely = post(client).json["comment"]["id"]

    first, second = listing(client)["comments"]

    assert (first["id"], second["id"]) == (root, lonely)
    assert flattened(first["replies"]) == replies
    assert (first["reply_count"], first["more_replies"], first["replies_cursor"]) == (10, False, None)
    assert (second["reply_count"], second["more_replies"], second["replies_cursor"]) == (0, False, None)


def test_nested_replies_count_and_are_carried_as_whole_subtrees_in_creation_order(client, site):
    root = post(client).json["comment"]["id"]
    # Each reply answers the one before it when its index is odd: chains two deep under the root.
    replies = add_replies(root, 12, parent=lambda index, ids: ids[-1] if index % 2 else root)

    [comment] = listing(client)["comments"]

    assert flattened(comment["replies"]) == replies[:10]
    assert [len(reply["replies"]) for reply in comment["replies"]] == [1] * 5
    assert comment["reply_count"] == 12


def test_a_page_carries_at_most_250_replies_given_to_its_comments_in_page_order(client, site, clock):
    roots = []
    for _ in range(REPLIES_PER_PAGE // REPLIES_PER_COMMENT + 1):
        roots.append(post(client).json["comment"]["id"])
        clock.advance(seconds=1)
    for root in roots:
        add_replies(root, REPLIES_PER_COMMENT)

    comments = listing(client, limit=len(roots))["comments"]

    carried = [len(flattened(c["replies"])) for c in comments]
    assert sum(carried) == REPLIES_PER_PAGE == 250
    assert carried == [10] * 25 + [0]
    last = comments[-1]
    assert (last["reply_count"], last["more_replies"], last["replies_cursor"]) == (10, True, None)
    assert [r["id"] for r in walk_replies(client, last, limit=50)] == list(
        db.session.scalars(select(Comment.id).where(Comment.root_id == last["id"]).order_by(Comment.id))
    )


def test_the_200_comment_benchmark_thread_comes_back_whole_at_limit_200(client, app):
    from devtools.conversations import THREAD_200, conversation
    from devtools.seeding import post_conversation
    from engagement.demo import seed_demo
    from engagement.sites.service import get_site

    seed_demo()
    post_conversation(get_site("demo"), THREAD_200, conversation(195, seed=200))

    page = client.get("/api/v1/sites/demo/comments", query_string={"thread": THREAD_200, "limit": 200}).json

    assert page["thread"]["comment_count"] == 200
    assert len(flattened(page["comments"])) == 200
    assert page["next_cursor"] is None
    assert not any(comment["more_replies"] for comment in page["comments"])


def test_a_reply_whose_parent_is_not_carried_waits_for_the_replies_endpoint(client, site):
    root = post(client).json["comment"]["id"]
    first, second, answer = add_replies(root, 3, parent=lambda index, ids: ids[1] if index == 2 else root)
    # An import kept the times it was given: the answer to the second reply is older than the first.
    older = db.session.get(Comment, first).created_at - timedelta(seconds=30)
    db.session.execute(update(Comment).where(Comment.id == answer).values(created_at=older))
    change_thread_counts(db.session.get(Comment, root).thread_id)
    db.session.commit()

    [comment] = listing(client)["comments"]
    later = walk_replies(client, comment, limit=10)

    # Creation order puts the answer first: it is not carried without its parent, nor anything after it.
    assert flattened(comment["replies"]) == []
    assert (comment["reply_count"], comment["more_replies"], comment["replies_cursor"]) == (3, True, None)
    assert [(r["id"], r["parent_id"]) for r in later] == [(answer, second), (first, root), (second, root)]


# --- the replies endpoint -------------------------------------------------------------------------------


def test_the_replies_endpoint_pages_to_the_end_with_no_reply_lost_or_repeated(client, site):
    root = post(client).json["comment"]["id"]
    replies = add_replies(root, 37, parent=lambda index, ids: ids[index - 3] if index % 4 == 3 else root)

    [comment] = listing(client)["comments"]
    later = walk_replies(client, comment, limit=4)

    carried, loaded = flattened(comment["replies"]), [r["id"] for r in later]
    assert sorted(carried + loaded) == replies  # every one, once
    assert sorted(carried) == replies[:10]
    assert loaded == replies[10:]  # in creation order
    assert comment["reply_count"] == 37
    by_id = {c.id: c for c in db.session.scalars(select(Comment).where(Comment.id.in_(replies)))}
    assert all(r["parent_id"] == by_id[r["id"]].parent_id for r in later)
    assert all(r["depth"] == by_id[r["id"]].depth for r in later)
    assert {r["depth"] for r in later} == {1, 2}
    assert "replies" not in later[0]


def test_placeholders_of_deleted_replies_hold_their_replies_in_every_page(client, site, clock):
    root = post(client).json["comment"]["id"]
    add_replies(root, 9)
    clock.advance(minutes=1)  # after the nine
    held = post(client, parent_id=root).json
    under_it = post(client, parent_id=held["comment"]["id"]).json["comment"]["id"]
    gone = post(client, parent_id=root).json
    tail = [post(client, parent_id=root).json["comment"]["id"] for _ in range(3)]
    for deleted in (held, gone):
        response = client.delete(
            f"{API}/comments/{deleted['comment']['id']}",
            headers={"Authorization": f"Bearer {deleted['edit_token']}"},
        )
        assert response.status_code == 204

    [comment] = listing(client)["comments"]
    later = walk_replies(client, comment, limit=2)

    # The tenth reply is the placeholder; what it holds comes next, from the endpoint.
    placeholder = comment["replies"][-1]
    assert placeholder["id"] == held["comment"]["id"]
    assert (placeholder["status"], placeholder["author"]["name"], placeholder["html"]) == ("deleted", "", "")
    assert [r["id"] for r in later] == [under_it, *tail]
    # 9 + the placeholder + its reply + 3; the reply deleted without replies is gone everywhere.
    assert comment["reply_count"] == 14


def test_a_placeholder_whose_replies_are_all_hidden_is_listed_nowhere(client, site):
    root = post(client).json["comment"]["id"]
    deleted = post(client, parent_id=root).json
    hidden = post(client, parent_id=deleted["comment"]["id"]).json["comment"]["id"]
    client.delete(
        f"{API}/comments/{deleted['comment']['id']}",
        headers={"Authorization": f"Bearer {deleted['edit_token']}"},
    )
    moderator, _ = create_token(role=StaffRole.ADMIN, site_slugs=[], label="desk")
    update_comment(token=moderator, comment_id=hidden, status="spam")

    [comment] = listing(client)["comments"]

    assert (comment["replies"], comment["reply_count"], comment["more_replies"]) == ([], 0, False)
    assert replies_page(client, root).json["replies"] == []


@pytest.mark.parametrize("which", ["unknown", "reply", "pending", "other_site"])
def test_replies_of_anything_but_a_visible_top_level_comment_of_the_site_are_404(client, app, which):
    make_site("news", moderation="all")
    make_site("other", moderation="none", flood_seconds=0)
    other = post(client, site="other").json["comment"]["id"]
    held = post(client).json["comment"]["id"]  # held: moderation is "all" on news
    reply = post(client, site="other", parent_id=other).json["comment"]["id"]
    comment_id = {"unknown": 999_999, "reply": reply, "pending": held, "other_site": other}[which]
    site = "other" if which == "reply" else "news"

    response = client.get(f"/api/v1/sites/{site}/comments/{comment_id}/replies")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "comment_not_found"


@pytest.mark.parametrize("params", [{"cursor": "garbage!"}, {"limit": 0}, {"limit": 201}, {"sort": "top"}])
def test_bad_replies_parameters_are_422(client, site, params):
    root = post(client).json["comment"]["id"]
    response = replies_page(client, root, **params)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"


def test_replies_answer_304_until_the_thread_changes(client, site):
    root = post(client).json["comment"]["id"]
    add_replies(root, 12)
    first = replies_page(client, root)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"

    again = client.get(f"{API}/comments/{root}/replies", headers={"If-None-Match": etag})
    post(client, parent_id=root)
    changed = client.get(f"{API}/comments/{root}/replies", headers={"If-None-Match": etag})

    assert (again.status_code, again.data) == (304, b"")
    assert changed.status_code == 200
    assert len(changed.json["replies"]) == 13


def test_replies_are_rate_limited_like_reads(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_READ="2 per minute")
    client = app.test_client()
    with app.app_context():
        make_site("news")
        root = post(client).json["comment"]["id"]
    statuses = [replies_page(client, root).status_code for _ in range(3)]
    limited = replies_page(client, root)
    assert statuses == [200, 200, 429]
    assert limited.json["error"]["code"] == "rate_limited"


# --- cost and size --------------------------------------------------------------------------------------


@pytest.fixture
def statements_with_parameters() -> Iterator[list[tuple[str, Any]]]:
    found: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        found.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    yield found
    event.remove(db.engine, "before_cursor_execute", record)


def test_a_page_reads_the_text_of_the_replies_it_carries_only(client, site, statements_with_parameters):
    root = post(client).json["comment"]["id"]
    add_replies(root, 300)
    statements_with_parameters.clear()

    [comment] = listing(client)["comments"]

    assert comment["reply_count"] == 300
    # The replies' rows are read by id, and only the ten carried ones.
    [(_, by_id)] = [(s, p) for s, p in statements_with_parameters if "comments.id IN" in s]
    values = by_id.values() if isinstance(by_id, dict) else by_id
    assert len([value for value in values if isinstance(value, int)]) == REPLIES_PER_COMMENT
    # Where each reply stands comes from the index: no text column is asked for.
    [(positions, parameters)] = [(s, p) for s, p in statements_with_parameters if "row_number()" in s]
    assert "comments.html" not in positions and "comments.body" not in positions
    if db.engine.dialect.name == "sqlite":
        plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + positions, parameters).all()
        assert any("COVERING INDEX ix_comments_replies" in row[-1] for row in plan), plan


def test_a_comment_with_1500_replies_of_10_kb_gives_pages_of_bounded_size(client, site):
    root = post(client).json["comment"]["id"]
    add_replies(root, 1500, body="Ten kilobytes of reply. " * 420)

    for limit in (50, 200):
        response = client.get(f"{API}/comments", query_string={"thread": THREAD, "limit": limit})
        [comment] = response.json["comments"]
        assert comment["reply_count"] == 1500
        # Ten replies of 10 KB and the rest of the page: not 15 MB.
        assert len(response.data) < 11 * 10_400

"""Concurrent posts to one thread all land exactly once and the count stays exact."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from engagement.extensions import db
from engagement.models import Comment, Thread
from tests.factories import comment_payload, make_site

POSTS = 200


@pytest.mark.load
def test_200_concurrent_posts_to_a_new_thread_land_exactly_once(app):
    make_site("news")
    payloads = [comment_payload(thread="race/thread", body=f"post {i}") for i in range(POSTS)]

    def send(i: int) -> int:
        client = app.test_client()
        response = client.post(
            "/api/v1/sites/news/comments",
            json=payloads[i],
            environ_base={"REMOTE_ADDR": f"10.1.{i // 250}.{i % 250}"},
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(send, range(POSTS)))

    assert statuses == [201] * POSTS
    db.session.expire_all()
    [thread] = db.session.scalars(select(Thread)).all()
    assert thread.comment_count == POSTS
    bodies = db.session.scalars(select(Comment.body)).all()
    assert sorted(bodies) == sorted(p["body"] for p in payloads)
    assert db.session.scalar(select(func.count()).select_from(Comment)) == POSTS
    page = app.test_client().get(
        "/api/v1/sites/news/comments", query_string={"thread": "race/thread", "limit": 200}
    )
    assert len(page.json["comments"]) == POSTS

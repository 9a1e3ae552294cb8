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


def test_identical_posts_racing_land_once(app):
    # PostgreSQL, READ COMMITTED: each INSERT ... WHERE NOT EXISTS saw no duplicate and both landed (issue
    # 9's closing note). Four identical posts at once, twenty times: one lands each time, the rest are 409.
    from threading import Barrier

    make_site("news")
    first = app.test_client().post(
        "/api/v1/sites/news/comments", json=comment_payload(thread="race/twins", body="The thread")
    )
    assert first.status_code == 201
    rounds, racers = 20, 4
    for n in range(rounds):
        payload = comment_payload(
            thread="race/twins", author_email="twin@example.org", body=f"Said twice {n}", author_name="Twin"
        )
        barrier = Barrier(racers)

        def send(i: int, payload: dict = payload, barrier: Barrier = barrier, n: int = n) -> int:
            client = app.test_client()
            barrier.wait()
            return client.post(
                "/api/v1/sites/news/comments", json=payload, environ_base={"REMOTE_ADDR": f"10.2.{n}.{i}"}
            ).status_code

        with ThreadPoolExecutor(max_workers=racers) as pool:
            statuses = sorted(pool.map(send, range(racers)))
        assert statuses == [201] + [409] * (racers - 1), (n, statuses)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Comment)) == rounds + 1
    assert db.session.scalar(select(Thread.comment_count)) == rounds + 1

"""Counters stay exact when many requests hit the same counter at once (SQLite and PostgreSQL).

Each worker thread has its own test client and so its own database connection and transaction, as
gunicorn workers would; the counter row does not exist before the first request, so the requests
also race to create it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from engagement.extensions import db
from engagement.models import CounterHistory, CounterReaderAction, StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site

pytestmark = pytest.mark.load

API = "/api/v1/sites/news/engagement"
THREADS = 16


@pytest.fixture
def site(app):
    return make_site("news")


def reader(n: int) -> str:
    return f"reader-{n:08d}-concurrency"


def in_parallel(app, requests):
    """Run ``request(client)`` for each request on THREADS threads; the status codes, in order."""

    def run(batch):
        client = app.test_client()
        return [request(client).status_code for request in batch]

    batches = [requests[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        return [status for statuses in pool.map(run, batches) for status in statuses]


def follow(n, kind="followers"):
    return lambda client: client.post(f"{API}/{kind}", headers={"X-Engagement-Reader": reader(n)})


def unfollow(n, kind="followers"):
    return lambda client: client.delete(f"{API}/{kind}", headers={"X-Engagement-Reader": reader(n)})


def followers(client):
    return client.get(API).json["counters"]["followers"]


def test_a_thousand_concurrent_follows_from_distinct_readers_count_exactly_a_thousand(app, client, site):
    statuses = in_parallel(app, [follow(n) for n in range(1000)])

    assert statuses == [200] * 1000
    assert followers(client)["count"] == 1000
    assert db.session.scalar(select(func.count()).select_from(CounterReaderAction)) == 1000
    # History rows are written under the counter's row lock, so today's row ends at the final value.
    assert db.session.scalar(select(CounterHistory.count)) == 1000


def test_concurrent_unfollows_bring_the_count_back_exactly(app, client, site):
    in_parallel(app, [follow(n) for n in range(300)])

    statuses = in_parallel(app, [unfollow(n) for n in range(200)] + [unfollow(n) for n in range(100)])

    assert set(statuses) == {200}
    assert followers(client)["count"] == 100


def test_the_same_reader_following_fifty_times_at_once_counts_once(app, client, site):
    statuses = in_parallel(app, [follow(7)] * 50 + [follow(8, kind="fans")] * 50)

    assert set(statuses) == {200}
    counters = client.get(API).json["counters"]
    assert (counters["followers"]["count"], counters["fans"]["count"]) == (1, 1)


def test_concurrent_pushes_from_many_sources_add_up_exactly(app, client, site):
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="sync")
    headers = {"Authorization": f"Bearer {secret}"}

    def push(source: int, count: int):
        url = "/api/v1/moderation/sites/news/engagement/followers"
        return lambda c: c.put(url, json={"source": f"platform-{source}", "count": count}, headers=headers)

    statuses = in_parallel(app, [push(s, 100 + s) for s in range(40)] + [follow(n) for n in range(60)])

    assert set(statuses) == {200}
    counter = followers(client)
    assert counter["external"] == sum(100 + s for s in range(40))
    assert counter["native"] == 60
    assert len(counter["sources"]) == 40

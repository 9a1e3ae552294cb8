"""Rate limits without Redis: one budget per client for every process of the host (engagement/rate_limits.py).

The gunicorn tests (several real workers) are in tests/test_load_faults.py.
"""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from engagement.extensions import db, limiter
from engagement.hashing import client_network
from engagement.models import OutboxMessage, OutboxStatus
from engagement.rate_limits import CLEANUP_SECONDS, HostFileStorage, default_storage_path, storage_uri
from tests.factories import make_site, post

KEY = "LIMITS:LIMITER/a-client/comments.post_comment/10/1/minute"


class Clock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def subscribe(app: Flask, email: str, target: str) -> int:
    response = app.test_client().post(
        "/api/v1/sites/news/subscribers",
        json={"email": email, "target": target},
        environ_base={"REMOTE_ADDR": "198.51.100.1"},
    )
    return response.status_code


def confirmations(email: str) -> dict[str, int]:
    statuses = db.session.scalars(select(OutboxMessage.status).where(OutboxMessage.to_address == email))
    found: dict[str, int] = {}
    for status in statuses:
        found[status] = found.get(status, 0) + 1
    return found


# --- one host's apps share one budget ----------------------------------------------------------------------


def test_two_apps_of_one_host_share_one_budget_for_comment_posts(make_app):
    # Each gunicorn worker builds its own app: a worker started later must not bring a fresh budget.
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_POST_COMMENT": "3 per minute"}
    first = make_app(**settings)
    with first.app_context():
        make_site("news")
    spent = [post(first.test_client()).status_code for _ in range(3)]

    second = make_app(**settings)

    assert spent == [201, 201, 201]
    assert post(second.test_client()).status_code == 429
    assert post(first.test_client()).status_code == 429
    assert post(second.test_client(), ip="198.51.100.2").status_code == 201  # another client's own budget


def test_the_addresses_of_one_ipv6_network_share_one_budget(make_app):
    # A client with a /64 could otherwise post, like or report from 2^64 addresses, each with a budget.
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_POST_COMMENT="2 per minute")
    with app.app_context():
        make_site("news")
    client = app.test_client()
    spent = [post(client, ip=f"2001:db8:7:7::{n:x}").status_code for n in range(1, 4)]
    assert spent == [201, 201, 429]
    assert post(client, ip="2001:db8:7:7:abcd:1234:5678:9").status_code == 429
    assert post(client, ip="2001:db8:7:8::1").status_code == 201  # the next /64: another client


def test_retry_after_is_sent_with_a_429_and_never_with_an_answer_that_was_served(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_POST_COMMENT="1 per minute")
    with app.app_context():
        make_site("news")
    client = app.test_client()

    posted, limited = post(client), post(client)
    read = client.get("/api/v1/sites/news/comments?thread=2025/05/a")

    assert posted.status_code == 201 and "X-RateLimit-Remaining" in posted.headers
    assert "Retry-After" not in posted.headers
    assert read.status_code == 200 and "Retry-After" not in read.headers
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_two_apps_of_one_host_mail_an_address_within_one_address_limit(make_app, clock):
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_MAIL_ADDRESS": "2 per hour",
        "RATELIMIT_SUBSCRIBE": "100 per minute",
    }
    first = make_app(**settings)
    with first.app_context():
        make_site("news")
        assert [subscribe(first, "victim@example.org", f"section:a{n}") for n in range(2)] == [202, 202]

    second = make_app(**settings)

    with second.app_context():
        assert [subscribe(second, "victim@example.org", f"section:b{n}") for n in range(3)] == [202] * 3
        assert confirmations("victim@example.org") == {OutboxStatus.QUEUED: 2, OutboxStatus.SUPPRESSED: 3}


def test_the_hosts_file_holds_no_client_ip_in_clear(make_app, tmp_path):
    app = make_app(RATELIMIT_ENABLED=True)
    with app.app_context():
        make_site("news")
    assert post(app.test_client(), ip="203.0.113.77").status_code == 201

    written = b"".join(path.read_bytes() for path in tmp_path.glob("rate-limits*"))
    assert b"comments.post_comment" in written  # the counters are there
    assert b"203.0.113.77" not in written


def test_limits_are_counted_in_redis_when_configured_else_in_the_hosts_file(make_app, tmp_path):
    configured = make_app(RATELIMIT_ENABLED=True)
    in_file = limiter.storage
    by_default = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_PATH=None)
    in_default_file = limiter.storage
    with_redis = make_app(RATELIMIT_ENABLED=True, REDIS_URL="redis://127.0.0.1:6379/3")

    assert isinstance(in_file, HostFileStorage) and in_file.path == tmp_path / "rate-limits"
    assert configured.config["RATELIMIT_STORAGE_URI"] == storage_uri(tmp_path / "rate-limits")
    assert isinstance(in_default_file, HostFileStorage)
    assert in_default_file.path == default_storage_path(by_default)
    assert with_redis.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"


def test_the_counters_of_a_sqlite_database_lie_beside_its_file_and_of_postgresql_in_instance(tmp_path):
    def path(url: str) -> Path | None:
        app = Flask(__name__, instance_path=str(tmp_path / "instance"))
        app.config["SQLALCHEMY_DATABASE_URI"] = url
        return default_storage_path(app)

    news = path("postgresql+psycopg://app:secret@db.example/news")

    assert path(f"sqlite:///{tmp_path}/news.db") == tmp_path / "news.db.ratelimits"
    assert path("sqlite://") is None  # an in-memory database: each process counts in its memory
    assert news is not None and news.parent == tmp_path / "instance" and "secret" not in str(news)


def test_a_path_with_spaces_and_question_marks_survives_the_storage_uri(tmp_path):
    path = tmp_path / "odd dir?#" / "rate limits"

    storage = HostFileStorage(storage_uri(path))

    assert storage.path == path
    assert storage.incr(KEY, 60) == 1
    assert path.exists()


# --- the file: exact under concurrency, windows, clean-up ------------------------------------------------


def _hit(storage: HostFileStorage, start: multiprocessing.synchronize.Event, hits: int, results) -> None:
    start.wait(10)
    results.put([storage.incr(KEY, 60) for _ in range(hits)])


def test_hits_from_several_processes_on_one_key_are_each_counted_once(tmp_path):
    storage = HostFileStorage(storage_uri(tmp_path / "rate-limits"))
    # Used before the fork, as a preloaded app's storage could be: each child opens its own connection.
    assert storage.incr(KEY, 60) == 1
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    processes = [context.Process(target=_hit, args=(storage, start, 150, results)) for _ in range(4)]
    for process in processes:
        process.start()
    start.set()
    counts = [count for _ in processes for count in results.get(timeout=60)]
    for process in processes:
        process.join(10)

    assert [process.exitcode for process in processes] == [0] * 4
    assert sorted(counts) == list(range(2, 602))  # every hit saw its own count: none lost, none doubled
    assert storage.get(KEY) == 601


def test_a_window_runs_from_its_first_hit_and_starts_again_once_it_has_ended(tmp_path):
    clock = Clock()
    storage = HostFileStorage(storage_uri(tmp_path / "rate-limits"), clock=clock)
    start = clock.now

    counted = [storage.incr(KEY, 60) for _ in range(3)]
    clock.now = start + 59.9
    last_in_window = storage.incr(KEY, 60)
    clock.now = start + 60

    assert counted == [1, 2, 3] and last_in_window == 4
    assert storage.get(KEY) == 0
    assert storage.incr(KEY, 60) == 1
    assert storage.get_expiry(KEY) == start + 120


def test_windows_that_have_ended_are_deleted_from_the_file(tmp_path):
    clock = Clock()
    path = tmp_path / "rate-limits"
    storage = HostFileStorage(storage_uri(path), clock=clock)
    storage.incr("a minute", 60)
    storage.incr("a day", 86_400)

    clock.now += CLEANUP_SECONDS
    storage.incr("now", 60)

    with sqlite3.connect(path) as connection:
        keys = {key for (key,) in connection.execute("SELECT key FROM windows")}
    assert keys == {"a day", "now"}


# --- an unusable file: each process's memory, never an error ----------------------------------------------


@pytest.mark.parametrize("kind", ["a damaged file", "a directory"])
def test_an_unusable_file_makes_each_process_count_in_memory_with_a_warning(make_app, tmp_path, caplog, kind):
    path = tmp_path / "rate-limits"
    if kind == "a directory":
        path.mkdir()
    else:
        path.write_bytes(b"these bytes are not a SQLite database\n" * 200)
    app = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_POST_COMMENT="2 per minute", RATELIMIT_STORAGE_PATH=str(path)
    )
    with app.app_context():
        make_site("news")
    client = app.test_client()

    with caplog.at_level(logging.WARNING, logger="engagement.rate_limits"):
        statuses = [post(client).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    warnings = [r.getMessage() for r in caplog.records if r.name == "engagement.rate_limits"]
    assert len(warnings) == 1 and "counting in this process's memory" in warnings[0]


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::ffff", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),  # an IPv4 client of a dual-stack socket
        ("fe80::1%eth0", "fe80::/64"),
        ("not an address", "not an address"),
    ],
)
def test_every_per_client_rule_counts_an_ipv4_address_or_an_ipv6_64(address, network):
    assert client_network(address) == network

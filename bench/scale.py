"""A newsroom after a few years: a million comments, and the staff and reader paths timed on them.

    .venv/bin/python -m bench.scale [--comments 1000000] [--database-url URL] [--runs 5]

The data set (built here in minutes, not through the API): 2 sites, 50,000 threads, one thread with 5% of
the comments (50,000 of a million), 193,000 authors (some writing their address in capitals), one author
with 500 comments, 1,000 pending comments for a bulk approve, 60,000 subscribers and two years of daily
history for 91 counters. Rows are inserted in bulk through SQLAlchemy Core with the models' own column
types, so the service reads exactly what it would have written; the full-text index fills itself (its
triggers on both databases: FTS5 on SQLite, the comment_search table on PostgreSQL).

Each path is then requested in process through the Flask test client (no network, no gunicorn): one
warm-up, then the median of ``runs`` sequential requests, with the SQL statements of one request
counted. The read cache is off, so a public page is timed as the database serves it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from flask_migrate import upgrade
from sqlalchemy import event, func, insert, select, text

from engagement import create_app
from engagement.extensions import db
from engagement.models import (
    Comment,
    CommentStatus,
    Counter,
    CounterHistory,
    CounterKind,
    StaffRole,
    Subscriber,
    Thread,
)
from engagement.normalization import body_digest
from engagement.pagination import encode_cursor
from engagement.sites.service import create_site
from engagement.staff.service import create_token

SITES = ("daily", "weekly")
BIG_THREAD = "politics/the-long-debate"
PROLIFIC = "Prolific.Author@Example.org"  # asked for in capitals: stored lower-cased, as the service does
CHUNK = 20_000
HISTORY_DAYS = 730
COUNTERS = 91
WORDS = (
    "the", "council", "budget", "vote", "school", "road", "water", "tax", "housing", "election",
    "mayor", "police", "river", "bridge", "park", "library", "tram", "station", "winter", "summer",
    "market", "farmers", "festival", "museum", "hospital", "doctors", "nurses", "teachers", "students",
    "rent", "prices", "wages", "jobs", "factory", "harbour", "ferry", "storm", "flood", "drought",
    "fire", "theatre", "concert", "football", "league", "season", "coach", "referee", "goal", "match",
    "stadium", "fans", "city", "village", "county", "region", "minister",
)  # fmt: skip
RARE_WORD = "quinquennial"


@dataclass(frozen=True)
class ScaleSet:
    comments: int
    threads: int
    authors: int
    big_thread_comments: int
    seconds: float
    comments_per_second: float


@dataclass(frozen=True)
class Timing:
    name: str
    label: str
    median_ms: float
    runs_ms: list[float]
    statements: int
    goal_ms: float
    status: int

    @property
    def passed(self) -> bool:
        return self.status < 400 and self.median_ms <= self.goal_ms


def _config(database_url: str) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench-scale",
        "RATELIMIT_ENABLED": False,
        "READ_CACHE_SECONDS": 0,
    }


def build(database_url: str, comments: int = 1_000_000, *, seed: int = 20) -> ScaleSet:
    """Migrate an empty database and fill it with the data set (``comments`` of them)."""
    app = create_app(_config(database_url))
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        site_ids = [
            create_site(slug=slug, name=slug.title(), origins=[], settings={"flood_seconds": 0}).id
            for slug in SITES
        ]
        plan = _Plan(comments=comments, site_ids=site_ids, rng=random.Random(seed))
        db.session.commit()
        connection = db.session.connection()
        if True:
            connection.execute(insert(Thread.__table__), plan.threads())
            for chunk in _chunks(plan.comments_rows(), CHUNK):
                connection.execute(insert(Comment.__table__), chunk)
            _thread_counts(connection)
            connection.execute(insert(Counter.__table__), plan.counters())
            for chunk in _chunks(plan.history(), CHUNK):
                connection.execute(insert(CounterHistory.__table__), chunk)
            for chunk in _chunks(plan.subscribers(), CHUNK):
                connection.execute(insert(Subscriber.__table__), chunk)
            _after_explicit_ids(connection)
        db.session.commit()
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            # As autovacuum would have, years into a site's life: without it, PostgreSQL's index-only
            # scans (the counts of /summary) read every row's page to learn whether the row is visible.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as autocommit:
                autocommit.execute(text("VACUUM ANALYZE"))
        db.engine.dispose()
    seconds = time.perf_counter() - started
    return ScaleSet(
        comments=comments,
        threads=plan.thread_count,
        authors=plan.authors,
        big_thread_comments=plan.big,
        seconds=round(seconds, 1),
        comments_per_second=round(comments / seconds),
    )


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _after_explicit_ids(connection: Any) -> None:
    """Rows were inserted with their ids: PostgreSQL's sequences must start after them. Then both
    databases gather their planner statistics, as after any large load."""
    if connection.dialect.name != "postgresql":
        connection.execute(text("ANALYZE"))
        return
    for model in (Thread, Comment, Counter, CounterHistory, Subscriber):
        table = model.__table__
        highest = select(func.max(table.c.id)).scalar_subquery()
        connection.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"), highest)))


class _Plan:
    """Who wrote what, where and when: deterministic for a seed."""

    def __init__(self, *, comments: int, site_ids: list[int], rng: random.Random) -> None:
        self.total = comments
        self.site_ids = site_ids
        self.rng = rng
        self.thread_count = max(2, comments // 20)
        self.authors = max(10, comments * 193 // 1000)
        self.big = comments // 20
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.start = self.now - timedelta(days=HISTORY_DAYS)
        self.approved_per_thread: dict[int, int] = {}

    def _site_of(self, thread_id: int) -> int:
        return self.site_ids[0] if thread_id % 3 else self.site_ids[1]

    def threads(self) -> list[dict[str, Any]]:
        # Counts are only known after the comments: they are set by _thread_counts.
        return [
            {
                "id": n,
                "site_id": self._site_of(n),
                "key": BIG_THREAD if n == 1 else f"news/{n:06d}-an-article-with-a-longer-slug",
                "title": f"Article {n}",
                "url": "",
                "comment_count": 0,
                "version": 1,
                "created_at": self.start,
                "opened_at": self.start,
                "last_comment_at": self.now,
            }
            for n in range(1, self.thread_count + 1)
        ]

    def comments_rows(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        span = (self.now - self.start).total_seconds()
        tops: dict[int, list[int]] = {}
        pending_left = 1_000
        prolific_left = 500
        for n in range(1, self.total + 1):
            thread_id = 1 if n % 20 == 0 else rng.randint(2, self.thread_count)
            site_id = self._site_of(thread_id)
            created = self.start + timedelta(seconds=span * n / self.total)
            roots = tops.setdefault(thread_id, [])
            parent = rng.choice(roots[-50:]) if roots and rng.random() < 0.3 else None
            if parent is None:
                roots.append(n)
            author = rng.randrange(self.authors)
            email = f"reader{author}@example.org"
            if prolific_left and n % 1_997 == 0:
                email, prolific_left = PROLIFIC.lower(), prolific_left - 1
            roll = rng.random()
            status = CommentStatus.APPROVED
            if pending_left and site_id == self.site_ids[0] and n > self.total - 200_000 and roll < 0.02:
                status, pending_left = CommentStatus.PENDING, pending_left - 1
            elif roll > 0.97:
                status = CommentStatus.SPAM
            elif roll > 0.95:
                status = CommentStatus.TRASH
            if status == CommentStatus.APPROVED:
                self.approved_per_thread[thread_id] = self.approved_per_thread.get(thread_id, 0) + 1
            words = rng.choices(WORDS, k=rng.randint(8, 40))
            if n % 100_003 == 0:
                words.append(RARE_WORD)
            body = " ".join(words).capitalize() + "."
            yield {
                "id": n,
                "site_id": site_id,
                "thread_id": thread_id,
                "parent_id": parent,
                "root_id": parent,
                "depth": 1 if parent else 0,
                "author_name": f"Reader {author}",
                "author_email": email,
                "author_url": None,
                "ip_hash": hashlib.sha256(str(author).encode()).hexdigest(),
                "user_agent": "bench-scale",
                "body": body,
                "html": f"<p>{body}</p>",
                "body_digest": body_digest(body),
                "status": status,
                "spam_reasons": [],
                "likes": rng.randrange(20) if rng.random() < 0.2 else 0,
                "pinned": n == 20,
                "open_reports": 1 if n % 50_021 == 0 else 0,
                "created_at": created,
            }

    def counters(self) -> list[dict[str, Any]]:
        kinds = list(CounterKind)
        return [
            {
                "id": n,
                "site_id": self.site_ids[n % 2],
                "target": "site" if n <= len(kinds) * 2 else f"author-{n}",
                "kind": kinds[n % len(kinds)],
                "native_count": 0,
                "external_count": 1_000 + n,
                "updated_at": self.now,
            }
            for n in range(1, COUNTERS + 1)
        ]

    def history(self) -> Iterator[dict[str, Any]]:
        today = self.now.date()
        identifier = 0
        for counter in range(1, COUNTERS + 1):
            for days_ago in range(HISTORY_DAYS, 0, -1):
                identifier += 1
                value = 1_000 + counter + (HISTORY_DAYS - days_ago)
                yield {
                    "id": identifier,
                    "counter_id": counter,
                    "day": today - timedelta(days=days_ago),
                    "count": value,
                    "native": 0,
                    "external": value,
                }

    def subscribers(self) -> Iterator[dict[str, Any]]:
        for n in range(1, 60_001):
            yield {
                "id": n,
                "site_id": self.site_ids[0],
                "target": "site",
                "email": f"subscriber{n}@example.org",
                "confirmed": True,
                "created_at": self.start,
                "confirmed_at": self.start,
            }


def _thread_counts(connection: Any) -> None:
    """Each thread's approved count, as the service keeps it."""
    connection.execute(
        text(
            "UPDATE threads SET comment_count = (SELECT count(*) FROM comments "
            "WHERE comments.thread_id = threads.id AND comments.status = 'approved')"
        )
    )


class _StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


def measure(database_url: str, *, runs: int = 5, say: Callable[[str], None] = print) -> list[Timing]:
    """Time every path of the scale table on a database ``build`` filled."""
    app = create_app(_config(database_url))
    logging.getLogger("engagement.request").setLevel(logging.WARNING)
    with app.app_context():
        _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="bench-scale")
        cursors = _cursors()
        pending = _pending_ids()
        db.session.remove()
    staff = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    counter = _StatementCounter()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", counter)

    def timed(name: str, label: str, goal_ms: float, call: Callable[[], Any], *, repeat: bool = True) -> None:
        times: list[float] = []
        status = 0
        statements = 0
        for run in range(runs + 1 if repeat else 1):
            with app.app_context():
                from engagement import caching

                caching.forget_all()
            counter.count = 0
            started = time.perf_counter()
            response = call()
            response.get_data()  # a streamed body (CSV, export) is timed to its last byte
            elapsed = (time.perf_counter() - started) * 1000
            status = max(status, response.status_code)
            statements = counter.count
            if run or not repeat:
                times.append(round(elapsed, 1))
            response.close()
        timing = Timing(name, label, statistics.median(times), times, statements, goal_ms, status)
        results.append(timing)
        say(
            f"  {label:<58} {timing.median_ms:>8.1f} ms  {statements:>5} stmts  "
            f"goal {goal_ms:g} ms  {'PASS' if timing.passed else 'MISS'}"
            + (f"  (HTTP {status})" if status >= 400 else "")
        )

    def get(url: str, headers: dict[str, str] | None = None) -> Callable[[], Any]:
        return lambda: client.get(url, headers=headers or {})

    results: list[Timing] = []
    moderation = "/api/v1/moderation/comments"
    public = f"/api/v1/sites/{SITES[0]}"
    big = quote(BIG_THREAD, safe="")
    staff_paths = (
        ("mod_all_site", "moderation status=all, one site", f"{moderation}?status=all&site={SITES[0]}"),
        ("mod_all", "moderation status=all, all sites", f"{moderation}?status=all"),
        ("mod_pending", "moderation pending queue, all sites", f"{moderation}?status=pending"),
        ("mod_spam_site", "moderation spam, one site", f"{moderation}?status=spam&site={SITES[1]}"),
        ("mod_q_common", "moderation search, common word", f"{moderation}?status=all&q=council"),
        ("mod_q_rare", "moderation search, rare word", f"{moderation}?status=all&q={RARE_WORD}"),
        (
            "mod_email",
            "moderation email= (asked in capitals)",
            f"{moderation}?status=all&email=Reader10@Example.org",
        ),
        ("mod_thread", "moderation thread= (biggest thread)", f"{moderation}?status=all&thread={big}"),
        (
            "mod_deep",
            "moderation deep cursor (80%)",
            f"{moderation}?status=all&site={SITES[0]}&cursor={cursors['moderation']}",
        ),
        ("mod_reported", "moderation reported", f"{moderation}?status=reported"),
        ("summary", "/summary", "/api/v1/moderation/summary"),
        (
            "privacy_lookup",
            "privacy lookup (500 comments)",
            f"/api/v1/moderation/people?email={quote(PROLIFIC)}",
        ),
        ("audit", "audit log", "/api/v1/moderation/audit"),
    )
    for name, label, url in staff_paths:
        timed(name, label, 50, get(url, staff))
    for sort in ("oldest", "newest", "top"):
        base = f"{public}/comments?thread={big}&sort={sort}"
        timed(f"big_first_{sort}", f"biggest thread, first page, {sort}", 20, get(base))
        timed(
            f"big_deep_{sort}",
            f"biggest thread, deep page (80%), {sort}",
            20,
            get(f"{base}&cursor={cursors[sort]}"),
        )
    timed("big_feed", "biggest thread's Atom feed", 20, get(f"{public}/feed.atom?thread={big}"))
    timed("site_feed", "site-wide Atom feed", 20, get(f"{public}/feed.atom"))
    timed(
        "small_thread",
        "a small thread's page",
        20,
        get(f"{public}/comments?thread=news/000002-an-article-with-a-longer-slug"),
    )
    keys = "&".join(f"thread=news/{n:06d}-an-article-with-a-longer-slug" for n in range(2, 52))
    timed("counts_50", "counts of 50 threads", 20, get(f"{public}/counts?{keys}"))
    long_keys = [f"news/2026/12/{n:03d}-a-realistic-article-slug-here" for n in range(100)]
    timed(
        "counts_100_post",
        "counts of 100 threads, 44-character keys (POST)",
        20,
        lambda: client.post(f"{public}/counts", json={"thread": long_keys}),
    )
    timed(
        "subscribers_csv",
        "subscribers.csv, 60,000 rows",
        1_000,
        get(f"/api/v1/moderation/sites/{SITES[0]}/subscribers.csv", staff),
    )
    timed(
        "bulk_approve",
        "bulk approve of 1,000 pending",
        300,
        lambda: client.post(f"{moderation}/bulk", json={"ids": pending, "action": "approve"}, headers=staff),
        repeat=False,
    )
    timed(
        "privacy_erase",
        "privacy erase of an author's 500 comments",
        500,
        lambda: client.post(
            "/api/v1/moderation/people/erase", json={"email": PROLIFIC, "mode": "anonymize"}, headers=staff
        ),
        repeat=False,
    )
    with app.app_context():
        db.engine.dispose()
    return results


def _cursors() -> dict[str, str]:
    """Cursors 80% of the way through the biggest thread (public sorts) and through one site's queue."""
    big = db.session.scalar(text("SELECT id FROM threads WHERE key = :key"), {"key": BIG_THREAD})
    top_level = db.session.execute(
        text(
            "SELECT id, created_at, likes, pinned FROM comments WHERE thread_id = :t AND depth = 0 "
            "AND status = 'approved' ORDER BY id"
        ),
        {"t": big},
    ).all()
    at = top_level[len(top_level) * 4 // 5]
    created = _instant(at.created_at)
    by_likes = sorted(top_level, key=lambda r: (r.likes, r.id), reverse=True)[len(top_level) * 4 // 5]
    site_id = db.session.scalar(text("SELECT id FROM sites WHERE slug = :s"), {"s": SITES[0]})
    queue = db.session.execute(
        text("SELECT id, created_at FROM comments WHERE site_id = :s ORDER BY id LIMIT 1 OFFSET :o"),
        {"s": site_id, "o": db.session.scalar(text("SELECT count(*) FROM comments")) // 5},
    ).one()
    return {
        "oldest": encode_cursor(False, created, at.id),
        "newest": encode_cursor(
            False, _instant(top_level[len(top_level) // 5].created_at), top_level[len(top_level) // 5].id
        ),
        "top": encode_cursor(False, by_likes.likes, by_likes.id),
        "moderation": encode_cursor(_instant(queue.created_at), queue.id),
    }


def _instant(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _pending_ids() -> list[int]:
    return list(
        db.session.scalars(text("SELECT id FROM comments WHERE status = 'pending' ORDER BY id LIMIT 1000"))
    )


def run(database_url: str, comments: int, *, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Build the data set into an empty database and time every path on it: what `make bench` records."""
    say(f"   building {comments:,} comments")
    built = build(database_url, comments)
    say(f"   built in {built.seconds:.0f} s ({built.comments_per_second:,} comments/s)")
    timings = measure(database_url, say=say)
    return {"set": asdict(built), "timings": [{**asdict(t), "passed": t.passed} for t in timings]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--no-build", action="store_true", help="measure a database built before")
    args = parser.parse_args()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'scale.db'}"
        if not args.no_build:
            print(json.dumps(asdict(build(url, args.comments))))
        measure(url, runs=args.runs)


if __name__ == "__main__":
    main()

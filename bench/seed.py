"""Seed the service's database for the benchmark: the demo site, a 200-comment thread, a 10,000-comment
thread, 1,000 small threads for counts, and counters with 90 days of history.

The 200-comment thread goes through ``post_comment`` like real comments. The 10,000-comment thread and the
1,000 small ones are inserted in bulk (with HTML rendered by the same renderer), which takes seconds
instead of a minute or more; the read path cannot tell the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask_migrate import upgrade

from devtools.conversations import (
    COUNT_THREADS,
    POST_THREAD,
    THREAD_10K,
    THREAD_200,
    SeedComment,
    conversation,
    thread_key,
)
from devtools.seeding import post_conversation
from engagement import create_app
from engagement.counters.service import push_external_count, set_reader_action
from engagement.demo import DEMO_SLUG, seed_demo
from engagement.extensions import db
from engagement.hashing import reader_hash
from engagement.models import Comment, CommentStatus, CounterKind, Site, Thread
from engagement.rendering import render_comment
from engagement.sites.service import get_site

HISTORY_DAYS = 90
FOLLOWS_PER_DAY = 3


@dataclass(frozen=True)
class SeededService:
    site: str
    comments: int
    threads: int


def seed_service(database_url: str, secret_key: str) -> SeededService:
    """Migrate an empty database and fill it; returns what it holds."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": secret_key})
    with app.app_context():
        upgrade()
        seed_demo()
        site = get_site(DEMO_SLUG)
        post_conversation(site, THREAD_200, conversation(195, seed=200))
        post_conversation(site, POST_THREAD, conversation(1, seed=3))
        now = datetime.now(UTC)
        _bulk_thread(site, THREAD_10K, conversation(10_000, reply_share=0.2, seed=10_000), now)
        for number in range(COUNT_THREADS):
            _bulk_thread(site, thread_key(number), conversation(1 + number % 5, seed=number), now)
        db.session.commit()
        _counter_history(app, site)
        seeded = SeededService(
            site=DEMO_SLUG,
            comments=db.session.query(Comment).count(),
            threads=db.session.query(Thread).count(),
        )
        db.session.remove()
        db.engine.dispose()
    return seeded


def _bulk_thread(site: Site, key: str, comments: list[SeedComment], now: datetime) -> None:
    """Insert a thread's approved comments, one second apart, replies one level deep."""
    started = now - timedelta(seconds=len(comments) + 60)
    thread = Thread(
        site_id=site.id,
        key=key,
        title=f"Article {key}",
        url="",
        comment_count=len(comments),
        version=1,
        created_at=started,
        last_comment_at=started + timedelta(seconds=len(comments)),
    )
    db.session.add(thread)
    db.session.flush()

    def row(index: int, comment: SeedComment, parent: Comment | None) -> Comment:
        return Comment(
            site_id=site.id,
            thread_id=thread.id,
            parent_id=parent.id if parent else None,
            root_id=parent.id if parent else None,
            depth=1 if parent else 0,
            author_name=comment.author,
            author_email=comment.email,
            author_url=None,
            ip_hash=None,
            user_agent="bench-seed",
            body=comment.body,
            html=_rendered(comment.body),
            status=CommentStatus.APPROVED,
            spam_reasons=[],
            likes=index % 7,
            pinned=False,
            created_at=started + timedelta(seconds=index),
        )

    # Replies answer top-level comments only, so two inserts give every reply its parent's id.
    top = {i: row(i, c, None) for i, c in enumerate(comments) if c.parent is None}
    db.session.add_all(top.values())
    db.session.flush()
    db.session.add_all(row(i, c, top[c.parent]) for i, c in enumerate(comments) if c.parent is not None)
    db.session.flush()


_RENDERED: dict[str, str] = {}


def _rendered(body: str) -> str:
    if body not in _RENDERED:
        _RENDERED[body] = render_comment(body)
    return _RENDERED[body]


def _counter_history(app: Flask, site: Site) -> None:
    """90 days of external pushes and native follows, each on its own day, so history has a series."""
    today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    real_clock = app.config["CLOCK"]
    try:
        for days_ago in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=days_ago)
            app.config["CLOCK"] = lambda day=day: day
            grown = HISTORY_DAYS - days_ago
            for kind, source, base in (
                (CounterKind.FANS, "instagram", 4_000),
                (CounterKind.FOLLOWERS, "threads", 1_500),
                (CounterKind.SUBSCRIBERS, "newsletter", 900),
            ):
                push_external_count(
                    site=site, kind=kind, target="site", source=source, count=base + 37 * grown
                )
            for reader in range(grown * FOLLOWS_PER_DAY, (grown + 1) * FOLLOWS_PER_DAY):
                set_reader_action(
                    site=site,
                    kind=CounterKind.FOLLOWERS,
                    target="site",
                    reader=reader_hash(f"bench-reader-{reader:06d}"),
                    active=True,
                )
    finally:
        app.config["CLOCK"] = real_clock

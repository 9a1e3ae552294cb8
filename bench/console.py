"""The staff console at a newsroom's size: a site with 100,000 comments, 10,000 of them pending.

    .venv/bin/python -m bench.console [--runs 25]

On SQLite, and on a fresh PostgreSQL database too when ENGAGEMENT_BENCH_DATABASE_URL names a server (as
``make bench``, which runs this as its console scenario).

Measured in the process (server time: the app's own work for a request, from the WSGI call to the last
byte, without a network or a client): the queue page with 50 cards (an admin's home page: the pending tab
of every site; the pending tab of one site; the All tab of every site), and a decision round trip
(approve one pending card, answered as JSON to queue.js).
Median and 90th percentile over ``--runs`` requests after three warm-up ones. Also the console's own
JavaScript and CSS, each gzipped as served, summed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert, text

from bench.databases import databases
from devtools.console_assets import assets_size
from engagement import create_app
from engagement import threads as threads_module
from engagement.console import service as console
from engagement.console.auth import SESSION_COOKIE
from engagement.extensions import db
from engagement.models import Comment, CommentStatus, StaffRole, Thread
from engagement.rendering import render_comment
from engagement.sites.service import create_site
from engagement.staff.service import create_token

COMMENTS = 100_000
PENDING = 10_000
THREADS = 500
AUTHORS = 20_000
SITE = "newsroom"
BODIES = (
    "I read the whole piece and I still think the council got the numbers wrong.",
    "Thanks for covering this. See https://example.org/report for the full text.",
    "Who is paying for the new bridge? Nobody has answered that.",
    "This is the third article this week on the same subject, and **nothing** has changed.",
)


def measure(database_url: str, *, runs: int = 25, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Seed a fresh database at ``database_url`` and time the console's pages on it."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench-console",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        pending_ids = seed(app)
        say(f"   {COMMENTS:,} comments ({PENDING:,} pending) seeded in {time.perf_counter() - started:.1f} s")
        _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="bench-console")
        signed_in = console.sign_in_with_token(
            secret=secret, browser=console.Browser(ip="127.0.0.1", user_agent="bench")
        )
        csrf = console.csrf_token(signed_in.secret)
        db.session.remove()
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, signed_in.secret, path="/console")

    def page(url: str) -> Callable[[], None]:
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200 and response.data.count(b'class="card"') == 50, url

        return get

    decisions = iter(pending_ids)

    def decide() -> None:
        response = client.post(
            f"/console/comments/{next(decisions)}/decision",
            data={"status": "approved", "seen": "pending", "csrf_token": csrf},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200 and response.json["stale"] is False, response.json

    result = {
        "queue_home": _timed(page("/console/queue"), runs),
        "queue_pending": _timed(page(f"/console/queue?site={SITE}"), runs),
        "queue_all": _timed(page("/console/queue?tab=all"), runs),
        "decision": _timed(decide, runs),
    }
    with app.app_context():
        db.engine.dispose()
    return result


def seed(app: Flask) -> list[int]:
    """The site, its threads and comments in bulk (the newest ``PENDING`` pending, a few spam and trash,
    the rest approved); returns the pending ids, newest first."""
    site = create_site(slug=SITE, name="Newsroom", origins=[], settings={})
    now = datetime.now(UTC).replace(microsecond=0)
    threads = [
        {
            "site_id": site.id,
            "key": f"/2026/article-{n}",
            "title": f"Article {n}",
            "url": f"https://news.example/2026/article-{n}",
            "comment_count": 0,
            "version": 1,
            "created_at": now - timedelta(days=400),
        }
        for n in range(THREADS)
    ]
    db.session.execute(insert(Thread), threads)
    thread_ids = list(db.session.scalars(db.select(Thread.id).where(Thread.site_id == site.id)))
    html = [render_comment(body) for body in BODIES]
    rows = []
    for n in range(COMMENTS):
        age = COMMENTS - n
        if age <= PENDING:
            status = CommentStatus.PENDING
        elif n % 50 == 0:
            status = CommentStatus.SPAM
        elif n % 70 == 0:
            status = CommentStatus.TRASH
        else:
            status = CommentStatus.APPROVED
        rows.append(
            {
                "site_id": site.id,
                "thread_id": thread_ids[n % THREADS],
                "depth": 0,
                "author_name": f"Reader {n % AUTHORS}",
                "author_email": f"reader{n % AUTHORS}@example.org",
                "ip_hash": f"{n % AUTHORS:064x}",
                "user_agent": "Mozilla/5.0 (bench)",
                "body": BODIES[n % len(BODIES)],
                "html": html[n % len(BODIES)],
                "status": status,
                "spam_reasons": ["first_time"] if status == CommentStatus.PENDING else [],
                "likes": 0,
                "pinned": False,
                "created_at": now - timedelta(seconds=age * 300),
            }
        )
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(Comment), rows[start : start + 10_000])
    db.session.commit()
    # The approved counts readers see, as posting would have kept them.
    threads_module.recount(thread_ids)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return list(
        db.session.scalars(
            db.select(Comment.id)
            .where(Comment.status == CommentStatus.PENDING)
            .order_by(Comment.created_at.desc())
        )
    )


def _timed(request: Callable[[], None], runs: int) -> dict[str, float]:
    for _ in range(3):
        request()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        request()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p90_ms": round(times[int(len(times) * 0.9) - 1], 2),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for database, url in databases(Path(scratch), "console"):
            print(f"== {database}")
            for name, timing in measure(url, runs=args.runs).items():
                print(f"{name}: median {timing['median_ms']} ms, p90 {timing['p90_ms']} ms")
    print(f"console JS+CSS: {assets_size()}")


if __name__ == "__main__":
    main()

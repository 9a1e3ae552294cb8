"""Time of one bulk approve of 1,000 pending comments through the moderation API, on a fresh database.

    .venv/bin/python -m bench.bulk_moderation [--comments 1000] [--runs 5] [--database-url URL]

The comments are posted through the comment service (held by moderation "all"), then one
``POST /api/v1/moderation/comments/bulk`` approves them all; the wall time of that request is what is
reported, minimum and median over the runs, each on a new database. A report, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade

from engagement import create_app
from engagement.comments.drafts import Client, NewComment
from engagement.comments.service import post_comment
from engagement.extensions import db
from engagement.models import StaffRole
from engagement.sites.service import create_site
from engagement.staff.service import create_token


def one_run(database_url: str, comments: int) -> float:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False}
    )
    with app.app_context():
        upgrade()
        site = create_site(
            slug="bench", name="Bench", origins=[], settings={"moderation": "all", "flood_seconds": 0}
        )
        _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="bench")
        ids = [
            post_comment(
                site=site,
                draft=NewComment(
                    thread_key=f"article-{i % 20}",
                    author_name="Reader",
                    author_email=f"r{i}@example.org",
                    body=f"Comment {i}",
                ),
                client=Client(ip=None, user_agent="bench"),
            ).comment.id
            for i in range(comments)
        ]
        client = app.test_client()
        started = time.perf_counter()
        response = client.post(
            "/api/v1/moderation/comments/bulk",
            json={"ids": ids, "action": "approve"},
            headers={"Authorization": f"Bearer {secret}"},
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 200 and len(response.json["updated"]) == comments, response.json
        db.engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="default: a new SQLite file per run")
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'bulk.db'}"
            times.append(one_run(url, args.comments))
    print(
        f"bulk approve of {args.comments} pending comments: "
        f"min {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms, {args.runs} runs"
    )


if __name__ == "__main__":
    main()

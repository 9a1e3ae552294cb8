"""Export one site as JSON Lines (see ``records``): for backups, for leaving, for moving between servers.

Lines are produced while rows are read, a batch of threads at a time and their comments a chunk at a time,
so an export of any size streams with flat memory. The export holds readers' email addresses, so only an
admin token may ask for one.
"""

from __future__ import annotations

import collections
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from engagement import clock
from engagement.errors import Forbidden
from engagement.extensions import db
from engagement.importers.records import END, FORMAT, SCHEMAS, VERSION
from engagement.models import (
    Ban,
    Comment,
    CommentLike,
    Counter,
    CounterHistory,
    CounterReaderAction,
    CounterSource,
    MailContact,
    ReplySubscription,
    Report,
    Site,
    StaffToken,
    Subscriber,
    Thread,
)
from engagement.staff.access import site_in_scope

THREADS_PER_BATCH = 200
ROWS_PER_FETCH = 1000


def export_for_staff(*, token: StaffToken, slug: str) -> Iterator[str]:
    """The export of a site for an admin token (403 for moderators: it includes email addresses).

    Checks run now; the returned lines are read from the database as they are consumed.
    """
    if not token.is_admin:
        raise Forbidden("forbidden", "Only an admin token may export a site: it includes readers' emails.")
    return export_lines(site=site_in_scope(token, slug))


def export_lines(*, site: Site) -> Iterator[str]:
    """Every line of the site's export, each ending in a newline, the ``end`` record last: it is written
    only after every other line, so a file cut anywhere lacks it (``records``)."""
    digest = hashlib.sha256()
    counts: collections.Counter[str] = collections.Counter()
    for line in _record_lines(site):
        digest.update(line.encode())
        counts[line[9 : line.index('"', 9)]] += 1  # every line starts {"type":"<kind>"
        yield line
    yield (
        END.dumps(
            {"type": "end", "lines": counts.total(), "records": dict(counts), "sha256": digest.hexdigest()},
            separators=(",", ":"),
        )
        + "\n"
    )


def _record_lines(site: Site) -> Iterator[str]:
    yield _line(
        "site",
        {
            "format": FORMAT,
            "version": VERSION,
            "slug": site.slug,
            "name": site.name,
            "origins": list(site.origins),
            "settings": site.settings_json,
            "created_at": site.created_at,
            "exported_at": clock.now(),
        },
    )
    yield from _threads_and_comments(site)
    yield from _counters(site)
    for ban in db.session.execute(
        select(Ban.__table__).where(Ban.site_id == site.id).order_by(Ban.id)
    ).mappings():
        yield _line("ban", ban)
    yield from _mail(site)


def _threads_and_comments(site: Site) -> Iterator[str]:
    """Each thread, then its comments (parents before replies). Comments stream in chunks of
    ``ROWS_PER_FETCH`` with their likes and report counts: memory stays flat whatever the biggest thread
    (a batch of threads once held all its comments, a 50,000-comment thread included)."""
    threads_table, comments_table = Thread.__table__, Comment.__table__
    thread_ids = list(
        db.session.scalars(select(Thread.id).where(Thread.site_id == site.id).order_by(Thread.id))
    )
    for start in range(0, len(thread_ids), THREADS_PER_BATCH):
        batch = thread_ids[start : start + THREADS_PER_BATCH]
        # Core rows, not model objects: nothing accumulates in the session however large the site.
        threads = list(
            db.session.execute(
                select(threads_table).where(threads_table.c.id.in_(batch)).order_by(threads_table.c.id)
            ).mappings()
        )
        comments = db.session.execute(
            select(comments_table)
            .where(comments_table.c.thread_id.in_(batch))
            .order_by(comments_table.c.thread_id, comments_table.c.depth, comments_table.c.id)
            .execution_options(yield_per=ROWS_PER_FETCH)
        ).mappings()
        pending = iter(threads)
        current: dict[str, Any] | None = None
        for chunk in comments.partitions():
            rows = [dict(row) for row in chunk]
            likes = _likes([row["id"] for row in rows])
            reports = _report_counts([row["id"] for row in rows])
            for comment in rows:
                while current is None or current["id"] != comment["thread_id"]:
                    current = next(pending)
                    yield _line("thread", dict(current))
                yield _line(
                    "comment",
                    {
                        **comment,
                        "thread": current["key"],
                        "liked_by": likes.get(comment["id"], []),
                        "reports": reports.get(comment["id"], _NO_REPORTS),
                    },
                )
        for rest in pending:
            yield _line("thread", dict(rest))


def _likes(comment_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    likes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for comment_id, reader_hash, created_at in db.session.execute(
        select(CommentLike.comment_id, CommentLike.reader_hash, CommentLike.created_at)
        .where(CommentLike.comment_id.in_(comment_ids))
        .order_by(CommentLike.comment_id, CommentLike.reader_hash)
    ):
        likes[comment_id].append({"reader_hash": reader_hash, "created_at": created_at})
    return likes


_NO_REPORTS: dict[str, Any] = {"total": 0, "open": 0, "open_by_reason": {}}


def _report_counts(comment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Readers' reports of ``comment_ids``, as counts only: who reported stays out of the export (a reader
    id's hash is not the site's to hand on)."""
    counts: dict[int, dict[str, Any]] = {}
    for comment_id, reason, settled, count in db.session.execute(
        select(
            Report.comment_id,
            Report.reason,
            (Report.dismissed_at.is_not(None) | Report.upheld_at.is_not(None)).label("settled"),
            func.count(),
        )
        .where(Report.comment_id.in_(comment_ids))
        .group_by(Report.comment_id, Report.reason, "settled")
    ):
        entry = counts.setdefault(comment_id, {"total": 0, "open": 0, "open_by_reason": {}})
        entry["total"] += count
        if not settled:
            entry["open"] += count
            entry["open_by_reason"][reason] = entry["open_by_reason"].get(reason, 0) + count
    return counts


def _counters(site: Site) -> Iterator[str]:
    counters = (
        db.session.execute(select(Counter.__table__).where(Counter.site_id == site.id).order_by(Counter.id))
        .mappings()
        .all()
    )
    for counter in counters:
        sources = db.session.execute(
            select(CounterSource.__table__)
            .where(CounterSource.counter_id == counter["id"])
            .order_by(CounterSource.source)
        ).mappings()
        history = db.session.execute(
            select(CounterHistory.__table__)
            .where(CounterHistory.counter_id == counter["id"])
            .order_by(CounterHistory.day)
        ).mappings()
        yield _line("counter", {**counter, "sources": list(sources), "history": list(history)})
        readers = db.session.execute(
            select(CounterReaderAction.reader_hash, CounterReaderAction.created_at)
            .where(CounterReaderAction.counter_id == counter["id"])
            .order_by(CounterReaderAction.reader_hash)
            .execution_options(yield_per=ROWS_PER_FETCH)
        )
        for reader_hash, created_at in readers:
            yield _line(
                "counter_reader",
                {
                    "target": counter["target"],
                    "kind": counter["kind"],
                    "reader_hash": reader_hash,
                    "created_at": created_at,
                },
            )


def _mail(site: Site) -> Iterator[str]:
    subscribers = db.session.execute(
        select(Subscriber.__table__)
        .where(Subscriber.site_id == site.id)
        .order_by(Subscriber.id)
        .execution_options(yield_per=ROWS_PER_FETCH)
    ).mappings()
    for subscriber in subscribers:
        yield _line("subscriber", subscriber)
    contacts = db.session.execute(
        select(MailContact.__table__).where(MailContact.site_id == site.id).order_by(MailContact.id)
    ).mappings()
    for contact in contacts.all():
        followed = db.session.execute(
            select(Thread.key, ReplySubscription.created_at)
            .join(Thread, Thread.id == ReplySubscription.thread_id)
            .where(ReplySubscription.contact_id == contact["id"])
            .order_by(Thread.key)
        ).mappings()
        yield _line("mail_contact", {**contact, "threads": list(followed)})


def _line(kind: str, values: Any) -> str:
    """One record; its schema picks the fields the format has from a row's columns."""
    record = SCHEMAS[kind].dump(values)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"

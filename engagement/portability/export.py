"""Export one site as JSON Lines (see ``records``): for backups, for leaving, for moving between servers.

Lines are produced while rows are read, a batch of threads at a time, so an export of any size streams
with flat memory. The export holds readers' email addresses, so only an admin token may ask for one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from engagement import clock
from engagement.errors import Forbidden
from engagement.extensions import db
from engagement.importers.records import FORMAT, SCHEMAS, VERSION
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
    """Every line of the site's export, each ending in a newline."""
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
    threads_table, comments_table = Thread.__table__, Comment.__table__
    thread_ids = list(
        db.session.scalars(select(Thread.id).where(Thread.site_id == site.id).order_by(Thread.id))
    )
    for start in range(0, len(thread_ids), THREADS_PER_BATCH):
        batch = thread_ids[start : start + THREADS_PER_BATCH]
        # Core rows, not model objects: nothing accumulates in the session however large the site.
        threads = db.session.execute(
            select(threads_table).where(threads_table.c.id.in_(batch)).order_by(threads_table.c.id)
        ).mappings()
        comments: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for comment in db.session.execute(
            select(comments_table)
            .where(comments_table.c.thread_id.in_(batch))
            .order_by(comments_table.c.depth, comments_table.c.id)
        ).mappings():
            comments[comment["thread_id"]].append(dict(comment))
        likes: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for comment_id, reader_hash, created_at in db.session.execute(
            select(CommentLike.comment_id, CommentLike.reader_hash, CommentLike.created_at)
            .join(Comment, Comment.id == CommentLike.comment_id)
            .where(Comment.thread_id.in_(batch))
            .order_by(CommentLike.comment_id, CommentLike.reader_hash)
        ):
            likes[comment_id].append({"reader_hash": reader_hash, "created_at": created_at})
        for thread in threads.all():
            yield _line("thread", dict(thread))
            for comment in comments[thread["id"]]:
                yield _line("comment", {**comment, "thread": thread["key"], "liked_by": likes[comment["id"]]})


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

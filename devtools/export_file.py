"""A realistic export file (``flask engagement export``'s JSON Lines) of any size, for restores at scale.

    .venv/bin/python -m devtools.export_file out.jsonl --comments 1000000 --threads 25000 --big-thread 50000

    from devtools.export_file import ExportShape, write_export
    written = write_export(path, ExportShape(comments=1_000_000, threads=25_000, big_thread=50_000))

One site: threads with comments and nested replies (a third are replies, up to five levels), one very
large thread, many authors (emails, names, a few signed-in readers), every status (deleted placeholders
with replies, pending, spam), likes with their readers, and about 90 counters with two years of daily
history, their sources and readers, then bans, subscribers and reply-notification contacts: every record
type an export holds, in the export's order (a thread, then its comments parents first).

Bodies are Markdown rendered once each by the service's own renderer (a pool, reused), so their HTML is
what the export of a real site holds. The file is written a thread at a time: memory stays small
whatever the size (bench/import_rate.py measures the import's memory from a child process, and a large
parent would hide it). Seeded: the same shape gives the same file.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from engagement.importers.records import FORMAT, VERSION
from engagement.rendering import render_comment

START = datetime(2024, 1, 1, tzinfo=UTC)
WORDS = (
    *("election", "council", "budget", "river", "bridge", "school", "minister", "harbour", "train", "vote"),
    *("naïve", "café", "Zürich", "東京", "Köln", "señor", "crème", "brûlée", "façade", "Ångström"),
    *("the", "a", "of", "and", "to", "in", "is", "that", "for", "it", "was", "on", "are", "with", "as"),
)
BODY_POOL = 400
COUNTER_KINDS = ("fans", "followers", "subscribers")


@dataclass(frozen=True)
class ExportShape:
    """What the file holds. The issue's million: 1,000,000 comments over 2 sites, 50,000 threads, one
    thread of 50,000 comments, 193,000 authors, two years of history for about 90 counters."""

    comments: int = 100_000
    threads: int = 5_000
    big_thread: int = 10_000  # comments of the one very large thread (the first), part of ``comments``
    authors: int = 20_000
    counters: int = 90
    history_days: int = 730
    readers_per_counter: int = 50
    subscribers: int = 500
    site: str = "bench"
    first_id: int = 1  # comment ids from here (two sites' files must not share ids)
    seed: int = 20261205


@dataclass(frozen=True)
class Written:
    path: Path
    bytes: int
    threads: int
    comments: int
    counters: int
    history_days: int


def write_export(path: Path, shape: ExportShape = ExportShape()) -> Written:
    """Write the export of ``shape`` to ``path``; returns what was written."""
    rng = random.Random(shape.seed)
    bodies = _body_pool(rng)
    threads = comments = 0
    with path.open("wb") as file:
        out = _Out(file)
        out.write(_site(shape))
        next_id = shape.first_id
        for thread_number, size in enumerate(_thread_sizes(rng, shape)):
            threads += 1
            key = f"/{2024 + thread_number % 2}/story-{thread_number}"
            records = _thread_comments(rng, shape, bodies, key=key, first_id=next_id, size=size)
            out.write(_thread(key, thread_number, size))
            for record in records:
                out.write(record)
            next_id += size
            comments += size
        for number in range(shape.counters):
            counter = _counter(rng, shape, number)
            out.write(counter)
            for reader in range(shape.readers_per_counter if counter["kind"] != "subscribers" else 0):
                out.write(_counter_reader(counter, reader))
        for record in _mail_and_bans(shape):
            out.write(record)
        out.end()
    return Written(path, path.stat().st_size, threads, comments, shape.counters, shape.history_days)


class _Out:
    """Lines as the export writes them, and (from format version 2) its ``end`` record: how many lines
    of each type came before it, and the SHA-256 of their bytes."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.digest = hashlib.sha256()
        self.counts: collections.Counter[str] = collections.Counter()

    def write(self, record: dict[str, Any]) -> None:
        line = _line(record).encode()
        self.file.write(line)
        self.digest.update(line)
        self.counts[record["type"]] += 1

    def end(self) -> None:
        if VERSION >= 2:  # the version that ends with the end record
            end = {"type": "end", "lines": self.counts.total(), "records": dict(self.counts)}
            self.file.write(_line({**end, "sha256": self.digest.hexdigest()}).encode())


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _at(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat()


def _body_pool(rng: random.Random) -> list[tuple[str, str]]:
    """(Markdown body, its HTML) pairs: short and long, with links, emphasis, quotes, lists, Unicode."""
    pool = []
    for n in range(BODY_POOL):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.choice((8, 20, 40, 80, 160))))
        extra = (
            f" See https://news.example/{n} for **more**.",
            f"\n\n> {rng.choice(WORDS)} said so\n\nI *disagree*.",
            "\n\n- one\n- two\n- three",
            f" `code {n}` and a [link](https://example.org/{n}).",
            "",
        )[n % 5]
        body = words + extra
        pool.append((body, render_comment(body)))
    return pool


def _thread_sizes(rng: random.Random, shape: ExportShape) -> Iterator[int]:
    """The big thread first, then the rest spread over the other threads (uneven, as real ones are)."""
    others = max(shape.threads - 1, 1)
    rest = max(shape.comments - shape.big_thread, 0)
    weights = [min(rng.paretovariate(1.5), 50.0) for _ in range(others)]  # no second giant
    scale = rest / sum(weights)
    sizes = [int(w * scale) for w in weights]
    for n in range(rest - sum(sizes)):  # what rounding left, one each
        sizes[n % others] += 1
    yield min(shape.big_thread, shape.comments)
    for size in sizes:
        if size:
            yield size


def _thread(key: str, number: int, size: int) -> dict[str, Any]:
    return {
        "type": "thread",
        "key": key,
        "title": f"Story {number}: {WORDS[number % len(WORDS)]}",
        "url": f"https://news.example{key}",
        "closed": number % 50 == 0,
        "comment_count": size,
        "created_at": _at(number * 600),
        "last_comment_at": _at(number * 600 + 86_400) if size else None,
    }


def _thread_comments(
    rng: random.Random,
    shape: ExportShape,
    bodies: list[tuple[str, str]],
    *,
    key: str,
    first_id: int,
    size: int,
) -> list[dict[str, Any]]:
    """A thread's comments in the export's order: by depth, then id (parents before replies)."""
    depth_of: dict[int, int] = {}
    records = []
    for n in range(size):
        comment_id = first_id + n
        parent = None
        if n and rng.random() < 0.35:
            parent = rng.randint(max(first_id, comment_id - 200), comment_id - 1)
            if depth_of[parent] >= 4:
                parent = None
        depth_of[comment_id] = 0 if parent is None else depth_of[parent] + 1
        records.append(_comment(rng, shape, bodies, key, comment_id, parent, depth_of[comment_id]))
    records.sort(key=lambda r: (r.pop("_depth"), r["id"]))
    return records


def _comment(
    rng: random.Random,
    shape: ExportShape,
    bodies: list[tuple[str, str]],
    thread: str,
    comment_id: int,
    parent: int | None,
    depth: int,
) -> dict[str, Any]:
    roll = rng.random()
    status = "approved" if roll < 0.86 else "pending" if roll < 0.93 else "spam" if roll < 0.97 else "deleted"
    author = rng.randrange(shape.authors)
    body, html = bodies[rng.randrange(len(bodies))]
    created = comment_id * 37.0 + rng.random()
    deleted = status == "deleted"
    likes = [] if deleted or rng.random() < 0.8 else _likes(rng, created)
    return {
        "type": "comment",
        "id": comment_id,
        "thread": thread,
        "parent_id": parent,
        "source": "wordpress" if comment_id % 10 == 0 else None,
        "source_id": f"{thread}:{comment_id}" if comment_id % 10 == 0 else None,
        "author_name": "" if deleted else f"Reader {author} Ünïcode",
        "author_email": "" if deleted else f"reader{author}@example.org",
        "author_url": None if deleted or author % 7 else f"https://reader{author}.example",
        "author_sso_id": None if deleted or author % 11 else f"user-{author}",
        "ip_hash": None if deleted else hashlib.sha256(f"ip{author % 5000}".encode()).hexdigest(),
        "user_agent": "" if deleted else "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
        "body": "" if deleted else body,
        "html": "" if deleted else html,
        "status": status,
        "previous_status": "approved" if deleted else None,
        "spam_reasons": ["max_links"] if status == "spam" else [],
        "likes": len(likes),
        "liked_by": likes,
        "pinned": depth == 0 and comment_id % 997 == 0,
        "created_at": _at(created),
        "edited_at": _at(created + 60) if comment_id % 31 == 0 and not deleted else None,
        "moderated_at": _at(created + 600) if status != "approved" else None,
        "moderated_by": "moderator" if status != "approved" else None,
        "reports": {"total": 0, "open": 0, "open_by_reason": {}},
        "_depth": depth,
    }


def _likes(rng: random.Random, created: float) -> list[dict[str, Any]]:
    readers = sorted({f"{rng.getrandbits(128):032x}" for _ in range(rng.randint(1, 6))})
    return [{"reader_hash": r, "created_at": _at(created + 30 + n)} for n, r in enumerate(readers)]


def _site(shape: ExportShape) -> dict[str, Any]:
    return {
        "type": "site",
        "format": FORMAT,
        "version": VERSION,
        "slug": shape.site,
        "name": "Bench Daily",
        "origins": ["https://news.example"],
        "settings": {"moderation": "first_time", "max_depth": 5},
        "created_at": _at(0),
        "exported_at": _at(86_400 * 740),
    }


def _counter(rng: random.Random, shape: ExportShape, number: int) -> dict[str, Any]:
    kind = COUNTER_KINDS[number % len(COUNTER_KINDS)]
    target = "site" if number < len(COUNTER_KINDS) else f"author:writer-{number // len(COUNTER_KINDS)}"
    first_day = date(2024, 1, 1)
    native = external = 0
    history = []
    for day in range(shape.history_days):
        native += rng.randint(0, 5)
        external += rng.randint(-2, 20) if kind != "subscribers" else 0
        external = max(external, 0)
        history.append(
            {
                "day": (first_day + timedelta(days=day)).isoformat(),
                "count": native + external,
                "native": native,
                "external": external,
            }
        )
    sources = (
        [{"source": "facebook", "count": external, "observed_at": _at(86_400 * shape.history_days)}]
        if external
        else []
    )
    return {
        "type": "counter",
        "target": target,
        "kind": kind,
        "native_count": native,
        "external_count": external,
        "updated_at": _at(86_400 * shape.history_days),
        "sources": sources,
        "history": history,
    }


def _counter_reader(counter: dict[str, Any], number: int) -> dict[str, Any]:
    reader = hashlib.sha256(f"{counter['target']}/{counter['kind']}/{number}".encode()).hexdigest()
    return {
        "type": "counter_reader",
        "target": counter["target"],
        "kind": counter["kind"],
        "reader_hash": reader,
        "created_at": _at(number * 3600),
    }


def _mail_and_bans(shape: ExportShape) -> Iterator[dict[str, Any]]:
    yield {
        "type": "ban",
        "kind": "word",
        "value": "casino",
        "action": "moderate",
        "expires_at": None,
        "note": "",
        "created_by": "admin",
        "created_at": _at(1000),
    }
    for n in range(shape.subscribers):
        yield {
            "type": "subscriber",
            "target": "site",
            "email": f"subscriber{n}@example.org",
            "confirmed_at": _at(n * 60 + 30),
            "confirmation_sent_at": _at(n * 60),
            "created_at": _at(n * 60),
        }
    yield {
        "type": "mail_contact",
        "email": "reader1@example.org",
        "confirmed_at": _at(100),
        "confirmation_sent_at": _at(50),
        "created_at": _at(50),
        "threads": [{"key": "/2024/story-0", "created_at": _at(60)}],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    for name, default in vars(ExportShape()).items():
        kind = type(default)
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=default)
    args = vars(parser.parse_args())
    path = args.pop("path")
    written = write_export(path, ExportShape(**args))
    sys.stdout.write(
        f"wrote {written.path}: {written.bytes / 1024 / 1024:.1f} MB, {written.comments:,} comments in "
        f"{written.threads:,} threads, {written.counters} counters x {written.history_days} days\n"
    )


if __name__ == "__main__":
    main()

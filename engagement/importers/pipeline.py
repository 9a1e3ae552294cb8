"""The pipeline every import format feeds: records in, rows out, in one transaction.

A format reader yields ``ImportedThread``, ``ImportedComment``, ``Skipped`` and (JSON only) ``SiteRecord``
items. The pipeline

- upserts threads by (site, key) and comments by (site, source, source_id), so importing the same file
  again updates rows instead of duplicating them. A source id is scoped by what the source's id is unique
  within (``scoped_source_id``: a WordPress post, an Isso page); a row an older importer wrote under the
  bare id (``ImportedComment.legacy_source_id``) is taken over, in the same thread only, and re-keyed;
- never lets one comment of a file replace another: the first comment with a given source id (or ref) is
  kept, every later one is skipped as ``duplicate_source_id``. Memory stays flat: the ids seen are held
  as long as the comments' tree nodes, one thread at a time for a source that lists a thread's comments
  together (a thread listed a second time is skipped whole, as its first listing is forgotten), the
  whole file for Disqus, which keeps every node until the end anyway;
- writes comments in batches of ``BATCH_SIZE`` whatever thread they belong to (a few statements a batch,
  not a few a thread), a reply under its parent when that is written already and top-level otherwise, and
  rebuilds each thread's reply tree once all of its comments are known (a reply may come before its
  parent in the file), updating only the rows it moves: parents are resolved by the source's ids,
  replies deeper than the site's ``max_depth`` attach to the deepest allowed ancestor (as new replies
  do), and a deleted comment stays only as a placeholder for replies it still has;
- recounts every touched thread's approved comments in SQL and bumps its ``version`` (the ETag of its
  public reads) at the end.

Nothing here commits: the caller commits, or rolls back on an error or a dry run, so an import is all or
nothing.
"""

from __future__ import annotations

import collections
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from sqlalchemy import String, delete, exists, select, update
from sqlalchemy.orm import aliased

from engagement import clock, threads
from engagement.database import (
    among,
    insert_ignoring_conflicts,
    insert_rows,
    realign_id_sequence,
    reserve_ids,
)
from engagement.extensions import db
from engagement.models import Comment, CommentLike, CommentStatus, Site, Thread
from engagement.models.comments import SOURCE_ID_LENGTH
from engagement.normalization import body_digest

BATCH_SIZE = 500
# Column limits of the models; imported values are cut to fit instead of failing the whole import.
NAME_LENGTH = 245
EMAIL_LENGTH = 100
URL_LENGTH = 200
USER_AGENT_LENGTH = 400
THREAD_KEY_LENGTH = 512
THREAD_TITLE_LENGTH = 300
THREAD_URL_LENGTH = 1000
# Source ids of restored comments that were native where they came from (see ImportedComment.restore_id).
RESTORED_SOURCE = "json"
# Skipped reasons of what the pipeline refuses to let replace what a file already gave.
DUPLICATE = "duplicate_source_id"
THREAD_LISTED_TWICE = "thread_listed_twice"


@dataclass(frozen=True)
class ImportedThread:
    """A thread as a source describes it. ``ref`` is how the source's comments point at it."""

    ref: str
    key: str
    title: str = ""
    url: str = ""
    closed: bool | None = None  # None: the source does not say; an existing thread keeps its state
    created_at: datetime | None = None  # None: the earliest imported comment's time
    last_comment_at: datetime | None = None  # None: the newest approved comment's time


@dataclass
class ImportedComment:
    """A comment as a source describes it; ``ref``/``parent_ref`` are its and its parent's ids there."""

    source: str | None
    source_id: str | None
    ref: str
    thread_ref: str
    parent_ref: str | None
    created_at: datetime
    status: str
    body: str = ""
    html: str = ""
    author_name: str = ""
    author_email: str = ""
    author_url: str | None = None
    author_sso_id: str | None = None  # a signed-in reader's user id on the site (restores keep it)
    ip_hash: str | None = None
    user_agent: str = ""
    previous_status: str | None = None
    spam_reasons: list[str] = field(default_factory=list)
    likes: int = 0
    liked_by: list[tuple[str, datetime]] = field(default_factory=list)
    pinned: bool = False
    edited_at: datetime | None = None
    moderated_at: datetime | None = None
    moderated_by: str | None = None
    # A restore (JSON) keeps comment ids where they are free, so permalinks (#comment-123) survive.
    restore_id: int | None = None
    # The source id an older importer stored before ids were scoped (the bare WordPress or Isso id): a row
    # still under it in the same thread is this comment, and gets ``source_id`` from now on.
    legacy_source_id: str | None = None


def scoped_source_id(scope: str, local_id: str) -> str:
    """A source's id made unique by what it is unique within there (a post, a page): ``scope:local_id``."""
    return f"{scope}:{local_id}"


def _fitting_source_id(source_id: str | None) -> str | None:
    """A source id that fits its column. A long one is replaced by its digest, not cut: two ids cut to
    the same prefix would be one comment."""
    if source_id is None or len(source_id) <= SOURCE_ID_LENGTH:
        return source_id
    digest = hashlib.sha256(source_id.encode()).hexdigest()
    return f"sha256:{digest}"[:SOURCE_ID_LENGTH]


@dataclass(frozen=True)
class Skipped:
    """A source item deliberately not imported (a pingback, a post of an unknown thread, ...)."""

    reason: str


class SiteRecord(Protocol):
    """A JSON-only record (site settings, counters, bans, ...) that restores itself."""

    def restore(self, importer: ImportPipeline) -> None: ...


Record = ImportedThread | ImportedComment | Skipped | SiteRecord
THREAD_KEYS = ("path", "permalink", "post-id")


class Source(Protocol):
    """One file in one format, read as a stream of records."""

    name: str
    # The source gives each thread's comments right after the thread (WXR, Isso, JSON): trees are rebuilt
    # thread by thread and memory stays flat (so a comment naming another thread, or a thread listed a
    # second time, is skipped). Otherwise (Disqus) once, at the end.
    settle_per_thread: bool
    # Replies deeper than the site's max_depth attach to the deepest allowed ancestor (not for a restore).
    limit_depth: bool
    # The site may be missing: the file describes it (JSON).
    restores_site: bool

    def total(self) -> int:
        """The amount of work, in the units records() reports progress in (bytes, rows)."""
        ...

    def records(self, progress: Callable[[int], None]) -> Iterator[Record]: ...


class SourceFile:
    """What the file formats share: a path, the thread key option, progress in bytes, and the defaults
    of a plain import (replies kept within ``max_depth``, the site must exist)."""

    limit_depth = True
    restores_site = False

    def __init__(self, path: Path, *, thread_key: str = "path") -> None:
        self.path = path
        self.thread_key = thread_key

    def total(self) -> int:
        return self.path.stat().st_size


@dataclass
class ImportSummary:
    format: str
    site: str
    dry_run: bool = False
    threads: int = 0
    threads_created: int = 0
    comments_created: int = 0
    comments_updated: int = 0
    comments: collections.Counter[str] = field(default_factory=collections.Counter)  # by status
    skipped: collections.Counter[str] = field(default_factory=collections.Counter)  # by reason
    notes: collections.Counter[str] = field(default_factory=collections.Counter)
    restored: collections.Counter[str] = field(default_factory=collections.Counter)  # JSON: by record type

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "site": self.site,
            "dry_run": self.dry_run,
            "threads": self.threads,
            "threads_created": self.threads_created,
            "comments_created": self.comments_created,
            "comments_updated": self.comments_updated,
            "comments": dict(sorted(self.comments.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "notes": dict(sorted(self.notes.items())),
            "restored": dict(sorted(self.restored.items())),
        }

    def lines(self) -> list[str]:
        """The summary as an operator reads it at the end of an import."""
        total = sum(self.comments.values())
        lines = [
            f"{self.format} -> {self.site}: {self.threads} threads ({self.threads_created} new), "
            f"{total} comments ({self.comments_created} new, {self.comments_updated} updated)",
            "  by status: " + _listing(self.comments),
        ]
        if self.skipped:
            lines.append(f"  skipped {sum(self.skipped.values())}: " + _listing(self.skipped))
        if self.notes:
            lines.append("  notes: " + _listing(self.notes))
        if self.restored:
            lines.append("  restored: " + _listing(self.restored))
        if self.dry_run:
            lines.append("dry run: nothing was written")
        return lines


def _listing(counts: collections.Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "none"


class _Match(NamedTuple):
    """The row an imported comment updates, and the source key the row has after the update."""

    comment_id: int
    thread_id: int
    source: str | None
    source_id: str | None


class _Node:
    """One imported comment's place in its thread while the tree is rebuilt."""

    __slots__ = (
        "children",
        "comment_id",
        "created",
        "depth",
        "parent",
        "parent_ref",
        "ref",
        "root_id",
        "status",
        "stored",
    )

    def __init__(
        self,
        comment_id: int,
        ref: str,
        parent_ref: str | None,
        status: str,
        *,
        created: bool,
        stored: tuple[int | None, int | None, int] | None,
    ) -> None:
        self.comment_id = comment_id
        # (parent_id, root_id, depth) as the row holds them; None: unknown (an earlier import's row)
        self.stored = stored
        self.created = created  # inserted by this import (else an earlier import's row, updated)
        self.ref = ref
        self.parent_ref = parent_ref
        self.status = status
        self.parent: _Node | None = None
        self.children: list[_Node] = []
        self.depth = 0
        self.root_id: int | None = None


class _ThreadSlot:
    """A thread a comment named: its row is written (created or updated) with the next batch of comments,
    so a file of many small threads costs a few statements a batch, not a few a thread."""

    __slots__ = ("declared", "id", "order")

    def __init__(self, declared: ImportedThread, order: int) -> None:
        self.declared = declared
        self.order = order  # how many threads this import had touched before it
        self.id: int | None = None


class _Pending(NamedTuple):
    """A comment waiting for the next batch, and what was true when it came."""

    comment: ImportedComment
    thread: _ThreadSlot
    listing: int  # the thread listing it came in (a per-thread source), 0 (the whole file) otherwise
    known: int  # threads touched when it came: a row in one of those is this import's already


class ImportPipeline:
    """Feeds one source's records into one site (see the module docstring)."""

    def __init__(
        self, *, site: Site, summary: ImportSummary, settle_per_thread: bool, limit_depth: bool, actor: str
    ) -> None:
        self.site = site
        self.summary = summary
        self.settle_per_thread = settle_per_thread
        self.limit_depth = limit_depth
        self.actor = actor
        self._declared: dict[str, ImportedThread] = {}  # by source ref
        self._threads: dict[str, _ThreadSlot] = {}  # source ref -> its thread, once a comment needed it
        self._unwritten_threads: list[_ThreadSlot] = []  # written with the next batch
        self._slots = 0
        self._touched: dict[int, int] = {}  # thread id -> the order it was first touched in
        self._derived_last_comment: set[int] = set()
        self._derived_created: set[int] = set()
        self._pending: list[_Pending] = []
        self._pending_keys: set[tuple[str, str]] = set()  # identities in _pending of the current listing
        # A per-thread source's listings are numbered; comments wait in _nodes until theirs has ended
        # (then its trees are rebuilt with the next batch). Other sources have one listing, the file.
        self._listing = 0
        # By (listing, thread id), each by ref.
        self._nodes: dict[tuple[int, int], dict[str, _Node]] = collections.defaultdict(dict)
        # What the comments of the current listing claimed (their refs, which replies point at) and what
        # every unsettled listing wrote (row ids). A later comment claiming either is a duplicate.
        self._seen_refs: set[str] = set()
        self._written: dict[int, set[int]] = collections.defaultdict(set)  # by listing
        self._listed: set[str] = set()  # thread refs a per-thread source has listed
        self._skipped_thread: str | None = None  # a thread listed again: its comments are skipped
        self._restored_ids = False
        self._sequence_behind = False  # ids were inserted explicitly since PostgreSQL's sequence moved

    # --- feeding ---------------------------------------------------------------------------------------

    def feed(self, records: Iterable[Record]) -> ImportSummary:
        """Consume every record, then rebuild what is left and recount. The caller commits."""
        for record in records:
            if isinstance(record, ImportedComment):
                self._add_comment(record)
            elif isinstance(record, ImportedThread):
                if self.settle_per_thread:
                    self._end_listing()
                    self._skipped_thread = record.ref if record.ref in self._listed else None
                    self._listed.add(record.ref)
                    if self._skipped_thread is not None:
                        continue
                self._declared[record.ref] = record
                self._threads.pop(record.ref, None)
            elif isinstance(record, Skipped):
                self.summary.skipped[record.reason] += 1
            else:
                self._flush()
                record.restore(self)
        self._flush(settle_all=True)
        self._recount()
        return self.summary

    def _end_listing(self) -> None:
        """Comments belong to the thread they follow; what was said of earlier ones is gone. The ended
        listing's trees are rebuilt with the next batch (its comments may still be waiting)."""
        self._declared.clear()
        self._threads.clear()
        self._seen_refs, self._pending_keys = set(), set()
        self._listing += 1

    def _thread(self, ref: str) -> _ThreadSlot | None:
        """The thread a comment belongs to, written with its first comment: a page nobody commented on
        (Disqus lists every page its embed ever loaded on) does not become a thread."""
        slot = self._threads.get(ref)
        if slot is None and ref in self._declared:
            slot = self._threads[ref] = _ThreadSlot(self._declared[ref], self._slots)
            self._slots += 1
            self._unwritten_threads.append(slot)
        return slot

    def _write_threads(self) -> None:
        """Create or update the rows of the threads comments named since the last batch, in file order:
        found by (site, key) in one query, created in one statement, updated in another."""
        slots, self._unwritten_threads = self._unwritten_threads, []
        if not slots:
            return
        keys = [slot.declared.key.strip()[:THREAD_KEY_LENGTH] for slot in slots]
        rows: dict[str, dict[str, Any]] = {}  # by key: the row's columns as they will be written
        ids: dict[str, int] = {}
        for chunk in _chunks(sorted(set(keys)), BATCH_SIZE):
            for row in db.session.execute(
                select(*_THREAD_COLUMNS).where(
                    Thread.site_id == self.site.id, among(Thread.key, chunk, String)
                )
            ).mappings():
                ids[row["key"]] = row["id"]
                rows[row["key"]] = {name: row[name] for name in _THREAD_FIELDS}
        existing = set(ids)
        for slot, key in zip(slots, keys, strict=True):
            thread = slot.declared
            title, url = thread.title.strip()[:THREAD_TITLE_LENGTH], thread.url.strip()[:THREAD_URL_LENGTH]
            row = rows.get(key)
            if row is None:
                rows[key] = {
                    "title": title,
                    "url": url,
                    "closed": bool(thread.closed),
                    "created_at": thread.created_at or clock.now(),
                    "opened_at": thread.created_at or clock.now(),  # imported comments are no spam's doing
                    "last_comment_at": thread.last_comment_at,
                }
                continue
            # A source that knows less than we do (no title, no closed state) leaves ours alone.
            row["title"] = title or row["title"]
            row["url"] = url or row["url"]
            if thread.closed is not None:
                row["closed"] = thread.closed
            if thread.created_at is not None:
                row["created_at"] = row["opened_at"] = thread.created_at
            elif row["opened_at"] is None:
                row["opened_at"] = row["created_at"]
            if thread.last_comment_at is not None:
                row["last_comment_at"] = thread.last_comment_at
        ids = threads.write_imported_threads(self.site.id, rows, existing=ids)
        self.summary.threads_created += len(rows) - len(existing)
        for slot, key in zip(slots, keys, strict=True):
            slot.id = thread_id = ids[key]
            if slot.declared.created_at is None:
                self._derived_created.add(thread_id)
            if slot.declared.last_comment_at is None:
                self._derived_last_comment.add(thread_id)
            if thread_id not in self._touched:
                self._touched[thread_id] = slot.order
                self.summary.threads += 1

    def _add_comment(self, comment: ImportedComment) -> None:
        if self._skipped_thread is not None and comment.thread_ref == self._skipped_thread:
            # Its first listing's ids are forgotten, so a comment here could not be told from one there.
            self.summary.skipped[THREAD_LISTED_TWICE] += 1
            return
        thread = self._thread(comment.thread_ref)
        if thread is None:
            self.summary.skipped["unknown_thread"] += 1
            return
        comment.source_id = _fitting_source_id(comment.source_id)
        if comment.legacy_source_id is not None:  # as the older importer stored it: cut to fit
            comment.legacy_source_id = comment.legacy_source_id[:SOURCE_ID_LENGTH]
        identity = _identity(comment)
        if comment.ref in self._seen_refs or identity in self._pending_keys:
            # The first one stays: a later one with the same id must not replace it (nor its replies).
            self.summary.skipped[DUPLICATE] += 1
            return
        self._seen_refs.add(comment.ref)
        if identity is not None:
            self._pending_keys.add(identity)
        self._pending.append(_Pending(comment, thread, self._listing, self._slots))
        if len(self._pending) >= BATCH_SIZE:
            self._flush()

    # --- writing comments -----------------------------------------------------------------------------

    def _flush(self, *, settle_all: bool = False) -> None:
        """Write the threads and comments waiting (tree fields empty), remember each comment's place,
        and rebuild the trees of every listing that has ended (of all of them: ``settle_all``)."""
        self._write_threads()
        pending, self._pending, self._pending_keys = self._pending, [], set()
        start = 0
        while start < len(pending):
            start = self._write_comments(pending, start)
        self._settle(settle_all=settle_all)

    def _write_comments(self, pending: list[_Pending], start: int) -> int:
        """Write ``pending`` from ``start`` with a few statements; returns where it stopped.

        The rows the comments update are looked up for all of them at once, as they were before any of
        them was written. A comment whose lookup an earlier one of this run could have changed (the same
        key or id, a row already written) starts the next run, looked up again once this one is written:
        the result is the same as writing the comments one at a time, in file order."""
        items = pending[start:]
        matches, taken = self._existing_rows(items)
        keys_written: set[tuple[str | None, str | None]] = set()
        ids_written: set[int] = set()
        legacy_written: set[tuple[str | None, int, str | None]] = set()
        written: list[tuple[_Pending, _Match | None]] = []
        updates: list[dict[str, Any]] = []
        inserts: list[tuple[int, dict[str, Any]]] = []
        inserts_by_index: dict[int, dict[str, Any]] = {}
        ids: dict[int, int] = {}
        end = len(items)
        for index, item in enumerate(items):
            comment, thread_id, match = item.comment, item.thread.id, matches.get(index)
            assert thread_id is not None  # written by _write_threads
            if (
                _identity(comment) in keys_written
                or comment.restore_id in ids_written
                or (comment.source, thread_id, comment.legacy_source_id) in legacy_written
                or (match is not None and match.comment_id in ids_written)
            ):  # (keys with a None in them are never written: they find nothing)
                end = index
                break
            if match is not None and self._written_by_this_import(match, item):
                self.summary.skipped[DUPLICATE] += 1
                continue
            row = _row(comment, site_id=self.site.id, thread_id=thread_id)
            if match is not None:
                # The row keeps the key it is found by next time (a re-keyed legacy row: its new one).
                row["source"], row["source_id"] = match.source, match.source_id
                updates.append({"id": match.comment_id, **row})
                ids[len(written)] = match.comment_id
                ids_written.add(match.comment_id)
            else:
                if comment.restore_id is not None and comment.restore_id not in taken:
                    row["id"] = comment.restore_id
                    taken.add(comment.restore_id)
                    ids_written.add(comment.restore_id)
                elif comment.source is None and comment.restore_id is not None:
                    # The id is someone else's: a new id, and a source id by which a re-import finds it.
                    row["source"], row["source_id"] = RESTORED_SOURCE, str(comment.restore_id)
                inserts.append((len(written), {"parent_id": None, "root_id": None, "depth": 0, **row}))
                inserts_by_index[len(written)] = inserts[-1][1]
            if row["source_id"] is not None:
                keys_written.add((row["source"], row["source_id"]))
                legacy_written.add((row["source"], thread_id, row["source_id"]))
            written.append((item, match))
        if updates:
            db.session.execute(update(Comment), updates)
        ids.update(self._reserve_ids(inserts))
        likes = []
        deepest_allowed = self._deepest_allowed()
        for index, (item, match) in enumerate(written):
            comment, thread_id = item.comment, item.thread.id
            assert thread_id is not None
            self._written[item.listing].add(ids[index])
            nodes = self._nodes[(item.listing, thread_id)]
            stored = None
            if match is None:
                # Where the row goes as it is inserted: under its parent when that is written already (in
                # the file's order, parents come first), so the rebuilt tree mostly finds nothing to move.
                row = inserts_by_index[index]
                parent = nodes.get(comment.parent_ref) if comment.parent_ref is not None else None
                if parent is not None and parent.stored is not None and parent.stored[2] < deepest_allowed:
                    row["parent_id"], row["root_id"] = (
                        parent.comment_id,
                        parent.stored[1] or parent.comment_id,
                    )
                    row["depth"] = parent.stored[2] + 1
                stored = (row["parent_id"], row["root_id"], row["depth"])
            node = _Node(
                ids[index],
                comment.ref,
                comment.parent_ref,
                comment.status,
                created=match is None,
                stored=stored,
            )
            nodes[comment.ref] = node
            likes.extend(
                {"comment_id": ids[index], "reader_hash": reader, "created_at": at}
                for reader, at in comment.liked_by
            )
        insert_rows(_COMMENTS, [row for _, row in inserts])
        if likes:
            statement = insert_ignoring_conflicts(
                CommentLike.__table__, {}, conflict_columns=["comment_id", "reader_hash"]
            )
            db.session.execute(statement, likes)
        return start + end

    def _written_by_this_import(self, match: _Match, item: _Pending) -> bool:
        """Whether the row a comment matched was already written from this file: by an earlier comment
        of its listing, or into another thread this import had touched when it came (an id repeated
        across threads, which a per-thread source no longer remembers). Either way it is not this one's."""
        if match.comment_id in self._written.get(item.listing, ()):
            return True
        if not self.settle_per_thread or match.thread_id == item.thread.id:
            return False
        touched = self._touched.get(match.thread_id)
        return touched is not None and touched < item.known

    def _reserve_ids(self, inserts: list[tuple[int, dict[str, Any]]]) -> dict[int, int]:
        """Give every row to insert its id: a restored one's, or one reserved after the highest id used
        or about to be (so a new id can never be one the file uses); the rows then go in one executemany,
        in the file's order, each reply after its parent."""
        ids = {index: row["id"] for index, row in inserts if "id" in row}
        new = [(index, row) for index, row in inserts if "id" not in row]
        if ids:
            self._restored_ids = True
        if new:
            # PostgreSQL's sequence knows no explicit id: moved past them first.
            behind = self._sequence_behind or bool(ids)
            reserved = reserve_ids(
                _COMMENTS, len(new), above=max(ids.values(), default=0) if behind else None
            )
            for (index, row), new_id in zip(new, reserved, strict=True):
                row["id"] = ids[index] = new_id
            self._sequence_behind = False
        else:
            self._sequence_behind |= bool(ids)
        return ids

    def _existing_rows(self, pending: list[_Pending]) -> tuple[dict[int, _Match], set[int]]:
        """Batch index -> the row each comment updates: found by source id (or restored id), or by the
        bare id an older importer stored, in the comment's own thread only; and which of the ids the
        comments bring are taken."""
        # Every comment with a key gets its row as the run began (a later one of the same key is one a
        # write of the run may change: _write_comments starts the next run there).
        keys: dict[tuple[str, str], list[int]] = collections.defaultdict(list)
        restored: dict[int, list[int]] = collections.defaultdict(list)
        for index, item in enumerate(pending):
            comment = item.comment
            identity = _identity(comment)
            if identity is None:
                continue
            keys[identity].append(index)
            if comment.source is None and comment.restore_id is not None:
                restored[comment.restore_id].append(index)
        found: dict[int, _Match] = {}
        for source, source_ids in _by_source(keys).items():
            rows = self._rows_of_source(source, source_ids)
            for comment_id, thread_id, source_id in rows:
                for index in keys[(source, source_id)]:
                    found[index] = _Match(comment_id, thread_id, source, source_id)
        # The rows holding the ids the comments bring: taken, so not theirs to insert under; and a comment
        # that was native where it was exported came back under its own id, the same comment only if it
        # is still native here, on this site, with the same creation time. (By id alone: SQLite would
        # read every native comment of the site through the source index for "source IS NULL".)
        wanted = sorted({item.comment.restore_id for item in pending if item.comment.restore_id is not None})
        taken: set[int] = set()
        for chunk in _chunks(wanted, BATCH_SIZE):
            rows = db.session.execute(
                select(
                    Comment.id, Comment.site_id, Comment.source, Comment.thread_id, Comment.created_at
                ).where(among(Comment.id, chunk))
            )
            for comment_id, site_id, source, thread_id, created_at in rows:
                taken.add(comment_id)
                if site_id != self.site.id or source is not None:
                    continue
                for index in restored.get(comment_id, ()):
                    if created_at == pending[index].comment.created_at:
                        found.setdefault(index, _Match(comment_id, thread_id, None, None))
        found.update(self._legacy_rows(pending, found))
        return found, taken

    def _legacy_rows(self, pending: list[_Pending], found: dict[int, _Match]) -> dict[int, _Match]:
        """Rows still under the bare source id an older importer stored, each taken over by the comment
        of its own thread only (a bare id says nothing about the post it was in), with the new key."""
        legacy: dict[tuple[str | None, int, str], list[int]] = collections.defaultdict(list)
        for index, item in enumerate(pending):
            comment, thread_id = item.comment, item.thread.id
            if index not in found and comment.legacy_source_id is not None and thread_id is not None:
                legacy[(comment.source, thread_id, comment.legacy_source_id)].append(index)
        if not legacy:
            return {}
        taken: dict[int, _Match] = {}
        for source, source_ids in _by_source((key[0], key[2]) for key in legacy).items():
            rows = self._rows_of_source(source, source_ids)
            for comment_id, thread_id, source_id in rows:
                for index in legacy.get((source, thread_id, source_id), ()):  # its own thread's only
                    comment = pending[index].comment
                    taken[index] = _Match(comment_id, thread_id, comment.source, comment.source_id)
        return taken

    def _rows_of_source(self, source: str, source_ids: list[str]) -> Iterable[tuple[int, int, str]]:
        """(id, thread id, source id) of the site's comments with these ids of one source."""
        return db.session.execute(
            select(Comment.id, Comment.thread_id, Comment.source_id).where(
                Comment.site_id == self.site.id,
                Comment.source == source,
                among(Comment.source_id, source_ids, String),
            )
        ).tuples()

    # --- rebuilding trees ---------------------------------------------------------------------------

    def _settle(self, *, settle_all: bool) -> None:
        """Rebuild the reply trees of every listing that has ended (all of them: ``settle_all``), all of
        the batch's threads at once."""
        ended = [key for key in self._nodes if settle_all or key[0] < self._listing]
        if not ended:
            return
        deepest_allowed = self._deepest_allowed()
        kept: list[_Node] = []
        pruned: list[_Node] = []
        for key in ended:
            ordered = self._place(list(self._nodes.pop(key).values()), deepest_allowed)
            thread_kept, thread_pruned = self._prune(ordered)
            kept += thread_kept
            pruned += thread_pruned
            for node in thread_kept:
                self.summary.comments[node.status] += 1
                if node.created:
                    self.summary.comments_created += 1
                else:
                    self.summary.comments_updated += 1
            self.summary.skipped["deleted_without_replies"] += len(thread_pruned)
            self.summary.notes["placeholder_without_replies_removed"] += sum(
                not n.created for n in thread_pruned
            )
        for listing in {key[0] for key in ended}:
            self._written.pop(listing, None)
        # Only rows not yet where the tree puts them are moved (pruned ones too: they are deleted deepest
        # first, as the tree has them).
        moved = [n for n in (*kept, *pruned) if n.stored != _placement(n)]
        for start in range(0, len(moved), BATCH_SIZE):  # batches: a huge thread costs no more memory
            db.session.execute(
                update(Comment),
                [
                    {
                        "id": n.comment_id,
                        "parent_id": parent_id,
                        "root_id": root_id,
                        "depth": depth,
                    }
                    for n in moved[start : start + BATCH_SIZE]
                    for parent_id, root_id, depth in [_placement(n)]
                ],
            )
        self._delete_placeholders(pruned)
        self.summary.skipped += collections.Counter()  # drop zero counts
        self.summary.notes += collections.Counter()

    def _deepest_allowed(self) -> int:
        # Without a limit (a restore), replies stay where they were even if max_depth was lowered since.
        return self.site.settings.max_depth - 1 if self.limit_depth else 1 << 30

    def _place(self, nodes: list[_Node], deepest_allowed: int) -> list[_Node]:
        """Link nodes to their parents, parents first; returns them in that (breadth-first) order."""
        by_ref = {node.ref: node for node in nodes}  # one node a ref: _add_comment skipped any later one
        children: dict[str, list[_Node]] = collections.defaultdict(list)
        roots: list[_Node] = []
        for node in by_ref.values():
            parent = by_ref.get(node.parent_ref) if node.parent_ref is not None else None
            if parent is None or parent is node:
                if node.parent_ref is not None:
                    self.summary.notes["reply_to_missing_parent_shown_top_level"] += 1
                roots.append(node)
            else:
                children[parent.ref].append(node)
        ordered: list[_Node] = []
        placed: set[int] = set()

        def walk(start: _Node) -> None:
            queue: collections.deque[tuple[_Node, _Node | None]] = collections.deque([(start, None)])
            while queue:
                node, parent = queue.popleft()
                if node.comment_id in placed:
                    continue
                placed.add(node.comment_id)
                self._attach(node, parent, deepest_allowed)
                ordered.append(node)
                queue.extend((child, node) for child in children.get(node.ref, ()))

        for root in roots:
            walk(root)
        for node in by_ref.values():
            if node.comment_id not in placed:  # parents in a cycle: none is a root, so break it here
                self.summary.notes["reply_cycle_broken"] += 1
                walk(node)
        return ordered

    def _attach(self, node: _Node, parent: _Node | None, deepest_allowed: int) -> None:
        """Place a reply under its parent, or its deepest ancestor within max_depth (as new replies)."""
        if parent is None:
            node.parent, node.depth, node.root_id = None, 0, None
            return
        target = parent
        while target.depth >= deepest_allowed and target.parent is not None:
            target = target.parent
        if target is not parent:
            self.summary.notes["reply_attached_to_ancestor_within_max_depth"] += 1
        node.parent = target
        node.depth = target.depth + 1
        node.root_id = target.root_id or target.comment_id
        target.children.append(node)

    def _prune(self, ordered: list[_Node]) -> tuple[list[_Node], list[_Node]]:
        """A deleted comment is kept only as a placeholder for replies it still has (children first)."""
        kept_ids: set[int] = set()
        for node in reversed(ordered):
            if node.status != CommentStatus.DELETED or any(c.comment_id in kept_ids for c in node.children):
                kept_ids.add(node.comment_id)
        kept = [n for n in ordered if n.comment_id in kept_ids]
        pruned = [n for n in reversed(ordered) if n.comment_id not in kept_ids]
        return kept, pruned

    @staticmethod
    def _delete_placeholders(pruned: list[_Node]) -> None:
        """Delete pruned placeholders, the deepest first (a pruned one's replies are all pruned, and
        deeper); one a reader replied to here stays."""
        reply = aliased(Comment)
        by_depth: dict[int, list[int]] = collections.defaultdict(list)
        for node in pruned:
            by_depth[node.depth].append(node.comment_id)
        for depth in sorted(by_depth, reverse=True):
            for chunk in _chunks(by_depth[depth], BATCH_SIZE):
                db.session.execute(
                    delete(Comment).where(
                        among(Comment.id, chunk), ~exists().where(reply.parent_id == Comment.id)
                    )
                )

    # --- the end ----------------------------------------------------------------------------------------

    def _recount(self) -> None:
        """Exact approved counts and a version bump for every touched thread, in SQL."""
        if self._restored_ids:
            realign_id_sequence(Comment.__table__)
        if not self._touched:
            return
        threads.recount(
            self._touched,
            derive_last_comment=self._derived_last_comment,
            derive_created=self._derived_created,
        )


def _placement(node: _Node) -> tuple[int | None, int | None, int]:
    """(parent_id, root_id, depth) as the rebuilt tree has them."""
    return (node.parent.comment_id if node.parent else None, node.root_id, node.depth)


def _identity(comment: ImportedComment) -> tuple[str, str] | None:
    """The (source, source_id) a comment's row is found by; a restored native comment's is the one it
    gets when its id is taken (RESTORED_SOURCE, its id)."""
    if comment.source is not None and comment.source_id is not None:
        return comment.source, comment.source_id
    if comment.restore_id is not None:
        return RESTORED_SOURCE, str(comment.restore_id)
    return None


def _row(comment: ImportedComment, *, site_id: int, thread_id: int) -> dict[str, Any]:
    """The columns an import sets; a deleted placeholder keeps nothing about its author or text."""
    deleted = comment.status == CommentStatus.DELETED
    return {
        "site_id": site_id,
        "thread_id": thread_id,
        "source": comment.source,
        "source_id": comment.source_id,
        "author_name": "" if deleted else comment.author_name.strip()[:NAME_LENGTH],
        "author_email": "" if deleted else _fitting(comment.author_email.strip().lower(), EMAIL_LENGTH) or "",
        "author_url": None if deleted else _fitting((comment.author_url or "").strip(), URL_LENGTH),
        "author_sso_id": None if deleted else comment.author_sso_id,
        "ip_hash": None if deleted else comment.ip_hash,
        "user_agent": "" if deleted else comment.user_agent[:USER_AGENT_LENGTH],
        "body": "" if deleted else comment.body,
        "body_digest": None if deleted else body_digest(comment.body),
        "html": "" if deleted else comment.html,
        "status": comment.status,
        "previous_status": comment.previous_status,
        "spam_reasons": list(comment.spam_reasons),
        "likes": comment.likes,
        "pinned": comment.pinned,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "moderated_at": comment.moderated_at,
        "moderated_by": comment.moderated_by,
    }


def _fitting(value: str, limit: int) -> str | None:
    """A value that fits its column, or None: a cut email address or URL would be a wrong one."""
    return value if value and len(value) <= limit else None


_COMMENTS = Comment.__table__
_THREAD_FIELDS = ("title", "url", "closed", "created_at", "opened_at", "last_comment_at")
_THREAD_COLUMNS = (Thread.id, Thread.key, *(getattr(Thread, name) for name in _THREAD_FIELDS))


def _by_source(keys: Iterable[tuple[str | None, str]]) -> dict[str, list[str]]:
    """Source ids grouped by source: a lookup a source, which the (site, source, source_id) index
    serves (SQLite scans the table for a list of row values)."""
    grouped: dict[str, set[str]] = collections.defaultdict(set)
    for source, source_id in keys:
        if source is not None:  # (NULL, id) finds no row, as the row values it replaces found none
            grouped[source].add(source_id)
    return {source: sorted(source_ids) for source, source_ids in grouped.items()}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

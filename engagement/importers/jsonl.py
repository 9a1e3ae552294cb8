"""Our own JSON Lines export (``engagement.importers.records``), read back: a restore.

Comments keep their ids where those are free, so links to them survive; everything else the export holds
(site settings, counters with their sources, history and readers, bans, subscribers and reply-notification
contacts) is restored as it was.
"""

from __future__ import annotations

import collections
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select

from engagement import audit, events
from engagement.database import insert_ignoring_conflicts, insert_or_update
from engagement.extensions import db
from engagement.importers.pipeline import ImportedComment, ImportedThread, ImportPipeline, Record, SourceFile
from engagement.importers.records import END, SCHEMAS
from engagement.importers.xml_stream import MalformedFile
from engagement.models import (
    Ban,
    MailContact,
    ReplySubscription,
    SiteSettings,
    Subscriber,
    Thread,
)
from engagement.rendering import clean_html

SOURCE = "json"
READERS_PER_RECORD = 1000


class JsonLinesFile(SourceFile):
    """Reads an export written by ``flask engagement export`` or the admin export endpoint."""

    name = SOURCE
    settle_per_thread = True  # each thread's comments follow it
    limit_depth = False  # a restore keeps replies where they were, even under a since-lowered max_depth
    restores_site = True  # may create the site, from the file's first line

    # Set by ``import json --accept-unchecked``: a version 1 file (no end record) may be restored.
    accept_unchecked = False

    def records(self, progress: Callable[[int], None]) -> Iterator[Record]:
        self._check_complete()
        readers: list[dict[str, Any]] = []
        for kind, values in self._lines(progress):
            if kind == "counter_reader":
                readers.append(values)
                if len(readers) < READERS_PER_RECORD:
                    continue
            if readers:
                yield CounterReadersRestore(readers)
                readers = []
            if kind != "counter_reader":
                yield _record(kind, values)
        if readers:
            yield CounterReadersRestore(readers)

    def _lines(self, progress: Callable[[int], None]) -> Iterator[tuple[str, dict[str, Any]]]:
        with self.path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                progress(len(line))
                if not line.strip():
                    continue
                try:
                    document = json.loads(line)
                except ValueError as error:
                    raise MalformedFile("malformed_json", f"Line {number} is not JSON: {error}.") from None
                kind = document.get("type") if isinstance(document, dict) else None
                if kind == "end":
                    return  # checked first (_check_complete): nothing follows it
                if kind not in SCHEMAS:
                    raise MalformedFile("malformed_json", f"Line {number} has no known record type.")
                if (number == 1) != (kind == "site"):
                    raise MalformedFile("malformed_json", "The first line, and only it, must be the site.")
                try:
                    values = SCHEMAS[kind].load(document)
                    values.pop("type")
                except ValidationError as error:
                    raise MalformedFile(
                        "malformed_json", f"Line {number} ({kind}) is not valid: {error.messages}."
                    ) from None
                yield kind, values

    def _check_complete(self) -> None:
        """Read the whole file once before anything is restored: the last line must be the ``end`` record
        and match what precedes it (records.py). A file cut anywhere fails here, having written nothing."""
        digest = hashlib.sha256()
        counts: collections.Counter[str] = collections.Counter()
        lines = 0
        last = b""
        with self.path.open("rb") as stream:
            for line in stream:
                if last.strip():
                    digest.update(last)
                    lines += 1
                    counts[_kind_of(last)] += 1
                last = line
        first_version = _version_of(self.path)
        end = _end_record(last)
        if end is None:
            if first_version == 1 and self.accept_unchecked:
                return
            if first_version == 1:
                raise MalformedFile(
                    "export_unchecked",
                    "This export (version 1) has no end record, so nothing can tell whether it is complete. "
                    "Restore it only if you know it is whole: import json --accept-unchecked.",
                )
            raise MalformedFile(
                "export_incomplete",
                f"The file ends after {lines + bool(last.strip())} lines without the export's end record: it "
                "was cut short (a timeout, a full disk, a dropped download). Nothing was restored: export "
                "again.",
            )
        if end["lines"] != lines or end["records"] != dict(counts) or end["sha256"] != digest.hexdigest():
            raise MalformedFile(
                "export_incomplete",
                f"The file's {lines} lines do not match its end record ({end['lines']} lines): it was "
                "changed, or cut and joined. Nothing was restored: export again.",
            )


_TYPE_FIRST = re.compile(rb'\{\s*"type"\s*:\s*"([a-z_]+)"')


def _kind_of(line: bytes) -> str:
    """A line's record type: read from its start, as every export writes it first (a million lines parsed
    whole cost the check ten seconds); any other line is parsed."""
    if found := _TYPE_FIRST.match(line):
        return found.group(1).decode()
    try:
        document = json.loads(line)
    except ValueError:
        return ""
    kind = document.get("type") if isinstance(document, dict) else None
    return kind if isinstance(kind, str) else ""


def _version_of(path: Path) -> int | None:
    with path.open("rb") as stream:
        try:
            document = json.loads(stream.readline())
        except ValueError:
            return None
    version = document.get("version") if isinstance(document, dict) else None
    return version if type(version) is int else None


def _end_record(line: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(line)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("type") != "end":
        return None
    try:
        values: dict[str, Any] = END.load(document)
    except ValidationError as error:
        raise MalformedFile("export_incomplete", f"The end record is not valid: {error.messages}.") from None
    return values


def _record(kind: str, values: dict[str, Any]) -> Record:
    if kind == "thread":
        return ImportedThread(
            ref=values["key"],
            key=values["key"],
            title=values["title"],
            url=values["url"],
            closed=values["closed"],
            created_at=values["created_at"],
            last_comment_at=values["last_comment_at"],
        )
    if kind == "comment":
        return _comment(values)
    restorers: dict[str, type[Any]] = {
        "site": SiteRestore,
        "counter": CounterRestore,
        "ban": BanRestore,
        "subscriber": SubscriberRestore,
        "mail_contact": MailContactRestore,
    }
    return restorers[kind](values)


def _comment(values: dict[str, Any]) -> ImportedComment:
    return ImportedComment(
        source=values["source"],
        source_id=values["source_id"],
        ref=str(values["id"]),
        thread_ref=values["thread"],
        parent_ref=str(values["parent_id"]) if values["parent_id"] is not None else None,
        restore_id=values["id"],
        created_at=values["created_at"],
        status=values["status"],
        previous_status=values["previous_status"],
        body=values["body"],
        # Our own HTML, but the file passed through other hands: the policy again (a no-op on ours).
        html=clean_html(values["html"]),
        author_name=values["author_name"],
        author_email=values["author_email"],
        author_url=values["author_url"],
        author_sso_id=values["author_sso_id"],
        ip_hash=values["ip_hash"],
        user_agent=values["user_agent"],
        spam_reasons=values["spam_reasons"],
        likes=values["likes"],
        liked_by=[(like["reader_hash"], like["created_at"]) for like in values["liked_by"]],
        pinned=values["pinned"],
        edited_at=values["edited_at"],
        moderated_at=values["moderated_at"],
        moderated_by=values["moderated_by"],
    )


@dataclass
class SiteRestore:
    values: dict[str, Any]

    def restore(self, importer: ImportPipeline) -> None:
        """The exported name, origins and settings replace the site's (the site may have been made empty)."""
        site = importer.site
        site.name = self.values["name"]
        site.created_at = self.values["created_at"]
        site.origins = [origin.rstrip("/") for origin in self.values["origins"]]
        site.settings = SiteSettings.from_json(self.values["settings"])
        audit.record(
            actor=importer.actor, action="site_updated", site_id=site.id, details={"restored_from": "json"}
        )
        db.session.flush()
        importer.summary.restored["site"] += 1


@dataclass
class CounterRestore:
    values: dict[str, Any]

    def restore(self, importer: ImportPipeline) -> None:
        """The counter as exported: the counters feature writes it (it owns counters and their caches)."""
        events.counter_restored.send(
            current_app._get_current_object(), site=importer.site, counter=self.values
        )
        importer.summary.restored["counter"] += 1


@dataclass
class CounterReadersRestore:
    """Up to READERS_PER_RECORD readers' likes and follows, written by the counters feature at once."""

    readers: list[dict[str, Any]]

    def restore(self, importer: ImportPipeline) -> None:
        events.counter_readers_restored.send(
            current_app._get_current_object(), site=importer.site, readers=self.readers
        )
        importer.summary.restored["counter_reader"] += len(self.readers)


@dataclass
class BanRestore:
    values: dict[str, Any]

    def restore(self, importer: ImportPipeline) -> None:
        """A ban, unless the site already has the same one."""
        values = self.values
        same = select(Ban.id).where(
            Ban.site_id == importer.site.id,
            Ban.kind == values["kind"],
            Ban.value == values["value"],
            Ban.action == values["action"],
        )
        if db.session.scalar(same) is None:
            db.session.add(Ban(site_id=importer.site.id, **values))
            db.session.flush()
        importer.summary.restored["ban"] += 1


@dataclass
class SubscriberRestore:
    """An email subscription as it was. Counts come from the counter records, so none change here."""

    values: dict[str, Any]

    def restore(self, importer: ImportPipeline) -> None:
        db.session.execute(
            insert_or_update(
                Subscriber.__table__,
                {"site_id": importer.site.id, **self.values},
                conflict_columns=["site_id", "target", "email"],
                update_columns=["confirmed_at", "confirmation_sent_at"],
            )
        )
        importer.summary.restored["subscriber"] += 1


@dataclass
class MailContactRestore:
    """An address that asked for reply notifications, and the threads it follows (restored before it)."""

    values: dict[str, Any]

    def restore(self, importer: ImportPipeline) -> None:
        values = dict(self.values)
        followed = values.pop("threads")
        contact_id = db.session.execute(
            insert_or_update(
                MailContact.__table__,
                {"site_id": importer.site.id, **values},
                conflict_columns=["site_id", "email"],
                update_columns=["confirmed_at", "confirmation_sent_at"],
            ).returning(MailContact.id)
        ).scalar_one()
        thread_ids = dict(
            db.session.execute(
                select(Thread.key, Thread.id).where(
                    Thread.site_id == importer.site.id, Thread.key.in_([t["key"] for t in followed])
                )
            ).all()
        )
        rows = [
            {"contact_id": contact_id, "thread_id": thread_ids[t["key"]], "created_at": t["created_at"]}
            for t in followed
            if t["key"] in thread_ids
        ]
        if rows:
            statement = insert_ignoring_conflicts(
                ReplySubscription.__table__, {}, conflict_columns=["contact_id", "thread_id"]
            )
            db.session.execute(statement, rows)
        importer.summary.restored["mail_contact"] += 1

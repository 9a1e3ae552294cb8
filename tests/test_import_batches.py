"""A restore writes in batches across threads: the result never depends on where a batch ends."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from devtools.export_file import ExportShape, write_export
from engagement.extensions import db
from engagement.importers import pipeline
from engagement.importers.service import import_comments
from engagement.models import Comment, CounterHistory
from engagement.portability.export import export_lines
from engagement.sites.service import get_site
from tests.factories import make_site, post
from tests.import_files import run_import, sealed

BATCHES = [500, 7, 1]
SMALL = ExportShape(comments=300, threads=12, big_thread=120, authors=40, counters=6, history_days=60)


def exported(slug: str = "bench") -> list[dict]:
    """The site's export, less the time it was made (and so its end record, whose checksum covers it)."""
    records = [json.loads(line) for line in export_lines(site=get_site(slug))]
    records[0].pop("exported_at")
    return [record for record in records if record["type"] != "end"]


def empty_the_database() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def write_records(path: Path, records: list[dict]) -> Path:
    """The records as an export file, with the end record that matches them."""
    path.write_text(sealed(records), encoding="utf-8")
    return path


@pytest.mark.parametrize("batch_size", BATCHES)
def test_a_generated_newsroom_restores_the_same_whatever_the_batch_size(
    app, tmp_path, monkeypatch, batch_size
):
    # Many threads a batch, one thread over many batches, replies to parents of earlier batches, deleted
    # placeholders, likes, counters with history: the export after a restore in batches of 500 is the
    # export after one in batches of `batch_size`.
    path = write_export(tmp_path / "bench.jsonl", SMALL).path
    run_import("json", path, site="bench")
    expected = exported()
    empty_the_database()
    monkeypatch.setattr(pipeline, "BATCH_SIZE", batch_size)

    summary = run_import("json", path, site="bench")

    assert exported() == expected
    assert summary.comments_created == sum(1 for r in expected if r["type"] == "comment")
    assert summary.threads == SMALL.threads
    replies = db.session.scalars(select(Comment).where(Comment.parent_id.is_not(None))).all()
    assert replies and all(r.depth >= 1 and r.root_id is not None for r in replies)


@pytest.mark.parametrize("batch_size", BATCHES)
def test_a_reply_listed_before_its_parent_is_restored_under_it(
    app, client, tmp_path, monkeypatch, batch_size
):
    make_site("news")
    top = post(client, thread="/t", body="Top", thread_url=None).json["comment"]
    reply = post(client, thread="/t", body="Reply", parent_id=top["id"], thread_url=None).json["comment"]
    deeper = post(client, thread="/t", body="Deeper", parent_id=reply["id"], thread_url=None).json["comment"]
    records = exported("news")
    empty_the_database()
    comments = [r for r in records if r["type"] == "comment"]
    others = [r for r in records if r["type"] != "comment"]
    thread_at = next(n for n, r in enumerate(others) if r["type"] == "thread")
    # The deepest first, then its parent, then the top-level comment: each reply before its parent.
    others[thread_at + 1 : thread_at + 1] = list(reversed(comments))
    monkeypatch.setattr(pipeline, "BATCH_SIZE", batch_size)

    summary = run_import("json", write_records(tmp_path / "reversed.jsonl", others), site="news")

    assert summary.comments_created == 3 and not summary.notes
    rows = {c.id: c for c in db.session.scalars(select(Comment))}
    assert (rows[top["id"]].parent_id, rows[top["id"]].depth) == (None, 0)
    assert (rows[reply["id"]].parent_id, rows[reply["id"]].root_id, rows[reply["id"]].depth) == (
        top["id"],
        top["id"],
        1,
    )
    assert (rows[deeper["id"]].parent_id, rows[deeper["id"]].root_id, rows[deeper["id"]].depth) == (
        reply["id"],
        top["id"],
        2,
    )


@pytest.mark.parametrize("batch_size", BATCHES)
def test_importing_an_edited_export_again_updates_the_rows_in_place(app, tmp_path, monkeypatch, batch_size):
    path = write_export(tmp_path / "bench.jsonl", SMALL).path
    run_import("json", path, site="bench")
    records = exported()
    edited = [r for r in records if r["type"] == "comment" and r["status"] == "approved"][5]
    edited.update(body="Edited since", html="<p>Edited since</p>")
    ids_before = set(db.session.scalars(select(Comment.id)))
    monkeypatch.setattr(pipeline, "BATCH_SIZE", batch_size)

    summary = run_import("json", write_records(tmp_path / "edited.jsonl", records), site="bench")

    assert summary.comments_created == 0 and summary.comments_updated == len(ids_before)
    assert set(db.session.scalars(select(Comment.id))) == ids_before
    assert db.session.get(Comment, edited["id"]).html == "<p>Edited since</p>"
    assert exported() == records


def test_counter_history_is_restored_in_bulk_day_by_day_and_a_second_restore_updates_it(app, tmp_path):
    path = write_export(tmp_path / "bench.jsonl", SMALL).path
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    counters = [r for r in records if r["type"] == "counter"]

    run_import("json", path, site="bench")

    assert db.session.query(CounterHistory).count() == sum(len(c["history"]) for c in counters)
    assert [r for r in exported() if r["type"] == "counter"] == counters
    for counter in counters:
        for day in counter["history"][::2]:
            day.update(count=day["count"] + 1000, native=day["native"] + 1000)
    run_import("json", write_records(tmp_path / "changed.jsonl", records), site="bench")
    assert db.session.query(CounterHistory).count() == sum(len(c["history"]) for c in counters)
    assert [r for r in exported() if r["type"] == "counter"] == counters


class BreaksHalfway:
    """A source whose reading fails after some records (read by the import's second process)."""

    name = "wordpress"
    settle_per_thread = True
    limit_depth = True
    restores_site = False

    def total(self) -> int:
        return 3

    def records(self, progress):
        yield pipeline.ImportedThread(ref="t", key="/t")
        for n in range(3):
            progress(1)
            yield pipeline.ImportedComment(
                source="wordpress",
                source_id=f"t:{n}",
                ref=str(n),
                thread_ref="t",
                parent_ref=None,
                created_at=datetime(2025, 1, 1, tzinfo=UTC),
                status="approved",
                body="Hi",
                html="<p>Hi</p>",
            )
        raise ValueError("the disk went away")


def test_a_source_failing_halfway_fails_the_import_and_writes_nothing(app):
    make_site("news")
    seen = []

    with pytest.raises(ValueError, match="the disk went away"):
        import_comments(site_slug="news", source=BreaksHalfway(), progress=seen.append)

    assert db.session.scalars(select(Comment)).all() == []
    assert sum(seen) == 3  # progress came back from the reader before the error
    assert not multiprocessing.active_children()

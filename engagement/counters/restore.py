"""Counters as a JSON restore read them (``engagement.importers.jsonl`` sends them as events): counts,
sources, daily history and readers written as they were, and their cached badges dropped after commit.
This feature is the only code that writes counters, so it is the only one that touches their stamps."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from engagement import caching, clock
from engagement.counters.service import ensure_counter
from engagement.database import insert_ignoring_conflicts, insert_or_update
from engagement.extensions import db
from engagement.models import (
    Counter,
    CounterHistory,
    CounterKind,
    CounterReaderAction,
    CounterSource,
    SiteRef,
)


def restore_counter(*, site: SiteRef, counter: dict[str, Any]) -> None:
    """The counter's native count, its sources (external = their sum, as always) and its history."""
    counter_id = ensure_counter(site, counter["target"], CounterKind(counter["kind"]), clock.now())
    # One statement each for the sources and the whole history (730 days for two years), not one a row.
    _upsert_rows(
        CounterSource.__table__,
        [{"counter_id": counter_id, **source} for source in counter["sources"]],
        conflict_columns=["counter_id", "source"],
        update_columns=["count", "observed_at"],
    )
    _upsert_rows(
        CounterHistory.__table__,
        [{"counter_id": counter_id, **day} for day in counter["history"]],
        conflict_columns=["counter_id", "day"],
        update_columns=["count", "native", "external"],
    )
    external = (
        select(func.coalesce(func.sum(CounterSource.count), 0))
        .where(CounterSource.counter_id == counter_id)
        .scalar_subquery()
    )
    db.session.execute(
        update(Counter)
        .where(Counter.id == counter_id)
        .values(
            native_count=counter["native_count"], external_count=external, updated_at=counter["updated_at"]
        )
        .execution_options(synchronize_session=False)
    )
    caching.touch_after_commit([caching.counter_key(site.slug, counter["target"], counter["kind"])])


def _upsert_rows(
    table: Any, rows: list[dict[str, Any]], *, conflict_columns: list[str], update_columns: list[str]
) -> None:
    """``INSERT ... ON CONFLICT DO UPDATE`` of many rows in one executemany: the statement is compiled
    once, and the drivers send the rows in batches (psycopg's pipeline, sqlite3's executemany)."""
    if rows:
        statement = insert_or_update(
            table, {}, conflict_columns=conflict_columns, update_columns=update_columns
        )
        db.session.execute(statement, rows)


def restore_readers(*, site: SiteRef, readers: list[dict[str, Any]]) -> None:
    """Readers' likes and follows (``target``, ``kind``, ``reader_hash``, ``created_at``), in one statement;
    the counts come with their counters."""
    now = clock.now()
    counter_ids: dict[tuple[str, str], int] = {}
    rows = []
    for reader in readers:
        key = (reader["target"], reader["kind"])
        if key not in counter_ids:
            counter_ids[key] = ensure_counter(site, key[0], CounterKind(key[1]), now)
        rows.append(
            {
                "counter_id": counter_ids[key],
                "reader_hash": reader["reader_hash"],
                "created_at": reader["created_at"],
            }
        )
    statement = insert_ignoring_conflicts(
        CounterReaderAction.__table__, {}, conflict_columns=["counter_id", "reader_hash"]
    )
    db.session.execute(statement, rows)

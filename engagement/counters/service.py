"""Counters: reader likes and follows, external counts pushed by staff, daily history, badge counts.

A counter's count is ``native + external``. Native changes one reader at a time and is exact under
concurrency: the reader's action row is inserted with ON CONFLICT DO NOTHING (or deleted), and only
when that changed a row is the count moved, by an atomic ``UPDATE ... SET native_count =
native_count + 1`` in the same transaction. External is the sum of the last accepted value of each
source; a value that looks like a failed sync (0, or a drop of more than the site's
``max_drop_share``) is refused unless forced, so a broken platform token never shows "0 Fans".
A counter row appears with its first write; reading a counter that has none yet gives zeros.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Integer, Row, and_, bindparam, delete, func, select, update

from engagement import caching, clock, events
from engagement.clock import isoformat_z
from engagement.counters.numbers import compact
from engagement.counters.schemas import EngagementSchema
from engagement.database import insert_if_absent, insert_ignoring_conflicts, insert_or_update, upsert
from engagement.errors import Conflict, NotFound, ValidationFailed
from engagement.extensions import db
from engagement.http import content_etag
from engagement.models import (
    Counter,
    CounterHistory,
    CounterKind,
    CounterReaderAction,
    CounterSource,
    Site,
    SiteRef,
)
from engagement.models.counters import READER_ACTION_KINDS

# A sync job's clock may run a little ahead of ours; further ahead would keep a value "fresh" forever.
OBSERVED_AT_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class SourceState:
    source: str
    count: int
    observed_at: datetime
    stale: bool


@dataclass(frozen=True)
class CounterState:
    native: int
    external: int
    sources: list[SourceState]
    updated_at: datetime | None
    stale: bool

    @property
    def count(self) -> int:
        return self.native + self.external

    @property
    def display(self) -> str:
        return compact(self.count)


@dataclass(frozen=True)
class Engagement:
    target: str
    counters: dict[str, CounterState]
    reader: dict[str, bool] | None  # None: the request named no reader


@dataclass(frozen=True)
class HistoryDay:
    day: date
    native: int
    external: int

    @property
    def count(self) -> int:
        return self.native + self.external


@dataclass(frozen=True)
class History:
    target: str
    days: int
    series: dict[str, list[HistoryDay]]


@dataclass(frozen=True)
class BadgeText:
    label: str
    message: str
    color: str


DEFAULT_BADGE_LABELS = {
    CounterKind.FANS: "Fans",
    CounterKind.FOLLOWERS: "Followers",
    CounterKind.SUBSCRIBERS: "Subscribers",
}
DEFAULT_BADGE_COLOR = "blue"
_EMPTY = CounterState(native=0, external=0, sources=[], updated_at=None, stale=False)
_ENGAGEMENT_SCHEMA = EngagementSchema()


def get_engagement(*, site: SiteRef, target: str, reader: str | None) -> Engagement:
    """Every kind's counter for ``target``, and which of them ``reader`` (a reader hash) has joined: one
    statement either way."""
    counters, _, joined = _read_counters(site, target, clock.now(), reader=reader)
    return Engagement(
        target=target,
        counters=counters,
        reader=None if joined is None else _reader_kinds(joined),
    )


@dataclass(frozen=True, slots=True)
class SharedEngagement:
    """What every reader of a target sees (no reader's own state), encoded once."""

    etag: str  # from the bytes, so every process and host answers the same one
    body: bytes
    counters: dict[str, CounterState]
    # When a source's value goes stale and so the answer changes without a write; None: never.
    fresh_until: datetime | None


def shared_engagement(*, site: SiteRef, target: str) -> SharedEngagement:
    """The Stay Connected answer without the reader's part, which every page view asks for: kept in this
    process while the target's counters' change stamps hold (every counter write touches them, see
    ``engagement.caching``) and no source has gone stale since, so a repeat costs a stamp read."""
    window = _stale_window(site)

    def depends_on() -> list[str]:
        return [caching.counter_key(site.slug, target, kind.value) for kind in CounterKind]

    def build() -> SharedEngagement:
        counters, fresh_until, _ = _read_counters(site, target, clock.now())
        body = _ENGAGEMENT_SCHEMA.dumps(Engagement(target=target, counters=counters, reader=None))
        encoded = f"{body}\n".encode()
        return SharedEngagement(content_etag(encoded), encoded, counters, fresh_until)

    def still_valid(answer: SharedEngagement) -> bool:
        return answer.fresh_until is None or clock.now() < answer.fresh_until

    answers = caching.dependent_cache("engagement_answers")
    # The site's id and its stale window: a site made again, or its window changed, answers anew.
    return answers.get((site.id, site.slug, window, target), depends_on, build, still_valid=still_valid)


def reader_state(*, site: SiteRef, target: str, reader: str) -> dict[str, bool]:
    """Which of ``target``'s counters ``reader`` (a reader hash) has joined: one indexed query."""
    joined = db.session.scalars(_JOINED_KINDS, {"site_id": site.id, "target": target, "reader": reader})
    return _reader_kinds(set(joined))


def _reader_kinds(joined: set[CounterKind]) -> dict[str, bool]:
    return {kind.value: kind in joined for kind in READER_ACTION_KINDS}


def _read_counters(
    site: SiteRef, target: str, now: datetime, *, reader: str | None = None
) -> tuple[dict[str, CounterState], datetime | None, set[CounterKind] | None]:
    """Every kind's counter of ``target`` (zeros for one without a row), when the next of its sources
    goes stale (None: none will without a write), and with ``reader`` the kinds that reader has joined
    (else None). One statement: a counter's row once per source, read as plain rows (no ORM objects:
    a follow answers with this, and loading objects cost more than the query)."""
    window = _stale_window(site)
    key = {"site_id": site.id, "target": target}
    if reader is None:
        rows = db.session.execute(_COUNTER_ROWS, key)
    else:
        rows = db.session.execute(_COUNTER_ROWS_WITH_READER, {**key, "reader": reader})
    found: dict[CounterKind, tuple[Row[Any], list[SourceState]]] = {}
    joined: set[CounterKind] = set()
    turns_stale: list[datetime] = []
    for row in rows:
        _, sources = found.setdefault(row.kind, (row, []))
        if reader is not None and row.joined:
            joined.add(row.kind)
        if row.source is None:
            continue
        sources.append(
            SourceState(row.source, row.count, row.observed_at, _is_stale(row.observed_at, now, window))
        )
        if window is not None and row.observed_at + window >= now:
            turns_stale.append(row.observed_at + window)
    states = {kind.value: _state(*found[kind]) if kind in found else _EMPTY for kind in CounterKind}
    return states, min(turns_stale, default=None), None if reader is None else joined


def set_reader_action(
    *, site: SiteRef, kind: CounterKind, target: str, reader: str, active: bool
) -> Engagement:
    """Like/follow (``active``) or take it back; repeating either is a no-op. Returns the new state."""
    if kind not in READER_ACTION_KINDS:
        raise NotFound("unknown_kind", f"Readers cannot join {kind} with one click; only fans and followers.")
    now = clock.now()
    changed = False
    if active:
        counter_id = ensure_counter(site, target, kind, now)
        changed = insert_if_absent(
            CounterReaderAction.__table__,
            {"counter_id": counter_id, "reader_hash": reader, "created_at": now},
            conflict_columns=["counter_id", "reader_hash"],
        )
    else:
        counter_id = db.session.scalar(_FIND_COUNTER, {"site_id": site.id, "target": target, "kind": kind})
        if counter_id is not None:
            deleted = db.session.execute(_LEAVE, {"counter_id": counter_id, "reader": reader})
            changed = deleted.rowcount == 1
    if changed:
        _apply_change(counter_id, now, native_delta=1 if active else -1)
        caching.touch_after_commit([caching.counter_key(site.slug, target, kind.value)])
    state = get_engagement(site=site, target=target, reader=reader)  # read in the same transaction
    if changed:
        _announce(site, target, kind, state.counters[kind.value].count)
    db.session.commit()
    return state


def change_native_subscribers(*, site: SiteRef, target: str, delta: int) -> None:
    """Count a confirmed email subscription in (+1) or out (-1) of ``target``'s native subscribers.

    Part of the caller's transaction (the subscription change that causes it); the caller commits, and
    every process's cached badge stops being trusted when it does.
    """
    now = clock.now()
    counter_id = ensure_counter(site, target, CounterKind.SUBSCRIBERS, now)
    _apply_change(counter_id, now, native_delta=delta)
    caching.touch_after_commit([caching.counter_key(site.slug, target, CounterKind.SUBSCRIBERS.value)])
    _announce(site, target, CounterKind.SUBSCRIBERS, None)


def _announce(site: SiteRef, target: str, kind: CounterKind, count: int | None) -> None:
    events.counter_changed.send(
        current_app._get_current_object(), site=site, target=target, kind=kind, count=count
    )


def push_external_count(
    *,
    site: SiteRef,
    kind: CounterKind,
    target: str,
    source: str,
    count: int,
    observed_at: datetime | None = None,
    force: bool = False,
) -> CounterState:
    """Record a platform's count for a counter; the counter's external value is the sum over sources.

    Refused with 409 ``suspicious_drop`` (unless ``force``): a 0, or a value more than the site's
    ``max_drop_share`` below that source's last one. Refused with 409 ``stale_observation``: an
    ``observed_at`` older than the stored one for that source (a late retry must not undo a newer sync).
    """
    now = clock.now()
    observed_at = observed_at or now
    if observed_at > now + OBSERVED_AT_TOLERANCE:
        raise ValidationFailed({"observed_at": ["This time is in the future."]})
    counter_id = ensure_counter(site, target, kind, now, lock=True)
    # Plain columns, not an ORM object the upsert below would leave stale in the session.
    previous = db.session.execute(
        select(CounterSource.count, CounterSource.observed_at).where(
            CounterSource.counter_id == counter_id, CounterSource.source == source
        )
    ).one_or_none()
    try:
        _check_push(site, source, previous, count=count, observed_at=observed_at, force=force)
    except Conflict:
        db.session.rollback()
        raise
    changed = previous is None or (previous.count, previous.observed_at) != (count, observed_at)
    if changed:
        db.session.execute(
            insert_or_update(
                CounterSource.__table__,
                {"counter_id": counter_id, "source": source, "count": count, "observed_at": observed_at},
                conflict_columns=["counter_id", "source"],
                update_columns=["count", "observed_at"],
            )
        )
        total = (
            select(func.coalesce(func.sum(CounterSource.count), 0))
            .where(CounterSource.counter_id == counter_id)
            .scalar_subquery()
        )
        _apply_change(counter_id, now, external=total)
        caching.touch_after_commit([caching.counter_key(site.slug, target, kind.value)])
    state = get_engagement(site=site, target=target, reader=None).counters[kind.value]
    if changed:
        _announce(site, target, kind, state.count)
    db.session.commit()
    return state


def remove_external_source(
    *, site: SiteRef, counter_id: int, target: str, kind: CounterKind, source: str
) -> None:
    """Forget one source of a counter (a feed deleted): the external value is the sum of the others. In
    the caller's transaction."""
    removed = db.session.execute(
        delete(CounterSource)
        .where(CounterSource.counter_id == counter_id, CounterSource.source == source)
        .returning(CounterSource.count)
    ).first()
    if removed is None:
        return
    total = (
        select(func.coalesce(func.sum(CounterSource.count), 0))
        .where(CounterSource.counter_id == counter_id)
        .scalar_subquery()
    )
    _apply_change(counter_id, clock.now(), external=total)
    caching.touch_after_commit([caching.counter_key(site.slug, target, kind.value)])
    _announce(site, target, kind, None)


def counter_history(*, site: SiteRef, target: str, kind: CounterKind | None, days: int) -> History:
    """The last ``days`` UTC days (today included) of each counter, one value per day, oldest first.

    A day without a change carries the previous day's value; days before the first change are 0.
    """
    kinds = [kind] if kind is not None else list(CounterKind)
    end = clock.now().date()
    start = end - timedelta(days=days - 1)
    counters = {
        c.id: c.kind for c in db.session.scalars(_counters_of(site, target).where(Counter.kind.in_(kinds)))
    }
    in_window = select(CounterHistory).where(
        CounterHistory.counter_id.in_(list(counters)), CounterHistory.day >= start
    )
    last_before = (
        select(CounterHistory.counter_id, func.max(CounterHistory.day).label("day"))
        .where(CounterHistory.counter_id.in_(list(counters)), CounterHistory.day < start)
        .group_by(CounterHistory.counter_id)
        .subquery()
    )
    carried_in = select(CounterHistory).join(
        last_before,
        and_(CounterHistory.counter_id == last_before.c.counter_id, CounterHistory.day == last_before.c.day),
    )
    rows: dict[str, dict[date, CounterHistory]] = {k.value: {} for k in kinds}
    if counters:
        for statement in (carried_in, in_window):
            for row in db.session.scalars(statement):
                rows[counters[row.counter_id]][row.day] = row
    series = {}
    for kind_name, by_day in rows.items():
        latest = next((row for day, row in by_day.items() if day < start), None)
        values = []
        for offset in range(days):
            day = start + timedelta(days=offset)
            latest = by_day.get(day, latest)
            values.append(
                HistoryDay(day, latest.native, latest.external) if latest else HistoryDay(day, 0, 0)
            )
        series[kind_name] = values
    return History(target=target, days=days, series=series)


def counter_targets(*, site: SiteRef, limit: int) -> list[str]:
    """The targets of ``site`` that have a counter (``site`` first, then by name), at most ``limit``."""
    query = (
        select(Counter.target)
        .where(Counter.site_id == site.id)
        .group_by(Counter.target)
        .order_by(Counter.target != "site", Counter.target)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def badge_text(
    *, site_slug: str, target: str, kind: CounterKind, label: str | None, color: str | None
) -> BadgeText:
    """What a badge says: label (default Fans/Followers/Subscribers) and the count in shields' form.

    Every page view fetches its badges, so the count comes from this process's cache while the counter's
    change stamp holds (see ``engagement.caching``; every counter write touches it), else from one query
    that also tells whether the site exists. One query rather than ``public_site`` first: it is the
    request's first, so the stamp is read before the transaction's snapshot (SQLite keeps one per
    transaction), and a miss costs one round trip.
    """

    def load() -> int:
        row = db.session.execute(
            select(Site.id, Counter.native_count + Counter.external_count)
            .select_from(Site)
            .outerjoin(
                Counter, and_(Counter.site_id == Site.id, Counter.target == target, Counter.kind == kind)
            )
            .where(Site.slug == site_slug)
        ).one_or_none()
        if row is None:
            # Raised out of the load, so nothing is cached: creating the site touches the site's stamp,
            # not this counter's, and a remembered "unknown" would outlive it.
            raise NotFound("site_not_found", f"There is no site {site_slug!r}.")
        return row[1] or 0

    count = caching.cache("badge_counts").get(caching.counter_key(site_slug, target, kind.value), load)
    return BadgeText(
        label=DEFAULT_BADGE_LABELS[kind] if label is None else label,
        message=compact(count),
        color=color or DEFAULT_BADGE_COLOR,
    )


def _counters_of(site: SiteRef, target: str, kind: CounterKind | None = None):
    query = select(Counter).where(Counter.site_id == site.id, Counter.target == target)
    return query if kind is None else query.where(Counter.kind == kind)


def ensure_counter(
    site: SiteRef, target: str, kind: CounterKind, now: datetime, *, lock: bool = False
) -> int:
    """The counter's id, creating its row if needed; safe when two requests create it at once."""
    # PostgreSQL: serialise pushes to one counter; SQLite writers are serialised already
    find = _FIND_COUNTER.with_for_update() if lock else _FIND_COUNTER
    key = {"site_id": site.id, "target": target, "kind": kind}
    counter_id = db.session.scalar(find, key)
    if counter_id is None:
        db.session.execute(
            insert_ignoring_conflicts(
                Counter.__table__,
                {"site_id": site.id, "target": target, "kind": kind.value, "updated_at": now},
                conflict_columns=["site_id", "target", "kind"],
            )
        )
        counter_id = db.session.scalar(find, key)
    return counter_id


# Built once: a follow or a like runs them on every request, and building a statement cost more than
# running it. Values go as parameters. Of table columns, not the models' attributes: plain rows, and none
# of the ORM's work on an UPDATE or a result (a follow spent more there than in the statements).
_COUNTERS, _SOURCES, _ACTIONS = Counter.__table__, CounterSource.__table__, CounterReaderAction.__table__
_CHANGE_NATIVE = (
    update(_COUNTERS)
    .where(_COUNTERS.c.id == bindparam("counter_id"))
    .values(
        updated_at=bindparam("now"),
        native_count=_COUNTERS.c.native_count + bindparam("delta", type_=Integer),
    )
    .returning(_COUNTERS.c.native_count, _COUNTERS.c.external_count)
)
_OF_TARGET = and_(_COUNTERS.c.site_id == bindparam("site_id"), _COUNTERS.c.target == bindparam("target"))
_FIND_COUNTER = select(_COUNTERS.c.id).where(_OF_TARGET, _COUNTERS.c.kind == bindparam("kind"))
# A target's counters, each once per source (or once with NULLs, without one), in source order.
_COUNTER_ROWS = (
    select(
        _COUNTERS.c.kind,
        _COUNTERS.c.native_count,
        _COUNTERS.c.external_count,
        _COUNTERS.c.updated_at,
        _SOURCES.c.source,
        _SOURCES.c.count,
        _SOURCES.c.observed_at,
    )
    .select_from(_COUNTERS.outerjoin(_SOURCES, _SOURCES.c.counter_id == _COUNTERS.c.id))
    .where(_OF_TARGET)
    .order_by(_COUNTERS.c.kind, _SOURCES.c.source)
)
# The same, and whether the reader has joined each (the action's primary key is counter and reader).
_COUNTER_ROWS_WITH_READER = _COUNTER_ROWS.add_columns(
    _ACTIONS.c.reader_hash.is_not(None).label("joined")
).outerjoin(
    _ACTIONS,
    and_(_ACTIONS.c.counter_id == _COUNTERS.c.id, _ACTIONS.c.reader_hash == bindparam("reader")),
)
_LEAVE = delete(_ACTIONS).where(
    _ACTIONS.c.counter_id == bindparam("counter_id"), _ACTIONS.c.reader_hash == bindparam("reader")
)
_JOINED_KINDS = (
    select(_COUNTERS.c.kind)
    .join(_ACTIONS, _ACTIONS.c.counter_id == _COUNTERS.c.id)
    .where(_OF_TARGET, _ACTIONS.c.reader_hash == bindparam("reader"))
)


def _apply_change(counter_id: int, now: datetime, *, native_delta: int = 0, external: Any = None) -> None:
    """Move the counter's native count by ``native_delta`` (or set its external count) in SQL, no
    read-modify-write, and record its new value as today's history.

    The UPDATE locks the counter's row until commit, so history rows are written in commit order.
    """
    if external is None:
        changed = db.session.execute(
            _CHANGE_NATIVE, {"counter_id": counter_id, "now": now, "delta": native_delta}
        )
    else:  # a push or a feed: ``external`` may be SQL (the sum of the counter's sources)
        changed = db.session.execute(
            update(Counter.__table__)
            .where(Counter.id == counter_id)
            .values(updated_at=now, external_count=external)
            .returning(Counter.native_count, Counter.external_count)
        )
    native, external_count = changed.one()
    upsert(
        CounterHistory.__table__,
        {
            "counter_id": counter_id,
            "day": now.date(),
            "count": native + external_count,
            "native": native,
            "external": external_count,
        },
        conflict_columns=["counter_id", "day"],
        update_columns=["count", "native", "external"],
    )


def _check_push(
    site: SiteRef,
    source: str,
    previous: Row[tuple[int, datetime]] | None,
    *,
    count: int,
    observed_at: datetime,
    force: bool,
) -> None:
    if previous is not None and observed_at < previous.observed_at:
        raise Conflict(
            "stale_observation",
            f"{source} already has a value observed at {isoformat_z(previous.observed_at)}; "
            "an older observation is ignored.",
        )
    if force:
        return
    if count == 0:
        raise Conflict(
            "suspicious_drop", "A count of 0 looks like a failed sync; send force=true if it is real."
        )
    share = site.settings.max_drop_share
    if previous is not None and previous.count - count > previous.count * share:
        raise Conflict(
            "suspicious_drop",
            f"{count} is more than {share:.0%} below the last value {previous.count}; "
            "send force=true if it is real.",
        )


def _stale_window(site: SiteRef) -> timedelta | None:
    hours = site.settings.stale_after_hours
    return timedelta(hours=hours) if hours > 0 else None


def _is_stale(observed_at: datetime, now: datetime, window: timedelta | None) -> bool:
    return window is not None and now - observed_at > window


def _state(counter: Row[Any], sources: list[SourceState]) -> CounterState:
    """A counter's state from its row and its sources' (in source order); stale when its newest is."""
    newest = max(sources, key=lambda source: source.observed_at, default=None)
    return CounterState(
        native=counter.native_count,
        external=counter.external_count,
        sources=sources,
        updated_at=counter.updated_at,
        stale=newest is not None and newest.stale,
    )

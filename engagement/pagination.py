"""Keyset (cursor) pagination: stable under inserts, and O(page) however deep the reader goes."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, literal, or_, tuple_
from sqlalchemy.sql import ColumnElement

from engagement.database import MAX_INTEGER, MIN_INTEGER
from engagement.errors import ValidationFailed
from engagement.extensions import db


def encode_cursor(*values: Any) -> str:
    """An opaque cursor for the last row of a page (datetimes kept exact, not as wire times)."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> tuple[Any, ...]:
    """The values of a cursor, checked against the expected ``kinds`` (int, bool, datetime); 422 if bad.

    A cursor comes back from the client, so it is input like any other: every int must fit the INTEGER
    columns it is compared with, and every datetime must be a real instant, or the driver would fail
    on it (a 500) instead of the reader being told to start again."""
    invalid = ValidationFailed({"cursor": ["This cursor is not valid; start again from the first page."]})
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        raise invalid from None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise invalid
    decoded: list[Any] = []
    for value, kind in zip(values, kinds, strict=True):
        if kind is datetime:
            try:
                value = datetime.fromisoformat(value)
                if value.tzinfo is None:
                    raise invalid
                # In UTC, as the service wrote it; an offset that pushes it past year 9999 overflows here.
                value = value.astimezone(UTC)
            except (TypeError, ValueError, OverflowError):
                raise invalid from None
        # bool is an int subclass: compare types exactly. An int must fit the INTEGER column it meets.
        elif type(value) is not kind or (kind is int and not MIN_INTEGER <= value <= MAX_INTEGER):
            raise invalid
        decoded.append(value)
    return tuple(decoded)


def keyset_after(
    columns: Sequence[ColumnElement[Any]], values: Sequence[Any], descending: Sequence[bool]
) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``columns`` (each ascending or descending).

    All one way: a row-value comparison, ``(a, b) > (x, y)``, which both databases answer as one range
    of an index in that order. Mixed directions: the expanded form (a > x OR (a = x AND b < y) ...),
    which no index serves as a range: listings avoid it (reading.py splits the pinned ones off)."""
    bounds = [literal(value, column.type) for column, value in zip(columns, values, strict=True)]
    if len(set(descending)) == 1:
        return tuple_(*columns) < tuple_(*bounds) if descending[0] else tuple_(*columns) > tuple_(*bounds)
    clauses = []
    for i, (column, value, desc) in enumerate(zip(columns, values, descending, strict=True)):
        equal_prefix = [columns[j] == literal(values[j], columns[j].type) for j in range(i)]
        # literal(): SQLAlchemy refuses "<" against a bare True/False.
        bound = literal(value, column.type)
        beyond = column < bound if desc else column > bound
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)


@dataclass(frozen=True)
class Listing:
    """A page of a staff listing and the cursor of the next one (None: the last page)."""

    items: list[Any]
    next_cursor: str | None


def keyset_page(
    query: Select[Any],
    columns: Sequence[ColumnElement[Any]],
    descending: Sequence[bool],
    *,
    limit: int,
    cursor: str | None,
    kinds: tuple[type, ...],
    key: Callable[[Any], tuple[Any, ...]],
    narrow: Callable[[Select[Any], Sequence[ColumnElement[Any]], int], Select[Any]] | None = None,
) -> Listing:
    """Run ``query`` as one keyset page: rows after the cursor (whose values are of ``kinds``) in the
    order of ``columns``, ``limit`` of them, and the cursor of the last (``key`` gives a row's values).
    ``narrow`` (a search, engagement.search) adds its condition once the cursor's is in."""
    if cursor:
        query = query.where(keyset_after(columns, decode_cursor(cursor, *kinds), descending))
    order = [c.desc() if d else c.asc() for c, d in zip(columns, descending, strict=True)]
    if narrow is not None:
        query = narrow(query, order, limit + 1)
    rows = list(db.session.scalars(query.order_by(*order).limit(limit + 1)))
    next_cursor = encode_cursor(*key(rows[limit - 1])) if len(rows) > limit else None
    return Listing(items=rows[:limit], next_cursor=next_cursor)

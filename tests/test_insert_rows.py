"""``database.insert_rows``: the rows a bulk write sends (PostgreSQL's COPY, elsewhere an executemany) are
stored exactly as an INSERT of the same rows stores them, text that COPY's own format would read as
escapes included, with the comments' search triggers fired and constant defaults applied."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Table, insert, select

from engagement.database import insert_rows, reserve_ids
from engagement.extensions import db
from engagement.models import Comment, StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site, post

HOSTILE_TEXTS = [
    "\\N",  # COPY's NULL, as text
    "tab\there, newline\nthere, return\rthere, backslash \\ and \\t as written",
    "quotes ' \" and a comma, semicolon; pipe |",
    "ünïcödé, RTL مرحبا, emoji 🦆, zero-width \u200b",
    "\\.",  # COPY's old end-of-data marker, as a line of its own below
    "line\n\\.\nafter",
]
COMMENTS: Table = Comment.__table__  # type: ignore[assignment]


@pytest.fixture
def thread_of(app, client) -> dict[str, Any]:
    make_site()
    assert post(client, body="The thread's first comment.").status_code == 201
    first = db.session.scalars(select(Comment)).one()
    return {"site_id": first.site_id, "thread_id": first.thread_id}


def _rows(base: dict[str, Any], word: str) -> list[dict[str, Any]]:
    at = datetime(2026, 3, 1, 23, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))
    return [
        {
            **base,
            "author_name": f"Name {text}",
            "author_email": f"reader{index}@example.org",
            "author_url": None if index % 2 else f"https://example.org/{index}?a=1&b=\\x",
            "body": f"{word} {text}",
            "html": f"<p>{text}</p>",
            "status": "approved" if index % 2 else "pending",
            "spam_reasons": [text, "links"] if index % 2 else [],
            "pinned": bool(index % 2),
            "created_at": at + timedelta(seconds=index),
            "edited_at": None,
            "source": "json",
            "source_id": f"{word}-{index}",
        }
        for index, text in enumerate(HOSTILE_TEXTS)
    ]


def _stored(ids: list[int]) -> list[dict[str, Any]]:
    rows = db.session.execute(select(COMMENTS).where(COMMENTS.c.id.in_(ids)).order_by(COMMENTS.c.id))
    return [{k: v for k, v in row._mapping.items() if k not in ("id", "source_id", "body")} for row in rows]


def test_rows_are_stored_as_an_insert_stores_them(thread_of):
    copied = _rows(thread_of, "copied")
    inserted = _rows(thread_of, "inserted")
    ids = reserve_ids(COMMENTS, len(copied) + len(inserted))
    for row, row_id in zip([*copied, *inserted], ids, strict=True):
        row["id"] = row_id
    insert_rows(COMMENTS, copied)
    db.session.execute(insert(COMMENTS), inserted)
    db.session.commit()
    by_copy, by_insert = _stored(ids[: len(copied)]), _stored(ids[len(copied) :])
    assert by_copy == by_insert
    bodies = db.session.scalars(
        select(Comment.body).where(Comment.id.in_(ids[: len(copied)])).order_by(Comment.id)
    )
    assert list(bodies) == [f"copied {text}" for text in HOSTILE_TEXTS]
    # Columns the rows left out: their model defaults (likes, depth, open_reports 0; no language).
    assert {(row["likes"], row["depth"], row["open_reports"], row["language"]) for row in by_copy} == {
        (0, 0, 0, None)
    }
    assert by_copy[0]["created_at"] == copied[0]["created_at"]


def test_copied_rows_are_found_by_the_staff_search(app, client, thread_of):
    rows = _rows(thread_of, "zanzibarite")
    for row, row_id in zip(rows, reserve_ids(COMMENTS, len(rows)), strict=True):
        row["id"] = row_id
    insert_rows(COMMENTS, rows)
    db.session.commit()
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="desk")
    answer = client.get(
        "/api/v1/moderation/comments",
        query_string={"status": "all", "q": "zanzibar"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert answer.status_code == 200, answer.json
    assert sorted(item["id"] for item in answer.json["items"]) == sorted(row["id"] for row in rows)


def test_a_left_out_column_with_a_computed_default_is_refused_before_anything_is_sent(thread_of):
    row = _rows(thread_of, "refused")[0]
    del row["spam_reasons"]  # default=list: computed per row
    with pytest.raises(ValueError, match="spam_reasons"):
        insert_rows(COMMENTS, [row])
    db.session.rollback()
    assert db.session.scalar(select(Comment.id).where(Comment.source_id == "refused-0")) is None


def test_no_rows_send_nothing(app):
    insert_rows(COMMENTS, [])

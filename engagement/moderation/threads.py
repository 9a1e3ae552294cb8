"""Threads as staff see them: listed (recent, most comments, searched), closed, reopened and retitled.

Each use case is one transaction with its audit entries, committed once; each takes the staff token and
refuses or filters through engagement.staff.access.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, or_, select

from engagement import audit, events
from engagement import threads as bookkeeping
from engagement.errors import NotFound
from engagement.extensions import db
from engagement.models import (
    StaffToken,
    Thread,
)
from engagement.pagination import Listing, keyset_page
from engagement.staff import access


def list_threads(
    *, token: StaffToken, site: str, sort: str, q: str | None, limit: int, cursor: str | None
) -> Listing:
    site_obj = access.site_in_scope(token, site)
    query = select(Thread).where(Thread.site_id == site_obj.id)
    if q is not None:
        needle = q.lower()
        query = query.where(
            or_(
                func.lower(Thread.key).contains(needle, autoescape=True),
                func.lower(Thread.title).contains(needle, autoescape=True),
            )
        )
    if sort == "most_comments":
        return keyset_page(
            query,
            [Thread.comment_count, Thread.id],
            [True, True],
            limit=limit,
            cursor=cursor,
            kinds=(int, int),
            key=lambda t: (t.comment_count, t.id),
        )
    # Threads are created by their first comment, so creation order is a stable "recent".
    return keyset_page(
        query, [Thread.id], [True], limit=limit, cursor=cursor, kinds=(int,), key=lambda t: (t.id,)
    )


def update_thread(
    *, token: StaffToken, site: str, key: str, closed: bool | None, title: str | None
) -> Thread:
    """Close/reopen a thread or fix its title; readers see it at once (version bump)."""
    site_obj = access.site_in_scope(token, site)
    thread = db.session.scalar(select(Thread).where(Thread.site_id == site_obj.id, Thread.key == key))
    if thread is None:
        raise NotFound("thread_not_found", f"There is no thread {key!r}.")
    changes = {}
    if closed is not None and closed != thread.closed:
        changes["closed"] = closed
    if title is not None and title != thread.title:
        changes["title"] = title
    if changes:
        audit.record(
            actor=token.label, action="thread_updated", site_id=site_obj.id, details={"key": key, **changes}
        )
        bookkeeping.update_thread(thread.id, **changes)
        if changes.get("closed"):
            events.thread_closed.send(current_app._get_current_object(), site=site_obj, key=key)
        db.session.commit()
        db.session.refresh(thread)
    return thread

"""Staff views of mail: the outbox (what failed, and retrying it) and a site's subscribers.

A moderator sees the messages and subscribers of their sites; messages that belong to no site (privacy
requests) only admins see.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from engagement import audit, clock
from engagement.errors import Conflict, Forbidden, NotFound
from engagement.extensions import db
from engagement.models import OutboxMessage, OutboxStatus, Site, StaffToken, Subscriber
from engagement.pagination import Listing, keyset_page
from engagement.staff.access import site_in_scope

RETRYABLE = (OutboxStatus.FAILED, OutboxStatus.QUEUED)


def list_outbox(
    *, token: StaffToken, site: str | None, status: str, limit: int, cursor: str | None
) -> Listing:
    """Messages newest first, filtered by status (``all`` for every one)."""
    query = select(OutboxMessage).options(selectinload(OutboxMessage.site))
    if site is not None:
        query = query.where(OutboxMessage.site_id == site_in_scope(token, site).id)
    elif not token.is_admin:
        query = query.where(OutboxMessage.site_id.in_([s.id for s in token.sites]))
    if status != "all":
        query = query.where(OutboxMessage.status == status)
    return _newest_first(query, OutboxMessage, limit=limit, cursor=cursor)


def retry_message(*, token: StaffToken, message_id: int, site: str | None = None) -> OutboxMessage:
    """Queue a failed message again with a fresh set of attempts (a queued one: due at once); with
    ``site``, only a message of that site (404 for another's, as for one that does not exist)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or (site is not None and message.site_id != site_in_scope(token, site).id):
        raise NotFound("message_not_found", f"There is no message {message_id}.")
    site = db.session.get(Site, message.site_id) if message.site_id is not None else None
    if not (token.is_admin or (site is not None and token.may_access(site))):
        raise Forbidden("forbidden", "This token may not act on this message.")
    if message.status not in RETRYABLE:
        raise Conflict("not_retryable", f"A {message.status} message cannot be retried.")
    audit.record(
        actor=token.label,
        action="mail_retried",
        site_id=message.site_id,
        details={"outbox_id": message.id, "status": message.status, "attempts": message.attempts},
    )
    message.status = OutboxStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = clock.now()
    db.session.commit()
    return message


def list_subscribers(
    *, token: StaffToken, site: str, status: str, target: str | None, limit: int, cursor: str | None
) -> Listing:
    """A site's subscribers newest first: ``confirmed`` (the ones counted), ``pending`` or ``all``."""
    query = _subscribers(token, site, status, target)
    return _newest_first(query, Subscriber, limit=limit, cursor=cursor)


def export_subscribers(*, token: StaffToken, site: str, status: str, target: str | None) -> Iterator[Any]:
    """Every matching subscriber (email, target, confirmed_at, created_at), oldest first. The checks run
    now; rows are read as they are consumed, 1,000 at a time, as plain rows: 600,000 of them stream with
    flat memory (model objects cost three times the time)."""
    query = (
        _subscribers(token, site, status, target)
        .with_only_columns(
            Subscriber.email, Subscriber.target, Subscriber.confirmed_at, Subscriber.created_at
        )
        .order_by(Subscriber.id)
        .execution_options(yield_per=EXPORT_ROWS)
    )

    def rows() -> Iterator[Any]:
        yield from db.session.execute(query)

    return rows()


EXPORT_ROWS = 1_000


def _subscribers(token: StaffToken, site: str, status: str, target: str | None) -> Select[Any]:
    query = select(Subscriber).where(Subscriber.site_id == site_in_scope(token, site).id)
    if target is not None:
        query = query.where(Subscriber.target == target)
    if status == "confirmed":
        query = query.where(Subscriber.confirmed_at.is_not(None))
    elif status == "pending":
        query = query.where(Subscriber.confirmed_at.is_(None))
    return query


def _newest_first(query: Select[Any], model: Any, *, limit: int, cursor: str | None) -> Listing:
    return keyset_page(
        query, [model.id], [True], limit=limit, cursor=cursor, kinds=(int,), key=lambda row: (row.id,)
    )

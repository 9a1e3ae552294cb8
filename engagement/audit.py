"""The audit log: every decision by staff or by the spam rules, recorded in the same transaction.

Entries are written with Core INSERTs (no RETURNING): nobody needs their ids back, and this lets a
bulk action write a thousand entries as one executemany instead of a thousand round trips.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from engagement import clock
from engagement.extensions import db
from engagement.models import AuditEntry, Comment

SYSTEM = "system"


def entry(
    *,
    actor: str,
    action: str,
    site_id: int | None,
    comment: Comment | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit row, to be written with ``write``."""
    return {
        "site_id": site_id,
        "comment_id": comment.id if comment is not None else None,
        "actor": actor,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "details": details or {},
        "created_at": clock.now(),
    }


def write(rows: list[dict[str, Any]]) -> None:
    """Add audit rows to the current transaction; they commit or roll back with the change."""
    if rows:
        db.session.execute(insert(AuditEntry), rows)


def record(**fields: Any) -> None:
    """Write one audit row (see ``entry`` for the fields)."""
    write([entry(**fields)])

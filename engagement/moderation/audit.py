"""The audit log: every decision by staff or by the spam rules, recorded in the same transaction."""

from __future__ import annotations

from typing import Any

from engagement import clock
from engagement.extensions import db
from engagement.models import AuditEntry, Comment

SYSTEM = "system"


def record(
    *,
    actor: str,
    action: str,
    site_id: int | None,
    comment: Comment | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction; it commits or rolls back with the change."""
    entry = AuditEntry(
        site_id=site_id,
        comment_id=comment.id if comment is not None else None,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        details=details or {},
        created_at=clock.now(),
    )
    db.session.add(entry)
    return entry

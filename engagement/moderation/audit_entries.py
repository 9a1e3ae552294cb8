"""The audit log as staff read it: newest first, moderators' sites only.

Each use case is one transaction with its audit entries, committed once; each takes the staff token and
refuses or filters through engagement.staff.access.
"""

from __future__ import annotations

from sqlalchemy import select

from engagement.models import (
    StaffToken,
)
from engagement.models.moderation import AuditEntry
from engagement.pagination import Listing, keyset_page
from engagement.staff import access


def list_entries(
    *,
    token: StaffToken,
    site: str | None,
    actor: str | None,
    comment_id: int | None,
    limit: int,
    cursor: str | None,
) -> Listing:
    """Entries newest first; moderators see their sites' entries only (token and site admin is admin-only)."""
    query = select(AuditEntry)
    site_ids = access.scoped_site_ids(token, site)
    if site_ids is not None:
        query = query.where(AuditEntry.site_id.in_(site_ids))
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if comment_id is not None:
        query = query.where(AuditEntry.comment_id == comment_id)
    return keyset_page(
        query, [AuditEntry.id], [True], limit=limit, cursor=cursor, kinds=(int,), key=lambda e: (e.id,)
    )

"""Models to the plain shapes the staff schemas dump."""

from __future__ import annotations

from typing import Any

from engagement.clock import isoformat_z
from engagement.models import AuditEntry, Ban, Site, StaffToken, Thread


def ban(item: Ban, site_slugs: dict[int, str]) -> dict[str, Any]:
    return {
        "id": item.id,
        "site": site_slugs[item.site_id],
        "kind": item.kind,
        "value": item.value,
        "action": item.action,
        "expires_at": isoformat_z(item.expires_at),
        "note": item.note,
        "created_by": item.created_by,
        "created_at": isoformat_z(item.created_at),
    }


def thread(item: Thread) -> dict[str, Any]:
    return {
        "key": item.key,
        "title": item.title,
        "url": item.url,
        "closed": item.closed,
        "comment_count": item.comment_count,
        "created_at": isoformat_z(item.created_at),
        "last_comment_at": isoformat_z(item.last_comment_at),
    }


def site(item: Site) -> dict[str, Any]:
    return {
        "slug": item.slug,
        "name": item.name,
        "origins": list(item.origins),
        "settings": item.settings.to_json(),
        "akismet_key_set": item.akismet_key_encrypted is not None,
        "created_at": isoformat_z(item.created_at),
    }


def token(item: StaffToken) -> dict[str, Any]:
    return {
        "id": item.id,
        "label": item.label,
        "role": item.role,
        "sites": [s.slug for s in item.sites],
        "prefix": item.token_prefix,
        "created_at": isoformat_z(item.created_at),
        "last_used_at": isoformat_z(item.last_used_at),
        "revoked_at": isoformat_z(item.revoked_at),
    }


def audit_entry(item: AuditEntry, site_slugs: dict[int, str]) -> dict[str, Any]:
    return {
        "id": item.id,
        "at": isoformat_z(item.created_at),
        "site": site_slugs.get(item.site_id) if item.site_id else None,
        "actor": item.actor,
        "action": item.action,
        "comment_id": item.comment_id,
        "from_status": item.from_status,
        "to_status": item.to_status,
        "reason": item.reason,
        "details": item.details,
    }


def site_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "site": row["site"].slug,
        "counts": row["counts"],
        "oldest_pending_at": isoformat_z(row["oldest_pending_at"]),
    }

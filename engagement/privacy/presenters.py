"""A person's data to the plain shapes the privacy schemas dump."""

from __future__ import annotations

from typing import Any

from engagement.clock import isoformat_z
from engagement.privacy.service import Person
from engagement.staff.comment_view import staff_comments


def person(found: Person) -> dict[str, Any]:
    slugs = found.site_slugs
    return {
        "email": found.email,
        "sso_id": found.sso_id,
        "comments": staff_comments(found.comments),
        "subscriptions": [
            {
                "site": slugs[s.site_id],
                "target": s.target,
                "confirmed_at": isoformat_z(s.confirmed_at),
                "created_at": isoformat_z(s.created_at),
            }
            for s in found.subscriptions
        ],
        "reply_notifications": [
            {
                "site": slugs[f.contact.site_id],
                "confirmed_at": isoformat_z(f.contact.confirmed_at),
                "created_at": isoformat_z(f.contact.created_at),
                "threads": f.thread_keys,
            }
            for f in found.reply_notifications
        ],
    }

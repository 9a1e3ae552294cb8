"""A person's data to the plain shapes the privacy schemas dump."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from engagement.clock import isoformat_z
from engagement.privacy.service import Person
from engagement.staff.comment_view import staff_comments

# How ReportEntrySchema writes a report's time: the staff lookup is answered as presented (api.response).
_REPORT_TIME = fields.DateTime()


def person(found: Person) -> dict[str, Any]:
    """The shape PersonSchema dumps, every value final (strings, numbers, lists): the staff lookup sends it
    as it is, since dumping 500 comments again cost more than reading them (issue 20)."""
    slugs = found.site_slugs
    comments = staff_comments(found.comments)
    for comment in comments:
        for report in comment["reports"]["reports"]:
            report["created_at"] = _REPORT_TIME.serialize("created_at", report)
    return {
        "email": found.email,
        "sso_id": found.sso_id,
        "comments": comments,
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

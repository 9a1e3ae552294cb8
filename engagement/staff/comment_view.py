"""What staff see of a comment (the moderation queue, a privacy look-up): one shape and one presenter."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from engagement.clock import isoformat_z
from engagement.models import Comment


class StaffAuthorSchema(Schema):
    name = fields.String()
    email = fields.String()
    url = fields.String(allow_none=True)


class ThreadRefSchema(Schema):
    key = fields.String()
    title = fields.String()
    url = fields.String()


class LastModerationSchema(Schema):
    by = fields.String(allow_none=True)
    at = fields.String(allow_none=True)


class StaffCommentSchema(Schema):
    id = fields.Integer()
    site = fields.String()
    thread = fields.Nested(ThreadRefSchema)
    parent_id = fields.Integer(allow_none=True)
    depth = fields.Integer()
    author = fields.Nested(StaffAuthorSchema)
    ip_hash = fields.String(allow_none=True)
    user_agent = fields.String()
    body = fields.String()
    html = fields.String()
    status = fields.String()
    previous_status = fields.String(allow_none=True)
    spam_reasons = fields.List(fields.String())
    likes = fields.Integer()
    pinned = fields.Boolean()
    created_at = fields.String()
    edited_at = fields.String(allow_none=True)
    last_moderation = fields.Nested(LastModerationSchema)


def staff_comment(comment: Comment) -> dict[str, Any]:
    thread = comment.thread
    return {
        "id": comment.id,
        "site": thread.site.slug,
        "thread": {"key": thread.key, "title": thread.title, "url": thread.url},
        "parent_id": comment.parent_id,
        "depth": comment.depth,
        "author": {"name": comment.author_name, "email": comment.author_email, "url": comment.author_url},
        "ip_hash": comment.ip_hash,
        "user_agent": comment.user_agent,
        "body": comment.body,
        "html": comment.html,
        "status": comment.status,
        "previous_status": comment.previous_status,
        "spam_reasons": list(comment.spam_reasons or []),
        "likes": comment.likes,
        "pinned": comment.pinned,
        "created_at": isoformat_z(comment.created_at),
        "edited_at": isoformat_z(comment.edited_at),
        "last_moderation": {"by": comment.moderated_by, "at": isoformat_z(comment.moderated_at)},
    }

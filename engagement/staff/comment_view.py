"""What staff see of a comment (the moderation queue, a privacy look-up): one shape and one presenter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import select

from engagement.clock import isoformat_z
from engagement.extensions import db
from engagement.models import Comment, Report

REPORTER_SHOWN = 12  # characters of the reporter's hash staff see


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


class ReportEntrySchema(Schema):
    reason = fields.String()
    note = fields.String()
    reporter = fields.String(metadata={"description": "The reader id's keyed hash, cut to 12 characters"})
    created_at = fields.DateTime()
    state = fields.String(metadata={"description": "open, dismissed or upheld"})


class CommentReportsSchema(Schema):
    comment_id = fields.Integer()
    open = fields.Integer(metadata={"description": "Readers' reports no moderator has decided on yet"})
    by_reason = fields.Dict(keys=fields.String(), values=fields.Integer())
    reports = fields.List(fields.Nested(ReportEntrySchema))


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
    reports = fields.Nested(
        CommentReportsSchema,
        metadata={
            "description": "Readers' reports while some are open (every report: GET /comments/{id}/reports)"
        },
    )


def staff_comments(comments: list[Comment]) -> list[dict[str, Any]]:
    """``staff_comment`` of each, the open reports of all of them read in one query (a page of the
    reported queue has one for every comment)."""
    reports = reports_of([comment.id for comment in comments if comment.open_reports])
    return [staff_comment(comment, reports=reports) for comment in comments]


def staff_comment(comment: Comment, *, reports: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    thread = comment.thread
    if reports is None:
        # Read only for a comment with open reports (a few in any page): the rest cost no query.
        reports = reports_of([comment.id]) if comment.open_reports else {}
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
        "reports": reports.get(comment.id) or _no_reports(comment.id),
    }


def _no_reports(comment_id: int) -> dict[str, Any]:
    return {"comment_id": comment_id, "open": 0, "by_reason": {}, "reports": []}


def reports_of(comment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Reports of several comments at once (one query), for listings."""
    found: dict[int, dict[str, Any]] = {i: _no_reports(i) for i in comment_ids}
    if not comment_ids:
        return found
    rows = db.session.scalars(
        select(Report).where(Report.comment_id.in_(comment_ids)).order_by(Report.created_at, Report.id)
    )
    for report in rows:
        entry = found[report.comment_id]
        state = _state(report.dismissed_at, report.upheld_at)
        if state == "open":
            entry["open"] += 1
            entry["by_reason"][report.reason] = entry["by_reason"].get(report.reason, 0) + 1
        entry["reports"].append(
            {
                "reason": report.reason,
                "note": report.note,
                "reporter": report.reporter[:REPORTER_SHOWN],
                "created_at": report.created_at,
                "state": state,
            }
        )
    return found


def _state(dismissed_at: datetime | None, upheld_at: datetime | None) -> str:
    if upheld_at is not None:
        return "upheld"
    return "dismissed" if dismissed_at is not None else "open"

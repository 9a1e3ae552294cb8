"""What a reader sends to report a comment, and what staff see of a comment's reports."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engagement.models import ReportReason
from engagement.staff.comment_view import CommentReportsSchema

NOTE_LENGTH = 500


class NewReportSchema(Schema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf([r.value for r in ReportReason]),
        metadata={"description": "spam, abuse (abuse or harassment), off_topic or other"},
    )
    note = fields.String(
        load_default="",
        validate=validate.Length(max=NOTE_LENGTH),
        metadata={"description": "What the moderators should know (at most 500 characters)"},
    )


class ReportedSchema(Schema):
    reported = fields.Boolean(metadata={"description": "Always true: a repeated report changes nothing"})


class ErasedSchema(Schema):
    erased = fields.Integer(metadata={"description": "How many of the reader's reports were erased"})


class DismissSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class DismissedSchema(Schema):
    dismissed = fields.Integer(metadata={"description": "How many open reports were dismissed"})


__all__ = [
    "CommentReportsSchema",
    "DismissSchema",
    "DismissedSchema",
    "ErasedSchema",
    "NewReportSchema",
    "ReportedSchema",
]

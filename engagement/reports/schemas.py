"""What a reader sends to report a comment, and what staff see of a comment's reports."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engagement.models import ReportReason

NOTE_LENGTH = 500


class ReportSchema(Schema):
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


class ReportEntrySchema(Schema):
    reason = fields.String()
    note = fields.String()
    reporter = fields.String(metadata={"description": "The reader id's keyed hash, cut to 12 characters"})
    created_at = fields.DateTime()
    state = fields.String(metadata={"description": "open, dismissed or upheld"})


class CommentReportsSchema(Schema):
    comment_id = fields.Integer()
    open = fields.Integer(metadata={"description": "Reports no moderator has decided on yet"})
    by_reason = fields.Dict(keys=fields.String(), values=fields.Integer())
    reports = fields.List(fields.Nested(ReportEntrySchema))


class DismissSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class DismissedSchema(Schema):
    dismissed = fields.Integer(metadata={"description": "How many open reports were dismissed"})

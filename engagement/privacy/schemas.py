"""Privacy API inputs and outputs."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engagement.fields import AuthorEmail, Language
from engagement.privacy.service import ERASE_MODES, REQUESTS
from engagement.staff.comment_view import StaffCommentSchema


class PersonQuery(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))


class EraseSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    mode = fields.String(
        required=True,
        validate=validate.OneOf(ERASE_MODES),
        metadata={"description": "anonymize: keep the words under 'Anonymous'; delete: remove them"},
    )


class SubscriptionSchema(Schema):
    site = fields.String()
    target = fields.String()
    confirmed_at = fields.String(allow_none=True)
    created_at = fields.String()


class ReplyNotificationsSchema(Schema):
    site = fields.String()
    confirmed_at = fields.String(allow_none=True)
    created_at = fields.String()
    threads = fields.List(fields.String(), metadata={"description": "Keys of the threads followed"})


class PersonSchema(Schema):
    email = fields.String()
    comments = fields.List(fields.Nested(StaffCommentSchema))
    subscriptions = fields.List(fields.Nested(SubscriptionSchema))
    reply_notifications = fields.List(fields.Nested(ReplyNotificationsSchema))


class OwnCommentSchema(StaffCommentSchema):
    """A comment as its author downloads it: their data, not staff's notes about it."""

    class Meta:
        exclude = ("last_moderation", "spam_reasons")


class OwnDataSchema(PersonSchema):
    """What a reader's export link downloads: the site it is about, and their data there."""

    site = fields.String(metadata={"description": "The site's slug"})
    comments = fields.List(fields.Nested(OwnCommentSchema))


class ErasureSchema(Schema):
    email = fields.String()
    mode = fields.String()
    comments = fields.Integer(metadata={"description": "Comments anonymized or deleted"})
    subscriptions = fields.Integer()
    reply_notifications = fields.Integer()


class PrivacyRequestSchema(Schema):
    email = AuthorEmail(required=True)
    request = fields.String(required=True, validate=validate.OneOf(REQUESTS))
    lang = Language(load_default=None, metadata={"description": "The reader's language, for the mailed link"})


class PrivacyAcceptedSchema(Schema):
    status = fields.String(
        dump_default="accepted",
        metadata={"description": "Always 'accepted': a link is mailed only if the site knows the address"},
    )

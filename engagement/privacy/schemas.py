"""Privacy API inputs and outputs."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engagement.fields import AuthorEmail, Language
from engagement.models import SSO_ID_LENGTH
from engagement.privacy.service import ERASE_MODES, REQUESTS
from engagement.staff.comment_view import StaffCommentSchema


class PersonQuery(Schema):
    """One person: an email address (in the token's sites, or in ``site``), a signed-in reader's user id
    on ``site``, or both (their comments under either)."""

    email = fields.String(load_default=None, validate=validate.Length(min=3, max=254))
    sso_id = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=SSO_ID_LENGTH),
        metadata={"description": "A signed-in reader's user id on the site (single sign-on); with site"},
    )
    site = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "Only this site (required with sso_id)"},
    )

    @validates_schema
    def one_person(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("email") is None and data.get("sso_id") is None:
            raise ValidationError("Name the person: email, or sso_id with site.", "email")
        if data.get("sso_id") is not None and data.get("site") is None:
            raise ValidationError("A user id is the site's own: name the site.", "site")


class EraseSchema(PersonQuery):
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
    sso_id = fields.String(allow_none=True, metadata={"description": "The signed-in reader's user id"})
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
    sso_id = fields.String(allow_none=True)
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

"""Mail API inputs and outputs: the public subscribe call, and the staff outbox and subscriber lists."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engagement.fields import SLUG, AuthorEmail, Language, Page, UtcTimestamp, listing_schema, target_field
from engagement.models import OutboxStatus


class SubscribeSchema(Schema):
    email = AuthorEmail(required=True)
    target = target_field()
    lang = Language(
        load_default=None, metadata={"description": "The reader's language, for the confirmation"}
    )


class SubscribeAcceptedSchema(Schema):
    status = fields.Constant(
        "accepted", metadata={"description": "Always the same: a confirmation is mailed if one is due"}
    )


class OutboxQuery(Page):
    site = fields.String(load_default=None, validate=SLUG)
    status = fields.String(
        load_default="all", validate=validate.OneOf([*(s.value for s in OutboxStatus), "all"])
    )


class OutboxMessageSchema(Schema):
    id = fields.Integer()
    site = fields.Function(lambda m: m.site.slug if m.site is not None else None)
    to = fields.String(attribute="to_address")
    subject = fields.String()
    template = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = UtcTimestamp()
    last_error = fields.String(allow_none=True)
    message_id = fields.String()
    created_at = UtcTimestamp()
    sent_at = UtcTimestamp(allow_none=True)


OutboxListSchema = listing_schema("OutboxListSchema", OutboxMessageSchema)


class SubscriberFilter(Schema):
    status = fields.String(load_default="confirmed", validate=validate.OneOf(("confirmed", "pending", "all")))
    target = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


class SubscribersQuery(SubscriberFilter, Page):
    pass


class SubscriberSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    target = fields.String()
    confirmed = fields.Function(lambda s: s.confirmed_at is not None)
    confirmed_at = UtcTimestamp(allow_none=True)
    created_at = UtcTimestamp()


SubscriberListSchema = listing_schema("SubscriberListSchema", SubscriberSchema)

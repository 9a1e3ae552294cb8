"""Webhook endpoints as admins send and read them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engagement.clock import isoformat_z
from engagement.fields import UtcTimestamp
from engagement.models.webhooks import WEBHOOK_URL_LENGTH
from engagement.webhooks.service import EVENT_TYPES


class CreateEndpointSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=8, max=WEBHOOK_URL_LENGTH))
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        load_default=list,
        validate=validate.Length(max=len(EVENT_TYPES)),
        metadata={"description": "Event types it receives; empty: every type"},
    )
    description = fields.String(load_default="", validate=validate.Length(max=500))
    enabled = fields.Boolean(load_default=True)


class UpdateEndpointSchema(Schema):
    url = fields.String(validate=validate.Length(min=8, max=WEBHOOK_URL_LENGTH))
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)), validate=validate.Length(max=len(EVENT_TYPES))
    )
    description = fields.String(validate=validate.Length(max=500))
    enabled = fields.Boolean()


class RotateSecretSchema(Schema):
    overlap_hours = fields.Integer(
        load_default=24,
        validate=validate.Range(min=0, max=168),
        metadata={"description": "How long the old secret keeps signing beside the new one (0: not at all)"},
    )


class ReplaySchema(Schema):
    delivery_id = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**53)
    )
    since = UtcTimestamp(
        load_default=None, allow_none=True, metadata={"description": "Replay every delivery created since"}
    )


class DeliveriesQuery(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(("queued", "delivered", "failed")))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class EndpointSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    description = fields.String()
    enabled = fields.Boolean()
    disabled_reason = fields.String(allow_none=True)
    failing_since = fields.Function(lambda e: isoformat_z(e.failing_since), allow_none=True)
    previous_secret_expires_at = fields.Function(lambda e: isoformat_z(e.previous_secret_expires_at))
    created_at = fields.Function(lambda e: isoformat_z(e.created_at))


class EndpointListSchema(Schema):
    items = fields.List(fields.Nested(EndpointSchema))


class EndpointWithSecretSchema(Schema):
    endpoint = fields.Nested(EndpointSchema)
    secret = fields.String(metadata={"description": "whsec_...: shown this once"})


class AttemptSchema(Schema):
    id = fields.Integer()
    delivery_id = fields.Integer()
    attempted_at = fields.Function(lambda a: isoformat_z(a.attempted_at))
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    response_excerpt = fields.String()
    duration_ms = fields.Integer()


class AttemptListSchema(Schema):
    items = fields.List(fields.Nested(AttemptSchema))


class DeliverySchema(Schema):
    id = fields.Integer()
    message_id = fields.String()
    event_type = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.Function(lambda d: isoformat_z(d.next_attempt_at))
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.Function(lambda d: isoformat_z(d.created_at))
    delivered_at = fields.Function(lambda d: isoformat_z(d.delivered_at))


class DeliveryListSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))


class ReplayedSchema(Schema):
    replayed = fields.Integer()

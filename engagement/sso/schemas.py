"""Single sign-on as admins and the widget send and read it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engagement.clock import isoformat_z
from engagement.models import SsoAlgorithm
from engagement.sso.keys import KID, MAX_GRACE
from engagement.sso.tokens import MAX_TOKEN_LENGTH


class AddKeySchema(Schema):
    algorithm = fields.String(
        load_default=SsoAlgorithm.HS256.value,
        validate=validate.OneOf([a.value for a in SsoAlgorithm]),
        metadata={
            "description": "HS256: the service makes a secret (answered once); RS256, EdDSA: send public_key"
        },
    )
    public_key = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=10_000),
        metadata={
            "description": "The site's public key, PEM (RS256: RSA 2,048 bits or more; EdDSA: Ed25519)"
        },
    )
    kid = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(KID.pattern, error="A kid is 1-64 letters, digits, '.', '-' or '_'."),
        metadata={"description": "The key's id, sent as the tokens' kid header; default: one is made"},
    )
    grace_hours = fields.Integer(
        load_default=24,
        validate=validate.Range(min=0, max=int(MAX_GRACE.total_seconds() // 3600)),
        metadata={
            "description": "How long the keys in use until now keep verifying (0: they retire at once)"
        },
    )


class KeySchema(Schema):
    kid = fields.String()
    algorithm = fields.String()
    public_key = fields.String(attribute="public_key_pem", allow_none=True)
    retires_at = fields.Function(
        lambda k: isoformat_z(k.retires_at),
        allow_none=True,
        metadata={"description": "When a rotated key stops verifying; null: in use"},
    )
    created_at = fields.Function(lambda k: isoformat_z(k.created_at))
    created_by = fields.String()


class KeyListSchema(Schema):
    items = fields.List(fields.Nested(KeySchema))


class KeyWithSecretSchema(Schema):
    key = fields.Nested(KeySchema)
    secret = fields.String(
        allow_none=True,
        metadata={"description": "The HS256 secret, answered this once; null for a public key"},
    )


class ExchangeSchema(Schema):
    token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_TOKEN_LENGTH),
        metadata={"description": "The JWT the site's backend signed for its signed-in reader"},
    )


class SsoUserSchema(Schema):
    id = fields.String(metadata={"description": "The site's user id (the token's sub)"})
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    avatar = fields.String(allow_none=True)


class SessionSchema(Schema):
    session = fields.String(metadata={"description": "Send it as X-Engagement-Session with posts and likes"})
    expires_at = fields.String(metadata={"format": "date-time"})
    user = fields.Nested(SsoUserSchema)

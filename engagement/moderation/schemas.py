"""Staff API inputs and outputs."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engagement.database import MAX_ROW_ID
from engagement.fields import (
    SLUG,
    CommentBody,
    Origin,
    Page,
    SiteName,
    ThreadKey,
    ThreadTitle,
    listing_schema,
)
from engagement.sites.schemas import SettingsSchema
from engagement.staff.comment_view import StaffCommentSchema

EDITABLE_STATUSES = ("approved", "pending", "spam", "trash", "restore")
# "reported": approved comments with open readers' reports, most reported first.
QUEUE_STATUSES = ("pending", "approved", "spam", "trash", "deleted", "all", "reported")
BULK_ACTIONS = ("approve", "spam", "trash", "restore", "delete")


class QueueQuery(Page):
    site = fields.String(load_default=None, validate=SLUG)
    status = fields.String(load_default="pending", validate=validate.OneOf(QUEUE_STATUSES))
    thread = ThreadKey(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    email = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    sort = fields.String(load_default="newest", validate=validate.OneOf(("newest", "oldest")))


class UpdateCommentSchema(Schema):
    status = fields.String(validate=validate.OneOf(EDITABLE_STATUSES))
    body = CommentBody()
    pinned = fields.Boolean()
    reason = fields.String(load_default="", validate=validate.Length(max=1000))

    @validates_schema
    def something_to_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not {"status", "body", "pinned"} & set(data):
            raise ValidationError("Give at least one of status, body or pinned.", "_schema")


class BulkSchema(Schema):
    ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ROW_ID)),
        required=True,
        validate=validate.Length(min=1, max=5000),
    )
    action = fields.String(required=True, validate=validate.OneOf(BULK_ACTIONS))
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class ReasonSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class BanQuery(Page):
    site = fields.String(load_default=None, validate=SLUG)


class CreateBanSchema(Schema):
    site = fields.String(required=True, validate=SLUG)
    kind = fields.String(
        required=True,
        validate=validate.OneOf(("email", "ip", "domain", "word", "sso")),
        metadata={"description": "sso: a signed-in reader's user id on the site (the token's sub)"},
    )
    value = fields.String(required=True, validate=validate.Length(min=1, max=255))
    action = fields.String(load_default="spam", validate=validate.OneOf(("spam", "moderate")))
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class BanAuthorSchema(Schema):
    kinds = fields.List(
        fields.String(validate=validate.OneOf(("email", "ip", "sso"))),
        load_default=lambda: ["email"],
        validate=validate.Length(min=1),
    )
    action = fields.String(load_default="spam", validate=validate.OneOf(("spam", "moderate")))
    trash_existing = fields.Boolean(load_default=False)
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class ThreadsQuery(Page):
    sort = fields.String(load_default="recent", validate=validate.OneOf(("recent", "most_comments")))
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=200))


class ThreadKeyQuery(Schema):
    key = ThreadKey(required=True)


class UpdateThreadSchema(Schema):
    closed = fields.Boolean()
    title = ThreadTitle()


class CreateSiteSchema(SettingsSchema):
    slug = fields.String(required=True, validate=SLUG)
    name = SiteName(required=True)
    origins = fields.List(Origin(), load_default=list, validate=validate.Length(max=50))


class UpdateSiteSchema(SettingsSchema):
    name = SiteName()
    origins = fields.List(Origin(), validate=validate.Length(max=50))


class CreateTokenSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(("admin", "moderator")))
    sites = fields.List(fields.String(validate=SLUG), load_default=list)
    label = fields.String(required=True, validate=validate.Length(min=1, max=200))

    @validates_schema
    def moderators_need_sites(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("role") == "moderator" and not data.get("sites"):
            raise ValidationError("A moderator token needs at least one site.", "sites")


class AuditQuery(Page):
    site = fields.String(load_default=None, validate=SLUG)
    actor = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    comment_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ROW_ID))


# --- output shapes -------------------------------------------------------------------------------------


CommentListSchema = listing_schema("CommentListSchema", StaffCommentSchema)


class BulkResultSchema(Schema):
    updated = fields.List(fields.Integer())
    failed = fields.Dict(keys=fields.String(), values=fields.String())


class SiteSummarySchema(Schema):
    site = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    oldest_pending_at = fields.String(allow_none=True)


class SummarySchema(Schema):
    sites = fields.List(fields.Nested(SiteSummarySchema))


class BanSchema(Schema):
    id = fields.Integer()
    site = fields.String()
    kind = fields.String()
    value = fields.String()
    action = fields.String()
    expires_at = fields.String(allow_none=True)
    note = fields.String()
    created_by = fields.String()
    created_at = fields.String()


BanListSchema = listing_schema("BanListSchema", BanSchema)


class BanAuthorResultSchema(Schema):
    bans = fields.List(fields.Nested(BanSchema))
    trashed = fields.List(fields.Integer())


class StaffThreadSchema(Schema):
    key = fields.String()
    title = fields.String()
    url = fields.String()
    closed = fields.Boolean()
    comment_count = fields.Integer()
    created_at = fields.String()
    last_comment_at = fields.String(allow_none=True)


ThreadListSchema = listing_schema("ThreadListSchema", StaffThreadSchema)


class SiteSchema(Schema):
    slug = fields.String()
    name = fields.String()
    origins = fields.List(fields.String())
    settings = fields.Dict()
    akismet_key_set = fields.Boolean()  # the key itself is never answered
    created_at = fields.String()


SiteListSchema = listing_schema("SiteListSchema", SiteSchema)


class TokenSchema(Schema):
    id = fields.Integer()
    label = fields.String()
    role = fields.String()
    sites = fields.List(fields.String())
    prefix = fields.String()
    created_at = fields.String()
    last_used_at = fields.String(allow_none=True)
    revoked_at = fields.String(allow_none=True)


TokenListSchema = listing_schema("TokenListSchema", TokenSchema)


class CreatedTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "The secret; shown this once"})


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.String()
    site = fields.String(allow_none=True)
    actor = fields.String()
    action = fields.String()
    comment_id = fields.Integer(allow_none=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    reason = fields.String()
    details = fields.Dict()


AuditListSchema = listing_schema("AuditListSchema", AuditEntrySchema)

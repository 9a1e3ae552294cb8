"""Staff API inputs and outputs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engagement.comments.schemas import CommentBody, ThreadKey, ThreadTitle
from engagement.database import MAX_ROW_ID
from engagement.sites.service import SLUG_PATTERN

EDITABLE_STATUSES = ("approved", "pending", "spam", "trash", "restore")
QUEUE_STATUSES = ("pending", "approved", "spam", "trash", "deleted", "all")
BULK_ACTIONS = ("approve", "spam", "trash", "restore", "delete")
SLUG = validate.Regexp(SLUG_PATTERN, error="Use 1-64 lowercase letters, digits and dashes.")


class Origin(fields.String):
    """``scheme://host[:port]`` of a page allowed to embed the widget."""

    default_error_messages = {"invalid_origin": "Give an origin such as https://news.example (no path)."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        origin = super()._deserialize(value, attr, data, **kwargs).strip().rstrip("/")
        try:
            parts = urlsplit(origin)
            parts.port  # noqa: B018 (raises on a malformed port)
        except ValueError:
            raise self.make_error("invalid_origin") from None
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path or parts.query:
            raise self.make_error("invalid_origin")
        return origin


class Page(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


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
    kind = fields.String(required=True, validate=validate.OneOf(("email", "ip", "domain", "word")))
    value = fields.String(required=True, validate=validate.Length(min=1, max=255))
    action = fields.String(load_default="spam", validate=validate.OneOf(("spam", "moderate")))
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class BanAuthorSchema(Schema):
    kinds = fields.List(
        fields.String(validate=validate.OneOf(("email", "ip"))),
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


class SettingsSchema(Schema):
    """Per-site rules; every field optional on update, each range a newsroom could sensibly want."""

    moderation = fields.String(validate=validate.OneOf(("none", "all", "first_time")))
    max_links = fields.Integer(validate=validate.Range(min=0, max=100))
    max_depth = fields.Integer(validate=validate.Range(min=1, max=10))
    edit_window_seconds = fields.Integer(validate=validate.Range(min=0, max=7 * 24 * 3600))
    close_after_days = fields.Integer(validate=validate.Range(min=0, max=36500))
    max_body_length = fields.Integer(validate=validate.Range(min=100, max=60_000))
    flood_seconds = fields.Integer(validate=validate.Range(min=0, max=3600))
    moderation_words = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=1000)
    )
    disallowed_words = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=1000)
    )
    notify_emails = fields.List(fields.Email(), validate=validate.Length(max=50))
    stale_after_hours = fields.Integer(validate=validate.Range(min=1, max=24 * 365))
    max_drop_share = fields.Float(validate=validate.Range(min=0, max=1))


class CreateSiteSchema(SettingsSchema):
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    origins = fields.List(Origin(), load_default=list, validate=validate.Length(max=50))


class UpdateSiteSchema(SettingsSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
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


class CommentListSchema(Schema):
    items = fields.List(fields.Nested(StaffCommentSchema))
    next_cursor = fields.String(allow_none=True)


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


class BanListSchema(Schema):
    items = fields.List(fields.Nested(BanSchema))
    next_cursor = fields.String(allow_none=True)


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


class ThreadListSchema(Schema):
    items = fields.List(fields.Nested(StaffThreadSchema))
    next_cursor = fields.String(allow_none=True)


class SiteSchema(Schema):
    slug = fields.String()
    name = fields.String()
    origins = fields.List(fields.String())
    settings = fields.Dict()
    created_at = fields.String()


class SiteListSchema(Schema):
    items = fields.List(fields.Nested(SiteSchema))
    next_cursor = fields.String(allow_none=True)


class TokenSchema(Schema):
    id = fields.Integer()
    label = fields.String()
    role = fields.String()
    sites = fields.List(fields.String())
    prefix = fields.String()
    created_at = fields.String()
    last_used_at = fields.String(allow_none=True)
    revoked_at = fields.String(allow_none=True)


class TokenListSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema))
    next_cursor = fields.String(allow_none=True)


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


class AuditListSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema))
    next_cursor = fields.String(allow_none=True)

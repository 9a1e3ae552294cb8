"""Comment input validation and output shapes. Every message here is shown to a reader next to a field."""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from engagement.comments.drafts import NewComment
from engagement.database import MAX_ROW_ID
from engagement.fields import (
    AuthorEmail,
    AuthorName,
    CommentBody,
    Language,
    ThreadKey,
    ThreadKeys,
    ThreadTitle,
    WebUrl,
)
from engagement.readers import session_header

MAX_THREADS_PER_COUNT = 100


class PostCommentSchema(Schema):
    thread = ThreadKey(required=True)
    thread_url = WebUrl(max_length=1000, load_default=None, allow_none=True)
    thread_title = ThreadTitle(load_default="")
    parent_id = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=MAX_ROW_ID)
    )
    # Required of guests; a signed-in reader (X-Engagement-Session) is named by their session.
    author_name = AuthorName(load_default=None, metadata={"description": "Required unless signed in"})
    author_email = AuthorEmail(load_default=None, metadata={"description": "Required unless signed in"})
    author_url = WebUrl(max_length=200, load_default=None, allow_none=True)
    body = CommentBody(required=True)
    hp = fields.String(load_default="", metadata={"description": "Honeypot: must stay empty"})
    notify_replies = fields.Boolean(
        load_default=False, metadata={"description": "Email me replies to my comments in this thread"}
    )
    lang = Language(
        load_default=None, metadata={"description": "The reader's language (BCP 47), for the mail they get"}
    )

    @validates_schema(skip_on_field_errors=False)
    def guests_name_themselves(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if has_request_context() and session_header() is not None:
            return  # signed in: the session names the reader (posting checks the session itself)
        # Absent, they load as None; sent but invalid, they are not in ``data`` (their field said why).
        missing = {
            name: [self.fields[name].error_messages["required"]]
            for name in ("author_name", "author_email")
            if name in data and data[name] is None
        }
        if missing:
            raise ValidationError(missing)

    @post_load
    def new_comment(self, data: dict[str, Any], **_kwargs: Any) -> NewComment:
        data["thread_key"] = data.pop("thread")
        data["honeypot"] = data.pop("hp")
        data["language"] = data.pop("lang")
        return NewComment(**data)


class EditCommentSchema(Schema):
    body = CommentBody(required=True)


SORTS = ("oldest", "newest", "top")


class ListCommentsQuery(Schema):
    thread = ThreadKey(required=True)
    sort = fields.String(load_default="oldest", validate=validate.OneOf(SORTS))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class CountHtmlQuery(Schema):
    thread = ThreadKey(required=True)
    lang = Language(load_default=None, metadata={"description": "The page's language; default: the site's"})
    url = WebUrl(
        max_length=1000, load_default=None, metadata={"description": "The article's address (the link's)"}
    )


class ThreadHtmlQuery(CountHtmlQuery):
    title = ThreadTitle(load_default="", metadata={"description": "The article's title, for a new thread"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ListRepliesQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "A page's replies_cursor or a replies page's next_cursor; none: the first"},
    )


class CountsQuery(Schema):
    thread = ThreadKeys(
        required=True,
        validate=validate.Length(min=1, max=MAX_THREADS_PER_COUNT),
    )


class FeedQuery(Schema):
    thread = ThreadKey(load_default=None)


# --- output shapes -------------------------------------------------------------------------------------


class AuthorSchema(Schema):
    name = fields.String(required=True)
    url = fields.String(allow_none=True)
    avatar = fields.String(allow_none=True, metadata={"description": "Path of the avatar on this service"})
    signed_in = fields.Boolean(
        metadata={"description": "Posted by a reader signed in through the site's single sign-on"}
    )


class FlatCommentSchema(Schema):
    """One comment without its replies (an item of a replies page)."""

    id = fields.Integer(required=True)
    parent_id = fields.Integer(allow_none=True)
    depth = fields.Integer()
    author = fields.Nested(AuthorSchema)
    html = fields.String(metadata={"description": "Sanitized HTML, safe to insert as is"})
    created_at = fields.String(metadata={"format": "date-time"})
    edited_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    likes = fields.Integer()
    status = fields.String(validate=validate.OneOf(["approved", "pending", "deleted"]))


class CommentSchema(FlatCommentSchema):
    replies = fields.List(fields.Nested(lambda: CommentSchema()))


class TopLevelCommentSchema(CommentSchema):
    """A top-level comment in a page: its first replies nested, and how to get the others."""

    reply_count = fields.Integer(
        metadata={"description": "Its visible replies at any depth, in this page or not"}
    )
    more_replies = fields.Boolean(
        metadata={"description": "Whether replies are left out of this page (GET .../comments/{id}/replies)"}
    )
    replies_cursor = fields.String(
        allow_none=True,
        metadata={
            "description": "The cursor of GET .../comments/{id}/replies for the replies left out; "
            "null when none is left out, or none is in the page (ask without a cursor)"
        },
    )


class ThreadSummarySchema(Schema):
    key = fields.String()
    title = fields.String()
    url = fields.String()
    comment_count = fields.Integer()
    closed = fields.Boolean()


class PublicSettingsSchema(Schema):
    max_depth = fields.Integer()
    max_body_length = fields.Integer()
    edit_window_seconds = fields.Integer()
    live_interval_seconds = fields.Integer(
        metadata={"description": "How often the widget revalidates a visible thread's first page; 0: never"}
    )
    sso_required = fields.Boolean(metadata={"description": "Guests cannot comment: they must sign in"})
    sso_login_url = fields.String(allow_none=True, metadata={"description": "The site's sign-in page"})


class CommentPageSchema(Schema):
    thread = fields.Nested(ThreadSummarySchema)
    settings = fields.Nested(PublicSettingsSchema)
    comments = fields.List(
        fields.Nested(TopLevelCommentSchema),
        metadata={"description": "Top-level comments, each with its first replies (10 at most, 250 a page)"},
    )
    next_cursor = fields.String(allow_none=True)


class RepliesPageSchema(Schema):
    replies = fields.List(
        fields.Nested(FlatCommentSchema),
        metadata={"description": "Replies at any depth in creation order, each naming its parent"},
    )
    next_cursor = fields.String(allow_none=True)


class PostedCommentSchema(Schema):
    comment = fields.Nested(CommentSchema)
    status = fields.String(validate=validate.OneOf(["approved", "pending"]))
    edit_token = fields.String()
    edit_expires_at = fields.String(metadata={"format": "date-time"})


class EditedCommentSchema(Schema):
    comment = fields.Nested(CommentSchema)
    status = fields.String(
        validate=validate.OneOf(["approved", "pending"]),
        metadata={"description": "pending: the edit sent it back to moderation"},
    )


class LikesSchema(Schema):
    likes = fields.Integer()
    liked = fields.Boolean()


class CountsSchema(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())

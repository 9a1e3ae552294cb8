"""Public comment endpoints under /api/v1/sites/<site>: what the widget on every article page talks to."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from engagement.api import EDIT_SECURITY, alt_response, arguments, doc, response
from engagement.clock import isoformat_z
from engagement.comments import reading, service
from engagement.comments.avatars import identicon_svg
from engagement.comments.drafts import REFERRER_LENGTH, Client, NewComment
from engagement.comments.schemas import (
    CommentPageSchema,
    CountsQuery,
    CountsSchema,
    EditCommentSchema,
    EditedCommentSchema,
    FeedQuery,
    LikesSchema,
    ListCommentsQuery,
    ListRepliesQuery,
    PostCommentSchema,
    PostedCommentSchema,
    RepliesPageSchema,
)
from engagement.config import public_base_url
from engagement.cors import current_site, enable_site_cors
from engagement.errors import NotFound
from engagement.extensions import rate_limit
from engagement.http import client_has, conditional
from engagement.readers import READER_HEADER, required_reader

bp = Blueprint("comments", __name__, url_prefix="/api/v1/sites/<site>")
enable_site_cors(bp)

TAGS = ["comments"]
_READER_DOC = {READER_HEADER: "Random reader id kept by the widget"}


@bp.get("/comments")
@rate_limit("RATELIMIT_READ")
@doc("A page of a thread's comments, replies nested", tags=TAGS, errors=(404,))
@arguments(ListCommentsQuery, location="query")
@response(200, CommentPageSchema)
@alt_response(304)
def list_comments(args: dict[str, Any], site: str) -> Response:
    page = reading.read_page(
        site=current_site(),
        thread_key=args["thread"],
        sort=args["sort"],
        limit=args["limit"],
        cursor=args["cursor"],
    )
    return _revalidated(page)


@bp.get("/comments/<int:comment_id>/replies")
@rate_limit("RATELIMIT_READ")
@doc("The replies of a top-level comment in creation order, flat, a page at a time", tags=TAGS, errors=(404,))
@arguments(ListRepliesQuery, location="query")
@response(200, RepliesPageSchema)
@alt_response(304)
def list_replies(args: dict[str, Any], site: str, comment_id: int) -> Response:
    page = reading.read_replies(
        site=current_site(),
        comment_id=comment_id,
        limit=args["limit"],
        cursor=args["cursor"],
        client_has=client_has,
    )
    return _revalidated(page)


def _revalidated(page: reading.PageResult, *, mimetype: str = "application/json") -> Response:
    """Every answer about a thread's comments (pages, replies, counts, the feed): a shared cache (a CDN,
    nginx) may keep it but must revalidate it, so a new comment shows at once; a 304 costs it little."""
    return conditional(page.etag, page.body, mimetype=mimetype, cache_control="public, no-cache")


@bp.post("/comments")
@rate_limit("RATELIMIT_POST_COMMENT")
@doc("Post a comment or a reply (201 approved, 202 held for moderation)", tags=TAGS, errors=(403, 404, 409))
@arguments(PostCommentSchema)
@response(201, PostedCommentSchema)
@alt_response(202, PostedCommentSchema)
def post_comment(draft: NewComment, site: str) -> tuple[dict[str, Any], int]:
    posted = service.post_comment(
        site=current_site(),
        draft=draft,
        client=Client(
            ip=request.remote_addr,
            user_agent=request.user_agent.string,
            referrer=(request.referrer or "")[:REFERRER_LENGTH],
        ),
    )
    answer = {
        "comment": posted.public,
        "status": posted.status,
        "edit_token": posted.edit_token,
        "edit_expires_at": isoformat_z(posted.edit_expires_at),
    }
    return answer, 201 if posted.status == "approved" else 202


@bp.patch("/comments/<int:comment_id>")
@rate_limit("RATELIMIT_POST_COMMENT")
@doc("Edit your own comment within the edit window", tags=TAGS, security=EDIT_SECURITY, errors=(403, 404))
@arguments(EditCommentSchema)
@response(200, EditedCommentSchema)
def edit_comment(edit: dict[str, Any], site: str, comment_id: int) -> dict[str, Any]:
    public, shown = service.edit_comment(
        site=current_site(),
        comment_id=comment_id,
        authorization=request.headers.get("Authorization"),
        body=edit["body"],
        ip=request.remote_addr,
    )
    return {"comment": public, "status": shown}


@bp.delete("/comments/<int:comment_id>")
@rate_limit("RATELIMIT_POST_COMMENT")
@doc("Delete your own comment within the edit window", tags=TAGS, security=EDIT_SECURITY, errors=(403, 404))
@response(204)
def delete_comment(site: str, comment_id: int) -> None:
    service.delete_comment(
        site=current_site(), comment_id=comment_id, authorization=request.headers.get("Authorization")
    )


@bp.post("/comments/<int:comment_id>/likes")
@rate_limit("RATELIMIT_REACTION")
@doc("Like a comment (once per reader)", tags=TAGS, headers=_READER_DOC, errors=(400, 404))
@response(200, LikesSchema)
def like_comment(site: str, comment_id: int) -> dict[str, Any]:
    return _set_like(comment_id, liked=True)


@bp.delete("/comments/<int:comment_id>/likes")
@rate_limit("RATELIMIT_REACTION")
@doc("Take back a like", tags=TAGS, headers=_READER_DOC, errors=(400, 404))
@response(200, LikesSchema)
def unlike_comment(site: str, comment_id: int) -> dict[str, Any]:
    return _set_like(comment_id, liked=False)


def _set_like(comment_id: int, *, liked: bool) -> dict[str, Any]:
    likes, liked = service.set_like(
        site=current_site(), comment_id=comment_id, reader=required_reader(), liked=liked
    )
    return {"likes": likes, "liked": liked}


@bp.get("/counts")
@rate_limit("RATELIMIT_READ")
@doc("Comment counts of up to 100 threads", tags=TAGS)
@arguments(CountsQuery, location="query")
@response(200, CountsSchema)
@alt_response(304)
def comment_counts(args: dict[str, Any], site: str) -> Response:
    answer = reading.counts_answer(
        site=current_site(), query=request.query_string, thread_keys=args["thread"]
    )
    return _revalidated(answer)


@bp.get("/feed.atom")
@rate_limit("RATELIMIT_READ")
@doc("Atom feed of the newest approved comments", tags=TAGS)
@arguments(FeedQuery, location="query")
@response(200, "application/atom+xml")
@alt_response(304)
def comment_feed(args: dict[str, Any], site: str) -> Response:
    feed = reading.atom_feed(site=current_site(), thread_key=args["thread"], base_url=public_base_url())
    return _revalidated(
        reading.PageResult(etag=reading.content_etag(feed), body=feed), mimetype="application/atom+xml"
    )


@bp.get("/avatars/<digest>.svg")
@doc("Identicon for a commenter", tags=TAGS, errors=(404,))
@response(200, "image/svg+xml")
def avatar(site: str, digest: str) -> Response:
    current_site()
    try:
        svg = identicon_svg(digest)
    except ValueError:
        raise NotFound("avatar_not_found", "There is no such avatar.") from None
    answer = Response(svg, mimetype="image/svg+xml")
    answer.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return answer

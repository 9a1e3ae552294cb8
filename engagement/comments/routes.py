"""Public comment endpoints under /api/v1/sites/<site>: what the widget on every article page talks to."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from engagement.clock import isoformat_z
from engagement.comments import reading, service
from engagement.comments.avatars import identicon_svg
from engagement.comments.drafts import Client
from engagement.comments.schemas import (
    CommentPageSchema,
    CommentSchema,
    CountsQuery,
    CountsSchema,
    EditCommentSchema,
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
from engagement.http import load_body, load_query
from engagement.openapi import EDIT_SECURITY, documented
from engagement.readers import READER_HEADER, required_reader

bp = Blueprint("comments", __name__, url_prefix="/api/v1/sites/<site>")
enable_site_cors(bp)

TAGS = ["comments"]
_posted = PostedCommentSchema()
_comment = CommentSchema()


@bp.get("/comments")
@rate_limit("RATELIMIT_READ")
@documented(
    "A page of a thread's comments, replies nested",
    tags=TAGS,
    query=ListCommentsQuery,
    responses={200: CommentPageSchema, 304: None},
    errors=(404, 422),
)
def list_comments(site: str) -> Response:
    args = load_query(ListCommentsQuery)
    page = reading.read_page(
        site=current_site(),
        thread_key=args["thread"],
        sort=args["sort"],
        limit=args["limit"],
        cursor=args["cursor"],
        if_none_match=_if_none_match(),
    )
    return _revalidated(page)


@bp.get("/comments/<int:comment_id>/replies")
@rate_limit("RATELIMIT_READ")
@documented(
    "The replies of a top-level comment in creation order, flat, a page at a time",
    tags=TAGS,
    query=ListRepliesQuery,
    responses={200: RepliesPageSchema, 304: None},
    errors=(404, 422),
)
def list_replies(site: str, comment_id: int) -> Response:
    args = load_query(ListRepliesQuery)
    page = reading.read_replies(
        site=current_site(),
        comment_id=comment_id,
        limit=args["limit"],
        cursor=args["cursor"],
        if_none_match=_if_none_match(),
    )
    return _revalidated(page)


def _if_none_match() -> list[str]:
    return [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",") if tag.strip()]


def _revalidated(page: reading.PageResult, *, mimetype: str = "application/json") -> Response:
    """Every answer about a thread's comments (pages, replies, counts, the feed): a shared cache (a CDN,
    nginx) may keep it but must revalidate it, so a new comment shows at once; a 304 costs it little."""
    response = Response(status=304) if page.body is None else Response(page.body, mimetype=mimetype)
    response.headers["ETag"] = page.etag
    response.headers["Cache-Control"] = "public, no-cache"
    return response


@bp.post("/comments")
@rate_limit("RATELIMIT_POST_COMMENT")
@documented(
    "Post a comment or a reply (201 approved, 202 held for moderation)",
    tags=TAGS,
    body=PostCommentSchema,
    responses={201: PostedCommentSchema, 202: PostedCommentSchema},
    errors=(403, 404, 409),
)
def post_comment(site: str) -> tuple[Response, int]:
    posted = service.post_comment(
        site=current_site(),
        draft=load_body(PostCommentSchema),
        client=Client(ip=request.remote_addr, user_agent=request.user_agent.string),
    )
    body = _posted.dump(
        {
            "comment": posted.public,
            "status": posted.status,
            "edit_token": posted.edit_token,
            "edit_expires_at": isoformat_z(posted.edit_expires_at),
        }
    )
    return jsonify(body), 201 if posted.status == "approved" else 202


@bp.patch("/comments/<int:comment_id>")
@rate_limit("RATELIMIT_POST_COMMENT")
@documented(
    "Edit your own comment within the edit window",
    tags=TAGS,
    body=EditCommentSchema,
    responses={200: PostedCommentSchema},
    security=EDIT_SECURITY,
    errors=(403, 404),
)
def edit_comment(site: str, comment_id: int) -> Response:
    data = load_body(EditCommentSchema)
    site_obj = current_site()
    public, shown = service.edit_comment(
        site=site_obj,
        comment_id=comment_id,
        authorization=request.headers.get("Authorization"),
        body=data["body"],
        ip=request.remote_addr,
    )
    return jsonify(comment=_comment.dump(public), status=shown)


@bp.delete("/comments/<int:comment_id>")
@rate_limit("RATELIMIT_POST_COMMENT")
@documented(
    "Delete your own comment within the edit window",
    tags=TAGS,
    responses={204: None},
    security=EDIT_SECURITY,
    errors=(403, 404),
)
def delete_comment(site: str, comment_id: int) -> tuple[str, int]:
    service.delete_comment(
        site=current_site(), comment_id=comment_id, authorization=request.headers.get("Authorization")
    )
    return "", 204


@bp.post("/comments/<int:comment_id>/likes")
@rate_limit("RATELIMIT_REACTION")
@documented(
    "Like a comment (once per reader)",
    tags=TAGS,
    responses={200: LikesSchema},
    headers={READER_HEADER: "Random reader id kept by the widget"},
    errors=(400, 404),
)
def like_comment(site: str, comment_id: int) -> Response:
    likes, liked = service.set_like(
        site=current_site(), comment_id=comment_id, reader=required_reader(), liked=True
    )
    return jsonify(likes=likes, liked=liked)


@bp.delete("/comments/<int:comment_id>/likes")
@rate_limit("RATELIMIT_REACTION")
@documented(
    "Take back a like",
    tags=TAGS,
    responses={200: LikesSchema},
    headers={READER_HEADER: "Random reader id kept by the widget"},
    errors=(400, 404),
)
def unlike_comment(site: str, comment_id: int) -> Response:
    likes, liked = service.set_like(
        site=current_site(), comment_id=comment_id, reader=required_reader(), liked=False
    )
    return jsonify(likes=likes, liked=liked)


@bp.get("/counts")
@rate_limit("RATELIMIT_READ")
@documented(
    "Comment counts of up to 100 threads",
    tags=TAGS,
    query=CountsQuery,
    responses={200: CountsSchema, 304: None},
)
def comment_counts(site: str) -> Response:
    answer = reading.counts_answer(
        site=current_site(),
        query=request.query_string,
        thread_keys=lambda: load_query(CountsQuery)["thread"],
        if_none_match=_if_none_match(),
    )
    return _revalidated(answer)


@bp.get("/feed.atom")
@rate_limit("RATELIMIT_READ")
@documented(
    "Atom feed of the newest approved comments",
    tags=TAGS,
    query=FeedQuery,
    responses={200: "application/atom+xml", 304: None},
)
def comment_feed(site: str) -> Response:
    args = load_query(FeedQuery)
    feed = reading.atom_feed(site=current_site(), thread_key=args["thread"], base_url=public_base_url())
    etag = reading.content_etag(feed)
    answer = reading.PageResult(etag=etag, body=None if etag in _if_none_match() else feed)
    return _revalidated(answer, mimetype="application/atom+xml")


@bp.get("/avatars/<digest>.svg")
@documented("Identicon for a commenter", tags=TAGS, responses={200: "image/svg+xml"}, errors=(404,))
def avatar(site: str, digest: str) -> Response:
    current_site()
    try:
        svg = identicon_svg(digest)
    except ValueError:
        raise NotFound("avatar_not_found", "There is no such avatar.") from None
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response

"""Public comment endpoints under /api/v1/sites/<site>: what the widget on every article page talks to."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from engagement.api import EDIT_SECURITY, alt_response, arguments, doc, response
from engagement.clock import isoformat_z
from engagement.comments import fragments, nojs, reading, service
from engagement.comments.avatars import identicon_svg
from engagement.comments.drafts import REFERRER_LENGTH, Client, NewComment
from engagement.comments.schemas import (
    CommentPageSchema,
    CountHtmlQuery,
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
    ThreadHtmlQuery,
)
from engagement.config import public_base_url
from engagement.cors import current_site, enable_site_cors
from engagement.errors import ApiError, NotFound, refusal_of
from engagement.extensions import rate_limit
from engagement.fragments import fragment_etag, fragment_response
from engagement.hashing import reader_hash
from engagement.http import client_has, conditional, is_form_post
from engagement.readers import READER_HEADER, SESSION_HEADER, required_reader
from engagement.sso.sessions import current_session

bp = Blueprint("comments", __name__, url_prefix="/api/v1/sites/<site>")
enable_site_cors(bp)

TAGS = ["comments"]
_SESSION_DOC = {SESSION_HEADER: "A signed-in reader's session (single sign-on): acts as their account"}
_READER_DOC = {READER_HEADER: "Random reader id kept by the widget", **_SESSION_DOC}


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
    return conditional(
        page.etag, page.body, mimetype=mimetype, cache_control="public, no-cache", compressed=page.compressed
    )


@bp.post("/comments")
@rate_limit("RATELIMIT_POST_COMMENT")
@doc(
    "Post a comment or a reply (201 approved, 202 held for moderation); as an HTML form (no JavaScript), "
    "303 back to the comment on the article, or a page with the form and its errors",
    tags=TAGS,
    headers=_SESSION_DOC,
    errors=(401, 403, 404, 409),
)
@arguments(PostCommentSchema, location="json_or_form")
@response(201, PostedCommentSchema)
@alt_response(202, PostedCommentSchema)
@alt_response(303, description="Form posted: back to {thread_url}#comment-{id} (or #comment-pending)")
def post_comment(draft: NewComment, site: str) -> tuple[dict[str, Any], int] | Response:
    form_origin = nojs.page_origin(current_site()) if is_form_post() else None  # checked before too
    posted = service.post_comment(
        site=current_site(),
        draft=draft,
        session=current_session(current_site()),
        client=Client(
            ip=request.remote_addr,
            user_agent=request.user_agent.string,
            referrer=(request.referrer or "")[:REFERRER_LENGTH],
        ),
    )
    if form_origin is not None:
        return nojs.answer_posted(posted, thread_url=draft.thread_url, origin=form_origin)
    answer = {
        "comment": posted.public,
        "status": posted.status,
        "edit_token": posted.edit_token,
        "edit_expires_at": isoformat_z(posted.edit_expires_at),
    }
    return answer, 201 if posted.status == "approved" else 202


@bp.before_request
def only_the_sites_pages_post_forms() -> None:
    """A plain form post is refused before its body is read unless it came from one of the site's pages:
    such a post is a request any page could make in a reader's name."""
    if is_form_post() and request.endpoint == "comments.post_comment":
        nojs.page_origin(current_site())


@bp.errorhandler(ApiError)
@bp.errorhandler(ValidationError)
@bp.errorhandler(HTTPException)
def refused(error: ApiError | ValidationError | HTTPException) -> Response | HTTPException:
    """A refused form post gets a page with its form back; everything else the API's JSON error."""
    if is_form_post() and request.endpoint == "comments.post_comment":
        return nojs.answer_refused(refusal_of(error))
    return refusal_of(error).as_json()


@bp.get("/comments.html")
@rate_limit("RATELIMIT_READ")
@doc(
    "A thread's first page as an HTML fragment for the article's own page: the widget's markup, no script, "
    "the comment form working without JavaScript",
    tags=TAGS,
    errors=(404,),
)
@arguments(ThreadHtmlQuery, location="query")
@response(200, "text/html")
@alt_response(304)
def thread_html(args: dict[str, Any], site: str) -> Response:
    snapshot = current_site()
    fragment = fragments.thread_fragment(
        site=snapshot,
        thread_key=args["thread"],
        language=args["lang"] or snapshot.settings.language,
        url=args["url"],
        title=args["title"],
        limit=args["limit"],
        action=f"{public_base_url()}{url_for('comments.post_comment', site=snapshot.slug)}",
        api_origin=public_base_url(),
    )
    return fragment_response(fragment.etag, fragment.render)


@bp.get("/count.html")
@rate_limit("RATELIMIT_READ")
@doc("A thread's comment count as an HTML link for article lists (no script)", tags=TAGS)
@arguments(CountHtmlQuery, location="query")
@response(200, "text/html")
@alt_response(304)
def count_html(args: dict[str, Any], site: str) -> Response:
    snapshot = current_site()
    key, language = args["thread"], args["lang"] or snapshot.settings.language
    state = reading.thread_states(snapshot, [key])[key]
    count = state.comment_count if state else 0
    etag = fragment_etag("count", snapshot.id, snapshot.slug, key, count, language, args["url"])
    return fragment_response(
        etag,
        lambda: fragments.count_fragment(
            site=snapshot, thread_key=key, language=language, url=args["url"], count=count
        ),
    )


@bp.patch("/comments/<int:comment_id>")
@rate_limit("RATELIMIT_POST_COMMENT")
@doc(
    "Edit your own comment within the edit window (its edit token, or its author's session)",
    tags=TAGS,
    security=EDIT_SECURITY,
    headers=_SESSION_DOC,
    errors=(401, 403, 404),
)
@arguments(EditCommentSchema)
@response(200, EditedCommentSchema)
def edit_comment(edit: dict[str, Any], site: str, comment_id: int) -> dict[str, Any]:
    public, shown = service.edit_comment(
        site=current_site(),
        comment_id=comment_id,
        authorization=request.headers.get("Authorization"),
        session=current_session(current_site()),
        body=edit["body"],
        ip=request.remote_addr,
    )
    return {"comment": public, "status": shown}


@bp.delete("/comments/<int:comment_id>")
@rate_limit("RATELIMIT_POST_COMMENT")
@doc(
    "Delete your own comment within the edit window (its edit token, or its author's session)",
    tags=TAGS,
    security=EDIT_SECURITY,
    headers=_SESSION_DOC,
    errors=(401, 403, 404),
)
@response(204)
def delete_comment(site: str, comment_id: int) -> None:
    service.delete_comment(
        site=current_site(),
        comment_id=comment_id,
        authorization=request.headers.get("Authorization"),
        session=current_session(current_site()),
    )


@bp.post("/comments/<int:comment_id>/likes")
@rate_limit("RATELIMIT_REACTION")
@doc("Like a comment (once per reader)", tags=TAGS, headers=_READER_DOC, errors=(400, 401, 404))
@response(200, LikesSchema)
def like_comment(site: str, comment_id: int) -> dict[str, Any]:
    return _set_like(comment_id, liked=True)


@bp.delete("/comments/<int:comment_id>/likes")
@rate_limit("RATELIMIT_REACTION")
@doc("Take back a like", tags=TAGS, headers=_READER_DOC, errors=(400, 401, 404))
@response(200, LikesSchema)
def unlike_comment(site: str, comment_id: int) -> dict[str, Any]:
    return _set_like(comment_id, liked=False)


def _set_like(comment_id: int, *, liked: bool) -> dict[str, Any]:
    site = current_site()
    session = current_session(site)
    # A signed-in reader likes as their account (the same on every device); a guest as the widget's id.
    reader = reader_hash(f"sso:{site.id}:{session.sub}") if session else required_reader()
    likes, liked = service.set_like(site=site, comment_id=comment_id, reader=reader, liked=liked)
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


@bp.post("/counts")
@rate_limit("RATELIMIT_READ")
@doc(
    'Comment counts of up to 100 threads named in a JSON body ({"thread": [keys]}): GET /counts for key '
    "lists too long for a URL (a request line stops at 4,094 bytes: 100 keys of 44 characters pass it)",
    tags=TAGS,
)
@arguments(CountsQuery)
@response(200, CountsSchema)
@alt_response(304)
def comment_counts_posted(args: dict[str, Any], site: str) -> Response:
    # The answer is cached per body as GET's is per query string (a list page repeats its request).
    answer = reading.counts_answer(
        site=current_site(), query=b"POST " + request.get_data(), thread_keys=args["thread"]
    )
    response = _revalidated(answer)
    response.headers["Cache-Control"] = "private, no-cache"  # no shared cache keys a POST by its body
    return response


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

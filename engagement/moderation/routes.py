"""Staff moderation API under /api/v1/moderation. Every route needs a staff bearer token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from engagement.errors import ApiError
from engagement.http import load_body, load_query
from engagement.mailer.pages import LINK_PAGE_RESPONSES, MAIL_LINK_PAGE, link_page, serve_link_pages
from engagement.moderation import (
    alerts,
    audit_entries,
    bans,
    comments,
    presenters,
    schemas,
    sites,
    threads,
    tokens,
)
from engagement.openapi import STAFF_SECURITY, documented
from engagement.pagination import Listing
from engagement.staff import access
from engagement.staff.auth import current_staff
from engagement.staff.comment_view import StaffCommentSchema, staff_comment

bp = Blueprint("moderation", __name__, url_prefix="/api/v1/moderation")
# The one-click Approve / Spam / Trash links of moderator alert mails.
links = Blueprint("moderation_links", __name__, url_prefix="/mail")
TAGS = ["moderation"]


@bp.before_request
def authenticate() -> None:
    current_staff()


def staff_doc(summary: str, **kwargs: Any):
    return documented(summary, tags=TAGS, security=STAFF_SECURITY, **kwargs)


def _listing(schema: type[schemas.Schema], listing: Listing, present: Any) -> Response:
    return jsonify(
        schema().dump({"items": [present(i) for i in listing.items], "next_cursor": listing.next_cursor})
    )


# --- comments ------------------------------------------------------------------------------------------


@bp.get("/comments")
@staff_doc(
    "The moderation queue",
    query=schemas.QueueQuery,
    responses={200: schemas.CommentListSchema},
    errors=(404, 422),
)
def comment_queue() -> Response:
    args = load_query(schemas.QueueQuery)
    listing = comments.comment_queue(token=current_staff(), **args)
    return _listing(schemas.CommentListSchema, listing, staff_comment)


@bp.get("/comments/<int:comment_id>")
@staff_doc("One comment in full", responses={200: schemas.StaffCommentSchema}, errors=(404,))
def get_comment(comment_id: int) -> Response:
    comment = comments.get_comment(token=current_staff(), comment_id=comment_id)
    return jsonify(StaffCommentSchema().dump(staff_comment(comment)))


@bp.patch("/comments/<int:comment_id>")
@staff_doc(
    "Approve, hold, spam, trash or restore a comment; edit its body; pin it",
    body=schemas.UpdateCommentSchema,
    responses={200: schemas.StaffCommentSchema},
    errors=(404, 409),
)
def update_comment(comment_id: int) -> Response:
    data = load_body(schemas.UpdateCommentSchema)
    comment = comments.update_comment(token=current_staff(), comment_id=comment_id, **data)
    return jsonify(StaffCommentSchema().dump(staff_comment(comment)))


@bp.delete("/comments/<int:comment_id>")
@staff_doc("Hard delete (admins; moderators use trash)", responses={204: None}, errors=(404,))
def delete_comment(comment_id: int) -> tuple[str, int]:
    comments.delete_comment(token=current_staff(), comment_id=comment_id)
    return "", 204


@bp.post("/comments/bulk")
@staff_doc(
    "One action on many comments in one transaction",
    body=schemas.BulkSchema,
    responses={200: schemas.BulkResultSchema},
)
def bulk_moderate() -> Response:
    data = load_body(schemas.BulkSchema)
    updated, failed = comments.bulk_moderate(token=current_staff(), **data)
    return jsonify(schemas.BulkResultSchema().dump({"updated": updated, "failed": failed}))


@bp.post("/comments/<int:comment_id>/ban-author")
@staff_doc(
    "Ban a comment's author by email and/or IP",
    body=schemas.BanAuthorSchema,
    responses={201: schemas.BanAuthorResultSchema},
    errors=(404, 409),
)
def ban_author(comment_id: int) -> tuple[Response, int]:
    data = load_body(schemas.BanAuthorSchema)
    created, trashed = bans.ban_author(token=current_staff(), comment_id=comment_id, **data)
    slugs = access.site_slugs()
    body = {"bans": [presenters.ban(b, slugs) for b in created], "trashed": trashed}
    return jsonify(schemas.BanAuthorResultSchema().dump(body)), 201


@bp.get("/summary")
@staff_doc("Comments per status and oldest pending, per site", responses={200: schemas.SummarySchema})
def summary() -> Response:
    sites = [presenters.site_summary(row) for row in comments.summary(token=current_staff())]
    return jsonify(schemas.SummarySchema().dump({"sites": sites}))


# --- bans ----------------------------------------------------------------------------------------------


@bp.get("/bans")
@staff_doc(
    "Bans of the token's sites", query=schemas.BanQuery, responses={200: schemas.BanListSchema}, errors=(404,)
)
def list_bans() -> Response:
    args = load_query(schemas.BanQuery)
    listing = bans.list_bans(token=current_staff(), **args)
    slugs = access.site_slugs()
    return _listing(schemas.BanListSchema, listing, lambda b: presenters.ban(b, slugs))


@bp.post("/bans")
@staff_doc(
    "Ban an email, IP, domain or word",
    body=schemas.CreateBanSchema,
    responses={201: schemas.BanSchema},
    errors=(404,),
)
def create_ban() -> tuple[Response, int]:
    data = load_body(schemas.CreateBanSchema)
    ban = bans.create_ban(token=current_staff(), **data)
    return jsonify(schemas.BanSchema().dump(presenters.ban(ban, access.site_slugs()))), 201


@bp.delete("/bans/<int:ban_id>")
@staff_doc("Lift a ban", responses={204: None}, errors=(404,))
def delete_ban(ban_id: int) -> tuple[str, int]:
    bans.delete_ban(token=current_staff(), ban_id=ban_id)
    return "", 204


# --- threads -------------------------------------------------------------------------------------------


@bp.get("/sites/<site>/threads")
@staff_doc(
    "Threads of a site", query=schemas.ThreadsQuery, responses={200: schemas.ThreadListSchema}, errors=(404,)
)
def list_threads(site: str) -> Response:
    args = load_query(schemas.ThreadsQuery)
    listing = threads.list_threads(token=current_staff(), site=site, **args)
    return _listing(schemas.ThreadListSchema, listing, presenters.thread)


@bp.patch("/sites/<site>/threads")
@staff_doc(
    "Close, reopen or retitle a thread (?key=KEY)",
    query=schemas.ThreadKeyQuery,
    body=schemas.UpdateThreadSchema,
    responses={200: schemas.StaffThreadSchema},
    errors=(404,),
)
def update_thread(site: str) -> Response:
    key = load_query(schemas.ThreadKeyQuery)["key"]
    data = load_body(schemas.UpdateThreadSchema)
    thread = threads.update_thread(
        token=current_staff(), site=site, key=key, closed=data.get("closed"), title=data.get("title")
    )
    return jsonify(schemas.StaffThreadSchema().dump(presenters.thread(thread)))


# --- sites ---------------------------------------------------------------------------------------------

_SITE_FIELDS = ("slug", "name", "origins")


@bp.get("/sites")
@staff_doc("Sites the token may see", responses={200: schemas.SiteListSchema})
def list_sites() -> Response:
    items = [presenters.site(s) for s in sites.list_sites(token=current_staff())]
    return jsonify(schemas.SiteListSchema().dump({"items": items, "next_cursor": None}))


@bp.post("/sites")
@staff_doc(
    "Create a site (admin)", body=schemas.CreateSiteSchema, responses={201: schemas.SiteSchema}, errors=(409,)
)
def create_site() -> tuple[Response, int]:
    data = load_body(schemas.CreateSiteSchema)
    settings = {k: v for k, v in data.items() if k not in _SITE_FIELDS}
    site = sites.create_site(
        token=current_staff(),
        slug=data["slug"],
        name=data["name"],
        origins=data["origins"],
        settings=settings,
    )
    return jsonify(schemas.SiteSchema().dump(presenters.site(site))), 201


@bp.get("/sites/<site>")
@staff_doc("One site and its settings", responses={200: schemas.SiteSchema}, errors=(404,))
def get_site(site: str) -> Response:
    return jsonify(schemas.SiteSchema().dump(presenters.site(access.site_in_scope(current_staff(), site))))


@bp.patch("/sites/<site>")
@staff_doc(
    "Change a site's name, origins or settings (admin)",
    body=schemas.UpdateSiteSchema,
    responses={200: schemas.SiteSchema},
    errors=(404,),
)
def update_site(site: str) -> Response:
    data = load_body(schemas.UpdateSiteSchema)
    settings = {k: v for k, v in data.items() if k not in _SITE_FIELDS}
    updated = sites.update_site(
        token=current_staff(),
        slug=site,
        name=data.get("name"),
        origins=data.get("origins"),
        settings=settings,
    )
    return jsonify(schemas.SiteSchema().dump(presenters.site(updated)))


# --- tokens --------------------------------------------------------------------------------------------


@bp.get("/tokens")
@staff_doc("Staff tokens, never their secrets (admin)", responses={200: schemas.TokenListSchema})
def list_tokens() -> Response:
    items = [presenters.token(t) for t in tokens.list_tokens(token=current_staff())]
    return jsonify(schemas.TokenListSchema().dump({"items": items, "next_cursor": None}))


@bp.post("/tokens")
@staff_doc(
    "Issue a token; its secret is shown once (admin)",
    body=schemas.CreateTokenSchema,
    responses={201: schemas.CreatedTokenSchema},
    errors=(404,),
)
def create_token() -> tuple[Response, int]:
    data = load_body(schemas.CreateTokenSchema)
    created, secret = tokens.create_token(
        token=current_staff(), role=data["role"], site_slugs=data["sites"], label=data["label"]
    )
    return jsonify(schemas.CreatedTokenSchema().dump({**presenters.token(created), "token": secret})), 201


@bp.delete("/tokens/<int:token_id>")
@staff_doc("Revoke a token (admin)", responses={200: schemas.TokenSchema}, errors=(404,))
def revoke_token(token_id: int) -> Response:
    revoked = tokens.revoke_token(token=current_staff(), token_id=token_id)
    return jsonify(schemas.TokenSchema().dump(presenters.token(revoked)))


# --- audit ---------------------------------------------------------------------------------------------


@bp.get("/audit")
@staff_doc(
    "Every decision by staff or the spam rules",
    query=schemas.AuditQuery,
    responses={200: schemas.AuditListSchema},
    errors=(404,),
)
def audit_log() -> Response:
    args = load_query(schemas.AuditQuery)
    listing = audit_entries.list_entries(token=current_staff(), **args)
    slugs = access.site_slugs()
    return _listing(schemas.AuditListSchema, listing, lambda e: presenters.audit_entry(e, slugs))


# --- pages opened from moderator alert mails (engagement.mailer.pages) ---------------------------------


@links.get("/moderate/<token>")
@documented("Page asking to approve, spam or trash a held comment", tags=TAGS, responses=LINK_PAGE_RESPONSES)
def moderate_page(token: str) -> Response:
    return _link_page(step="ask", subject=alerts.describe_moderation_link(token))


@links.post("/moderate/<token>")
@documented("Approve, spam or trash a held comment, once", tags=TAGS, responses=LINK_PAGE_RESPONSES)
def moderate(token: str) -> Response:
    return _link_page(step="done", subject=alerts.moderate_by_link(token))


def _link_page(*, step: str, subject: Any, error: ApiError | None = None, status: int = 200) -> Response:
    purpose = "" if step == "refused" else "moderate"
    return link_page(MAIL_LINK_PAGE, status=status, step=step, purpose=purpose, subject=subject, error=error)


def _refused(error: ApiError) -> Response:
    return _link_page(step="refused", subject=None, error=error, status=error.status)


serve_link_pages(links, _refused)

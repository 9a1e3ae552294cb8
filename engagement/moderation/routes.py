"""Staff moderation API under /api/v1/moderation. Every route needs a staff bearer token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from engagement.api import arguments, response, staff_doc
from engagement.errors import ApiError
from engagement.mailer.pages import MAIL_LINK_PAGE, declare_link_page, link_page, serve_link_pages
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
from engagement.pagination import Listing
from engagement.staff import access
from engagement.staff.auth import current_staff
from engagement.staff.comment_view import staff_comment, staff_comments

bp = Blueprint("moderation", __name__, url_prefix="/api/v1/moderation")
# The one-click Approve / Spam / Trash links of moderator alert mails.
links = Blueprint("moderation_links", __name__, url_prefix="/mail")
TAGS = ["moderation"]


@bp.before_request
def authenticate() -> None:
    current_staff()


def _listing(listing: Listing, present: Any) -> dict[str, Any]:
    return {"items": [present(item) for item in listing.items], "next_cursor": listing.next_cursor}


# --- comments ------------------------------------------------------------------------------------------


@bp.get("/comments")
@staff_doc("The moderation queue", tags=TAGS, errors=(404,))
@arguments(schemas.QueueQuery, location="query")
@response(200, schemas.CommentListSchema)
def comment_queue(args: dict[str, Any]) -> dict[str, Any]:
    listing = comments.comment_queue(token=current_staff(), **args)
    return {"items": staff_comments(listing.items), "next_cursor": listing.next_cursor}


@bp.get("/comments/<int:comment_id>")
@staff_doc("One comment in full", tags=TAGS, errors=(404,))
@response(200, schemas.StaffCommentSchema)
def get_comment(comment_id: int) -> dict[str, Any]:
    return staff_comment(comments.get_comment(token=current_staff(), comment_id=comment_id))


@bp.patch("/comments/<int:comment_id>")
@staff_doc(
    "Approve, hold, spam, trash or restore a comment; edit its body; pin it", tags=TAGS, errors=(404, 409)
)
@arguments(schemas.UpdateCommentSchema)
@response(200, schemas.StaffCommentSchema)
def update_comment(update: dict[str, Any], comment_id: int) -> dict[str, Any]:
    return staff_comment(comments.update_comment(token=current_staff(), comment_id=comment_id, **update))


@bp.delete("/comments/<int:comment_id>")
@staff_doc("Hard delete (admins; moderators use trash)", tags=TAGS, errors=(404,))
@response(204)
def delete_comment(comment_id: int) -> None:
    comments.delete_comment(token=current_staff(), comment_id=comment_id)


@bp.post("/comments/bulk")
@staff_doc("One action on many comments in one transaction", tags=TAGS)
@arguments(schemas.BulkSchema)
@response(200, schemas.BulkResultSchema)
def bulk_moderate(bulk: dict[str, Any]) -> dict[str, Any]:
    updated, failed = comments.bulk_moderate(token=current_staff(), **bulk)
    return {"updated": updated, "failed": failed}


@bp.post("/comments/<int:comment_id>/ban-author")
@staff_doc("Ban a comment's author by email and/or IP", tags=TAGS, errors=(404, 409))
@arguments(schemas.BanAuthorSchema)
@response(201, schemas.BanAuthorResultSchema)
def ban_author(ban: dict[str, Any], comment_id: int) -> dict[str, Any]:
    created, trashed = bans.ban_author(token=current_staff(), comment_id=comment_id, **ban)
    slugs = access.site_slugs()
    return {"bans": [presenters.ban(b, slugs) for b in created], "trashed": trashed}


@bp.get("/summary")
@staff_doc("Comments per status and oldest pending, per site", tags=TAGS)
@response(200, schemas.SummarySchema)
def summary() -> dict[str, Any]:
    return {"sites": [presenters.site_summary(row) for row in comments.summary(token=current_staff())]}


# --- bans ----------------------------------------------------------------------------------------------


@bp.get("/bans")
@staff_doc("Bans of the token's sites", tags=TAGS, errors=(404,))
@arguments(schemas.BanQuery, location="query")
@response(200, schemas.BanListSchema)
def list_bans(args: dict[str, Any]) -> dict[str, Any]:
    listing = bans.list_bans(token=current_staff(), **args)
    slugs = access.site_slugs()
    return _listing(listing, lambda b: presenters.ban(b, slugs))


@bp.post("/bans")
@staff_doc("Ban an email, IP, domain or word", tags=TAGS, errors=(404,))
@arguments(schemas.CreateBanSchema)
@response(201, schemas.BanSchema)
def create_ban(ban: dict[str, Any]) -> dict[str, Any]:
    return presenters.ban(bans.create_ban(token=current_staff(), **ban), access.site_slugs())


@bp.delete("/bans/<int:ban_id>")
@staff_doc("Lift a ban", tags=TAGS, errors=(404,))
@response(204)
def delete_ban(ban_id: int) -> None:
    bans.delete_ban(token=current_staff(), ban_id=ban_id)


# --- threads -------------------------------------------------------------------------------------------


@bp.get("/sites/<site>/threads")
@staff_doc("Threads of a site", tags=TAGS, errors=(404,))
@arguments(schemas.ThreadsQuery, location="query")
@response(200, schemas.ThreadListSchema)
def list_threads(args: dict[str, Any], site: str) -> dict[str, Any]:
    return _listing(threads.list_threads(token=current_staff(), site=site, **args), presenters.thread)


@bp.patch("/sites/<site>/threads")
@staff_doc("Close, reopen or retitle a thread (?key=KEY)", tags=TAGS, errors=(404,))
@arguments(schemas.ThreadKeyQuery, location="query")
@arguments(schemas.UpdateThreadSchema)
@response(200, schemas.StaffThreadSchema)
def update_thread(args: dict[str, Any], update: dict[str, Any], site: str) -> dict[str, Any]:
    thread = threads.update_thread(
        token=current_staff(),
        site=site,
        key=args["key"],
        closed=update.get("closed"),
        title=update.get("title"),
    )
    return presenters.thread(thread)


# --- sites ---------------------------------------------------------------------------------------------

_SITE_FIELDS = ("slug", "name", "origins")


@bp.get("/sites")
@staff_doc("Sites the token may see", tags=TAGS)
@response(200, schemas.SiteListSchema)
def list_sites() -> dict[str, Any]:
    return _listing(Listing(list(sites.list_sites(token=current_staff())), None), presenters.site)


@bp.post("/sites")
@staff_doc("Create a site (admin)", tags=TAGS, errors=(409, 503))
@arguments(schemas.CreateSiteSchema)
@response(201, schemas.SiteSchema)
def create_site(new: dict[str, Any]) -> dict[str, Any]:
    site = sites.create_site(
        token=current_staff(),
        slug=new["slug"],
        name=new["name"],
        origins=new["origins"],
        settings={k: v for k, v in new.items() if k not in _SITE_FIELDS},
    )
    return presenters.site(site)


@bp.get("/sites/<site>")
@staff_doc("One site and its settings", tags=TAGS, errors=(404,))
@response(200, schemas.SiteSchema)
def get_site(site: str) -> dict[str, Any]:
    return presenters.site(access.site_in_scope(current_staff(), site))


@bp.patch("/sites/<site>")
@staff_doc("Change a site's name, origins or settings (admin)", tags=TAGS, errors=(404, 503))
@arguments(schemas.UpdateSiteSchema)
@response(200, schemas.SiteSchema)
def update_site(update: dict[str, Any], site: str) -> dict[str, Any]:
    updated = sites.update_site(
        token=current_staff(),
        slug=site,
        name=update.get("name"),
        origins=update.get("origins"),
        settings={k: v for k, v in update.items() if k not in _SITE_FIELDS},
    )
    return presenters.site(updated)


# --- tokens --------------------------------------------------------------------------------------------


@bp.get("/tokens")
@staff_doc("Staff tokens, never their secrets (admin)", tags=TAGS)
@response(200, schemas.TokenListSchema)
def list_tokens() -> dict[str, Any]:
    return _listing(Listing(list(tokens.list_tokens(token=current_staff())), None), presenters.token)


@bp.post("/tokens")
@staff_doc("Issue a token; its secret is shown once (admin)", tags=TAGS, errors=(404,))
@arguments(schemas.CreateTokenSchema)
@response(201, schemas.CreatedTokenSchema)
def create_token(new: dict[str, Any]) -> dict[str, Any]:
    created, secret = tokens.create_token(
        token=current_staff(), role=new["role"], site_slugs=new["sites"], label=new["label"]
    )
    return {**presenters.token(created), "token": secret}


@bp.delete("/tokens/<int:token_id>")
@staff_doc("Revoke a token (admin)", tags=TAGS, errors=(404,))
@response(200, schemas.TokenSchema)
def revoke_token(token_id: int) -> dict[str, Any]:
    return presenters.token(tokens.revoke_token(token=current_staff(), token_id=token_id))


# --- audit ---------------------------------------------------------------------------------------------


@bp.get("/audit")
@staff_doc("Every decision by staff or the spam rules", tags=TAGS, errors=(404,))
@arguments(schemas.AuditQuery, location="query")
@response(200, schemas.AuditListSchema)
def audit_log(args: dict[str, Any]) -> dict[str, Any]:
    listing = audit_entries.list_entries(token=current_staff(), **args)
    slugs = access.site_slugs()
    return _listing(listing, lambda e: presenters.audit_entry(e, slugs))


# --- pages opened from moderator alert mails (engagement.mailer.pages) ---------------------------------


@links.get("/moderate/<token>")
@declare_link_page("Page asking to approve, spam or trash a held comment", tags=TAGS)
def moderate_page(token: str) -> Response:
    return _link_page(step="ask", subject=alerts.describe_moderation_link(token))


@links.post("/moderate/<token>")
@declare_link_page("Approve, spam or trash a held comment, once", tags=TAGS)
def moderate(token: str) -> Response:
    return _link_page(step="done", subject=alerts.moderate_by_link(token))


def _link_page(*, step: str, subject: Any, error: ApiError | None = None, status: int = 200) -> Response:
    purpose = "" if step == "refused" else "moderate"
    return link_page(MAIL_LINK_PAGE, status=status, step=step, purpose=purpose, subject=subject, error=error)


def _refused(error: ApiError) -> Response:
    return _link_page(step="refused", subject=None, error=error, status=error.status)


serve_link_pages(links, _refused)

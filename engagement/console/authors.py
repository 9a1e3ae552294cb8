"""The author panel beside a queue card (what else this author wrote on the site, and the bans they fall
under), and banning or unbanning them from the console.

Everything is reached from one of the author's comments, through the moderation service's permission
check (``get_comment``: 404, 403) and ``engagement.staff.access``: there is no way to ask about an email
address, so the panel cannot be used to find out who comments where. The author is the comment's email
on its site (the (site, email) indexes answer every query); without an email, its IP hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from marshmallow import EXCLUDE, ValidationError, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from engagement import clock
from engagement.bans import BanRule, active_bans, matching_bans
from engagement.console import auth, queue
from engagement.console.blueprint import bp, page, wants_json
from engagement.errors import ValidationFailed
from engagement.extensions import db
from engagement.models import Comment, Site
from engagement.moderation import bans, comments
from engagement.moderation.schemas import BanAuthorSchema
from engagement.staff import access

RECENT = 10
FRAGMENT_HEADER = "X-Console-Fragment"
KIND_LABELS = {"email": "Email", "ip": "IP", "domain": "Email domain", "sso": "Site user id"}
GUEST_KIND_LABELS = {k: v for k, v in KIND_LABELS.items() if k != "sso"}
EXPIRIES = {"1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30), "forever": None}
EXPIRY_LABELS = {"1d": "1 day", "7d": "7 days", "30d": "30 days", "forever": "Forever"}


class BanForm(BanAuthorSchema):
    """The API's ban-author fields (so the same messages), with the email's domain as a third kind and
    the expiry as a choice of durations rather than a timestamp."""

    class Meta:
        unknown = EXCLUDE  # the CSRF token rides along
        exclude = ("expires_at",)

    kinds = fields.List(
        fields.String(validate=validate.OneOf(tuple(KIND_LABELS))),
        required=True,
        validate=validate.Length(min=1, error="Choose at least one: email, IP or email domain."),
    )
    expires = fields.String(load_default="forever", validate=validate.OneOf(tuple(EXPIRIES)))


@dataclass(frozen=True)
class Recent:
    comment: Comment
    excerpt: str
    ago: str


@dataclass(frozen=True)
class AuthorPanel:
    """One author on one site, as seen from one of their comments."""

    comment: Comment
    site: Site
    counts: dict[str, int]
    total: int
    first_seen: datetime | None
    rejection_rate: int | None  # percent of their comments in spam or trash
    bans: list[BanRule]
    recent: list[Recent]

    @property
    def domain(self) -> str:
        return email_domain(self.comment.author_email)


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower() if "@" in email else ""


def author_panel(*, principal: Any, comment_id: int) -> AuthorPanel:
    """The panel for the author of ``comment_id`` (404 unknown, 403 another site's)."""
    comment = comments.get_comment(token=principal, comment_id=comment_id)
    site = comment.thread.site
    access.require_site(principal, site)
    same = _same_author(comment)
    counts = dict.fromkeys(("pending", "approved", "spam", "trash"), 0)
    counts.update(
        db.session.execute(select(Comment.status, func.count()).where(*same).group_by(Comment.status)).all()
    )
    total = sum(counts.values())
    first_seen = db.session.scalar(select(func.min(Comment.created_at)).where(*same))
    rows = db.session.scalars(
        select(Comment)
        .options(joinedload(Comment.thread))
        .where(*same)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(RECENT)
    ).all()
    now = clock.now()
    # The rule the spam filter applies to a new post of theirs, on the site's bans in force now.
    matched = matching_bans(
        active_bans(site.id, now),
        email=comment.author_email,
        sso_id=comment.author_sso_id,
        ip_hashes=(comment.ip_hash,) if comment.ip_hash else (),
        author_url=comment.author_url,
        folded_texts=list,
    )
    rejected = counts["spam"] + counts["trash"]
    return AuthorPanel(
        comment=comment,
        site=site,
        counts=counts,
        total=total,
        first_seen=queue.as_utc(first_seen, now) if first_seen is not None else None,
        rejection_rate=round(100 * rejected / total) if total else None,
        bans=matched,
        recent=[
            Recent(c, queue.excerpt(c.body), queue.relative_time(queue.as_utc(c.created_at, now), now))
            for c in rows
        ],
    )


def ban_author(
    *,
    principal: Any,
    comment_id: int,
    kinds: list[str],
    expires: str,
    action: str,
    trash_existing: bool,
    note: str,
) -> str:
    """Ban the author of ``comment_id`` by email, IP and/or email domain through the moderation
    services (``ban_author`` for email and IP, ``create_ban`` for the domain); returns what was done.
    A kind the comment has no value for is a field error, before anything is written."""
    comment = comments.get_comment(token=principal, comment_id=comment_id)
    values = {
        "email": comment.author_email,
        "ip": comment.ip_hash,
        "domain": email_domain(comment.author_email),
        "sso": comment.author_sso_id,
    }
    missing = [KIND_LABELS[kind].lower() for kind in kinds if not values[kind]]
    if missing:
        raise ValidationFailed({"kinds": [f"This comment has no {' or '.join(missing)} to ban."]})
    delta = EXPIRIES[expires]
    expires_at = None if delta is None else clock.now() + delta
    kinds = list(dict.fromkeys(kinds))
    trashed: list[int] = []
    by_author = [kind for kind in kinds if kind != "domain"]
    if by_author:
        _, trashed = bans.ban_author(
            token=principal,
            comment_id=comment_id,
            kinds=by_author,
            action=action,
            trash_existing=trash_existing,
            expires_at=expires_at,
            note=note,
        )
    if "domain" in kinds:
        bans.create_ban(
            token=principal,
            site=comment.thread.site.slug,
            kind="domain",
            value=values["domain"],
            action=action,
            expires_at=expires_at,
            note=note,
        )
    what = ", ".join(KIND_LABELS[kind].lower() for kind in kinds)
    until = "for good" if delta is None else f"for {EXPIRY_LABELS[expires]}"
    message = f"Banned the author of comment {comment_id} by {what}, {until}."
    if trashed:
        message += f" {len(trashed)} of their comments moved to trash."
    return message


# --- routes ------------------------------------------------------------------------------------------


@bp.get("/comments/<int:comment_id>/author")
def author_page(comment_id: int) -> Response:
    # queue.js asks for the panel alone (into the aside beside the card); without script it is a page.
    panel = author_panel(principal=auth.current_principal(), comment_id=comment_id)
    if request.headers.get(FRAGMENT_HEADER) == "1":
        html = render_template("console/_author_panel.html", panel=panel, csrf_token=auth.csrf_token())
        return Response(html, mimetype="text/html")
    return page("console/author.html", panel=panel)


@bp.get("/comments/<int:comment_id>/ban")
def ban_page(comment_id: int) -> Response:
    comment = comments.get_comment(token=auth.current_principal(), comment_id=comment_id)
    first = "sso" if comment.author_sso_id is not None else "email"
    return _ban_form(comment, typed={"kinds": [first], "expires": "forever"}, errors={})


@bp.post("/comments/<int:comment_id>/ban")
def ban(comment_id: int) -> Response | dict[str, Any]:
    principal = auth.current_principal()
    typed = {**request.form.to_dict(), "kinds": request.form.getlist("kinds")}
    try:
        form = BanForm().load(typed)
        message = ban_author(principal=principal, comment_id=comment_id, **form)
    except (ValidationError, ValidationFailed) as error:
        messages = _by_field(error.messages if isinstance(error, ValidationError) else error.fields)
        if wants_json():
            raise ValidationFailed(messages) from None
        comment = comments.get_comment(token=principal, comment_id=comment_id)
        return _ban_form(comment, typed=typed, errors=messages, status=422)
    if wants_json():
        return {"id": comment_id, "message": message}
    return redirect(url_for("console.author_page", comment_id=comment_id), 303)


@bp.post("/bans/<int:ban_id>/delete")
def unban(ban_id: int) -> Response | dict[str, Any]:
    bans.delete_ban(token=auth.current_principal(), ban_id=ban_id)
    message = f"Ban {ban_id} lifted."
    if wants_json():
        return {"id": ban_id, "message": message}
    comment_id = request.form.get("comment", type=int)
    if comment_id is None:
        return redirect(url_for("console.queue_page"), 303)
    return redirect(url_for("console.author_page", comment_id=comment_id), 303)


def _ban_form(comment: Comment, *, typed: dict[str, Any], errors: Any, status: int = 200) -> Response:
    return page(
        "console/ban.html",
        status=status,
        comment=comment,
        typed=typed,
        errors=errors,
        # A guest has no site user id: the choice is offered for a signed-in reader's comment only.
        kinds=KIND_LABELS if comment.author_sso_id is not None else GUEST_KIND_LABELS,
        expiries=EXPIRY_LABELS,
    )


def _by_field(messages: Any) -> dict[str, list[str]]:
    """Each field's messages as a list of text (a list field's come per item: ``{0: [...]}``)."""
    if not isinstance(messages, dict):
        return {"_schema": [str(messages)]}
    return {name: _texts(value) for name, value in messages.items()}


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict | list):
        items = value.values() if isinstance(value, dict) else value
        return list(dict.fromkeys(text for item in items for text in _texts(item)))
    return [str(value)]


def _same_author(comment: Comment) -> list[Any]:
    """Conditions for the author's comments on the comment's site, each answered from an index led by
    (site_id, author_sso_id), (site_id, author_email) or (site_id, ip_hash)."""
    if comment.author_sso_id is not None:
        return [Comment.site_id == comment.site_id, Comment.author_sso_id == comment.author_sso_id]
    if comment.author_email:
        return [Comment.site_id == comment.site_id, Comment.author_email == comment.author_email]
    if comment.ip_hash:
        return [Comment.site_id == comment.site_id, Comment.ip_hash == comment.ip_hash]
    return [Comment.id == comment.id]
